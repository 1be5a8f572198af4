"""Trace hooks of the LSTM (TP §2, Cours): the course's ``z_f, f, z_i, i, z_C, C̃, C,
z_o, o, tanh(C), h`` from the core's fused gates (i, f, g = C̃, o)."""

from __future__ import annotations

import numpy as np

from ... import cells
from ...cells import lstm as lstm_cell
from ..backward import _p
from . import shapes_over_hx, sizes_over_hx
from ..record import Line, _affine, _unit

STATE_KEYS = ("h", "C")
FORWARD_KEYS = ("z_f", "f", "z_i", "i", "z_C", "C_tilde", "C", "z_o", "o", "tanh_C", "h")
BACKWARD_KEYS = ("d_h", "d_C", "d_o", "d_tanh_C", "d_f", "d_i", "d_C_tilde",
                 "d_z_f", "d_z_i", "d_z_C", "d_z_o", "d_h_prev", "d_C_prev")
FORMULAS = {
    "z_f": "W_f × [h_{t-1}, x_t] + b_f", "f": "σ(z_f)",
    "z_i": "W_i × [h_{t-1}, x_t] + b_i", "i": "σ(z_i)",
    "z_C": "W_C × [h_{t-1}, x_t] + b_C", "C_tilde": "tanh(z_C)",
    "C": "f_t ⊙ C_{t-1} + i_t ⊙ C̃_t",
    "z_o": "W_o × [h_{t-1}, x_t] + b_o", "o": "σ(z_o)",
    "tanh_C": "tanh(C_t)", "h": "o_t ⊙ tanh(C_t)",
}
BACKWARD_FORMULAS = {
    "d_h": "∂L/∂h_t (from t+1) + ∂L/∂h_t (given)",
    "d_C": "∂L/∂C_t (from t+1) + ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(C_t))",
    "d_o": "∂L/∂h_t ⊙ tanh(C_t)",
    "d_tanh_C": "∂L/∂h_t ⊙ o_t",
    "d_f": "∂L/∂C_t ⊙ C_{t-1}",
    "d_i": "∂L/∂C_t ⊙ C̃_t",
    "d_C_tilde": "∂L/∂C_t ⊙ i_t",
    "d_z_f": "∂L/∂f_t ⊙ f_t(1 − f_t)",
    "d_z_i": "∂L/∂i_t ⊙ i_t(1 − i_t)",
    "d_z_C": "∂L/∂C̃_t ⊙ (1 − C̃_t²)",
    "d_z_o": "∂L/∂o_t ⊙ o_t(1 − o_t)",
    "d_h_prev": "Σ_g W_g[:, h]ᵀ ∂L/∂z_g",
    "d_C_prev": "∂L/∂C_t ⊙ f_t",
}
COURSE_WEIGHTS = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")  # the course's order f, i, C, o
COURSE_GATES = ("f", "i", "C", "o")
OUTPUT_LAYER = False
EXAMPLE = {"cell": "lstm", "notation": "course",
           "weights": {"W_f": [[0.1, 0.2]], "b_f": [0.0], "W_i": [[0.3, -0.1]], "b_i": [0.1],
                       "W_C": [[0.2, 0.4]], "b_C": [0.0], "W_o": [[0.1, 0.3]], "b_o": [0.0]},
           "inputs": [1.0, 0.5, -0.3], "initial_state": {"h": [0.0], "C": [0.0]},
           "upstream": {"h": {"1": [0.1]}}}
params_from_course = lstm_cell.params_from_course


def _blocks(H):
    """The course's gate -> its rows in the fused gates (the core's g is the course's C̃)."""
    fused = {"i": "i", "f": "f", "C": "g", "o": "o"}
    return {course: cells.get("lstm").gate_rows(g, H) for course, g in fused.items()}


def describe(options):
    return "LSTM"


def formula(key, options, backward=False):
    return (BACKWARD_FORMULAS if backward else FORMULAS).get(key, "")


def course_view(params, options):
    return lstm_cell.params_to_course(params)


def given(trace):
    return [(name, trace.course[name]) for name in COURSE_WEIGHTS]


def config_options(src, options, notation):
    return options


def course_sizes(src, weights, array):
    return sizes_over_hx(src, weights, array, "f")


def course_shapes(H, D):
    return shapes_over_hx(COURSE_WEIGHTS, H, D)


def record(trace, t, cache, x_t, h_prev):
    H = trace.hidden_size
    z, gates = cache["z"][0], cache["gates"][0]  # (4H,) in PyTorch's order i, f, g, o
    block = _blocks(H)
    c_prev = cache["c_prev"][0]
    values = {
        "z_f": z[block["f"]], "f": gates[block["f"]],
        "z_i": z[block["i"]], "i": gates[block["i"]],
        "z_C": z[block["C"]], "C_tilde": gates[block["C"]],
        "C": cache["c"][0], "z_o": z[block["o"]], "o": gates[block["o"]],
        "tanh_C": cache["tanh_c"][0], "h": cache["h"][0],
    }
    values = {k: v.copy() for k, v in values.items()}
    lines = []
    if trace.arithmetic:
        hx = np.concatenate([h_prev, x_t])  # [h_{t-1}, x_t]
        c = trace.course
        for j in range(H):
            u = _unit(j, H)
            for gate, act, name in (("f", "σ(", "f"), ("i", "σ(", "i"), ("C", "tanh(", "C_tilde")):
                pre = f"z_{gate}"
                lines.append(Line(pre, t, u, _affine(c[f"W_{gate}"][j], hx, c[f"b_{gate}"][j]),
                                  float(values[pre][j])))
                lines.append(Line(name, t, u, (act, float(values[pre][j]), ")"), float(values[name][j])))
            expr = (float(values["f"][j]), "×", float(c_prev[j]), "+",
                    float(values["i"][j]), "×", float(values["C_tilde"][j]))
            lines.append(Line("C", t, u, expr, float(values["C"][j])))
            lines.append(Line("z_o", t, u, _affine(c["W_o"][j], hx, c["b_o"][j]), float(values["z_o"][j])))
            lines.append(Line("o", t, u, ("σ(", float(values["z_o"][j]), ")"), float(values["o"][j])))
            lines.append(Line("tanh_C", t, u, ("tanh(", float(values["C"][j]), ")"),
                              float(values["tanh_C"][j])))
            lines.append(Line("h", t, u, (float(values["o"][j]), "×", float(values["tanh_C"][j])),
                              float(values["h"][j])))
    return values, lines


def record_backward(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
    H = trace.hidden_size
    gates = cache["gates"][0]
    blk = _blocks(H)
    i, f, g, o = (gates[blk[k]] for k in ("i", "f", "C", "o"))
    tanh_c, c_prev = cache["tanh_c"][0], cache["c_prev"][0]
    d_h, d_c_next = d_state_t[0][0], d_state_t[1][0]
    d_c = d_c_next + d_h * o * (1.0 - tanh_c * tanh_c)  # the links the core folds together
    values = {
        "d_h": d_h, "d_C": d_c, "d_o": d_h * tanh_c, "d_tanh_C": d_h * o,
        "d_f": d_c * c_prev, "d_i": d_c * g, "d_C_tilde": d_c * i,
        "d_z_f": d_xw[blk["f"]].copy(), "d_z_i": d_xw[blk["i"]].copy(),
        "d_z_C": d_xw[blk["C"]].copy(), "d_z_o": d_xw[blk["o"]].copy(),
        "d_h_prev": d_prev[0][0].copy(), "d_C_prev": d_prev[1][0].copy(),
    }
    lines = []
    if trace.arithmetic:
        c = trace.course
        for j in range(H):
            u = _unit(j, H)
            expr = (float(d_next[j]),) + (("+", float(up[j])) if up is not None else ())
            lines.append(Line("d_h", t, u, expr, float(d_h[j])))
            expr = (float(d_c_next[j]), "+", float(d_h[j]), "×", float(o[j]), "×",
                    "(", "1", "−", float(tanh_c[j]), "²", ")")
            lines.append(Line("d_C", t, u, expr, float(d_c[j])))
            lines.append(Line("d_o", t, u, _p(d_h[j], tanh_c[j]), float(values["d_o"][j])))
            lines.append(Line("d_tanh_C", t, u, _p(d_h[j], o[j]), float(values["d_tanh_C"][j])))
            lines.append(Line("d_f", t, u, _p(d_c[j], c_prev[j]), float(values["d_f"][j])))
            lines.append(Line("d_i", t, u, _p(d_c[j], g[j]), float(values["d_i"][j])))
            lines.append(Line("d_C_tilde", t, u, _p(d_c[j], i[j]), float(values["d_C_tilde"][j])))
            for gate, s in (("f", f), ("i", i), ("o", o)):
                expr = (float(values[f"d_{gate}"][j]), "×", float(s[j]), "×", "(", "1", "−", float(s[j]), ")")
                lines.append(Line(f"d_z_{gate}", t, u, expr, float(values[f"d_z_{gate}"][j])))
            expr = (float(values["d_C_tilde"][j]), "×", "(", "1", "−", float(g[j]), "²", ")")
            lines.append(Line("d_z_C", t, u, expr, float(values["d_z_C"][j])))
        for j in range(H):  # ∂L/∂h_{t-1}[j] = Σ_gates Σ_k W_gate[k, j] ∂L/∂z_gate[k]
            expr = []
            for gate in ("f", "i", "C", "o"):
                for k in range(H):
                    expr += (["+"] if expr else []) + list(_p(c[f"W_{gate}"][k, j], values[f"d_z_{gate}"][k]))
            lines.append(Line("d_h_prev", t, _unit(j, H), tuple(expr), float(values["d_h_prev"][j])))
            lines.append(Line("d_C_prev", t, _unit(j, H), _p(d_c[j], f[j]), float(values["d_C_prev"][j])))
    return values, lines


def gradient_names(trace):
    return [f"{k}_{g}" for g in COURSE_GATES for k in ("W", "b")]


def weight_factors(trace, t, cache, d_xw, d_hw, d_y=None):
    """This step's factors of each ∂L/∂W: W_g multiplies [h_{t-1}, x_t]."""
    hx = np.concatenate([cache["h_prev"][0], trace.x[t - 1]])  # [h_{t-1}, x_t]
    blk = _blocks(trace.hidden_size)
    factors = {}
    for g in COURSE_GATES:
        factors[f"W_{g}"], factors[f"b_{g}"] = (d_xw[blk[g]], hx), (d_xw[blk[g]], None)
    return factors
