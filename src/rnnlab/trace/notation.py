"""The course's names for the recorded quantities, in ASCII (JSON keys), Unicode (terminal,
Markdown, HTML) and LaTeX. Which quantities a cell has, in which order, and their formulas are
the cell's trace hooks (:mod:`rnnlab.trace.cells`); a key not listed here is shown as it is.
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
