"""The course's names for every recorded quantity, in ASCII (JSON keys), Unicode (terminal,
Markdown, HTML) and LaTeX, and the symbolic formula each one is computed by.

One table per cell, in the order the course computes them (TP §1.1 and §2.1, Chapitre):

* RNN: ``z, h, y`` (and ``p = softmax(y)`` where an exercise has one);
* LSTM: ``z_f, f, z_i, i, z_C, C_tilde, C, z_o, o, tanh_C, h``;
* GRU (the course's z: ``h_t = (1 − z_t) h_{t-1} + z_t h̃_t``): ``a_z, z, a_r, r, rh, a_h,
  h_tilde, h``.
"""

from __future__ import annotations

# ASCII key -> (Unicode, LaTeX)
SYMBOLS = {
    "x": ("x", "x"),
    "z": ("z", "z"),
    "h": ("h", "h"),
    "y": ("y", "y"),
    "p": ("softmax(y)", r"\mathrm{softmax}(y)"),
    "z_f": ("z_f", "z_f"), "f": ("f", "f"),
    "z_i": ("z_i", "z_i"), "i": ("i", "i"),
    "z_C": ("z_C", "z_C"), "C_tilde": ("C̃", r"\tilde{C}"),
    "C": ("C", "C"),
    "z_o": ("z_o", "z_o"), "o": ("o", "o"),
    "tanh_C": ("tanh(C)", r"\tanh(C)"),
    "a_z": ("a_z", "a_z"), "a_r": ("a_r", "a_r"), "r": ("r", "r"),
    "rh": ("r⊙h", r"r \odot h"), "hw_n": ("W_hn h + b_hn", r"W_{hn} h + b_{hn}"),
    "a_h": ("a_h", "a_h"), "h_tilde": ("h̃", r"\tilde{h}"),
}

# the forward quantities of each cell, in the course's order
FORWARD_KEYS = {
    "rnn": ("z", "h", "y", "p"),
    "lstm": ("z_f", "f", "z_i", "i", "z_C", "C_tilde", "C", "z_o", "o", "tanh_C", "h"),
    "gru": ("a_z", "z", "a_r", "r", "rh", "hw_n", "a_h", "h_tilde", "h"),
}

# the symbolic right-hand side of each quantity (Unicode; t is the step)
FORMULAS = {
    "rnn": {
        "z": "W_hh × h_{t-1} + W_xh × x_t + b_h",
        "h": "tanh(z_t)",
        "h_relu": "ReLU(z_t)",
        "y": "W_hy × h_t + b_y",
        "p": "softmax(y_t)",
    },
    "lstm": {
        "z_f": "W_f × [h_{t-1}, x_t] + b_f", "f": "σ(z_f)",
        "z_i": "W_i × [h_{t-1}, x_t] + b_i", "i": "σ(z_i)",
        "z_C": "W_C × [h_{t-1}, x_t] + b_C", "C_tilde": "tanh(z_C)",
        "C": "f_t ⊙ C_{t-1} + i_t ⊙ C̃_t",
        "z_o": "W_o × [h_{t-1}, x_t] + b_o", "o": "σ(z_o)",
        "tanh_C": "tanh(C_t)", "h": "o_t ⊙ tanh(C_t)",
    },
    "gru": {
        "a_z": "W_z × [h_{t-1}, x_t] + b_z", "z": "σ(a_z)",
        "a_r": "W_r × [h_{t-1}, x_t] + b_r", "r": "σ(a_r)",
        "rh": "r_t ⊙ h_{t-1}",
        "hw_n": "W_hn × h_{t-1} + b_hn",
        "a_h": "W × [r_t ⊙ h_{t-1}, x_t] + b",
        "a_h_after": "W_in × x_t + b_in + r_t ⊙ (W_hn × h_{t-1} + b_hn)",
        "h_tilde": "tanh(a_h)",
        "h": "(1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t",
    },
}

# backward quantities (∂L/∂·), in the order the chain rule visits them
BACKWARD_KEYS = {
    "rnn": ("d_y", "d_h", "d_z", "d_h_prev"),
    "lstm": ("d_h", "d_C", "d_o", "d_tanh_C", "d_f", "d_i", "d_C_tilde",
             "d_z_f", "d_z_i", "d_z_C", "d_z_o", "d_h_prev", "d_C_prev"),
    "gru": ("d_h", "d_h_tilde", "d_z", "d_a_h", "d_rh", "d_r", "d_a_z", "d_a_r", "d_h_prev"),
}


def symbol(key: str, style: str = "unicode") -> str:
    """The display name of an ASCII key; ``d_f`` -> ``∂L/∂f``; ``d_h_prev`` -> ``∂L/∂h_{t-1}``."""
    if key.startswith("d_"):
        base = key[2:]
        prev = base.endswith("_prev")
        if prev:
            base = base[: -len("_prev")]
        name = symbol(base, style)
        if style == "latex":
            name = f"{name}_{{t-1}}" if prev else name
            return rf"\frac{{\partial L}}{{\partial {name}}}"
        return f"∂L/∂{name}" + ("_{t-1}" if prev else "")
    uni, tex = SYMBOLS.get(key, (key, key))
    return tex if style == "latex" else uni


def indexed(key: str, t: int, unit: int | None = None, style: str = "unicode") -> str:
    """``f`` at t=1, unit 2 -> ``f_1[2]`` (Unicode) or ``f_{1,2}`` (LaTeX)."""
    if key.startswith("d_"):
        base = key[2:]
        prev = base.endswith("_prev")
        base = base[: -len("_prev")] if prev else base
        inner = indexed(base, t - 1 if prev else t, unit, style)
        return rf"\frac{{\partial L}}{{\partial {inner}}}" if style == "latex" else f"∂L/∂{inner}"
    name = symbol(key, style)
    if style == "latex":
        sub = f"{t}" if unit is None else f"{t},{unit}"
        if "_" in name and not name.startswith("\\"):
            head, tail = name.split("_", 1)
            return f"{head}_{{{tail},{sub}}}"
        if name.startswith(r"\tanh") or name.startswith(r"\mathrm") or " " in name:
            return f"[{name}]_{{{sub}}}"
        return f"{name}_{{{sub}}}"
    if "(" in name or "⊙" in name:
        name = f"[{name}]"
    sep = "," if "_" in name and not name.startswith("[") else "_"
    label = f"{name}{sep}{t}" if sep == "," else f"{name}_{t}"
    return label + (f"[{unit}]" if unit is not None else "")
