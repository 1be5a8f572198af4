"""Trace hooks of the GRU (Chapitre), in the course's convention: z_course = 1 − z_PyTorch,
``h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``; reset "before" (the course, Cho 2014) or "after"
(PyTorch)."""

from __future__ import annotations

import numpy as np

from ...cells import gru as gru_cell
from ...errors import ConfigError
from ...i18n import say
from ..backward import _p
from . import shapes_over_hx, sizes_over_hx
from ..record import SUFFIX, Line, _affine, _unit

STATE_KEYS = ("h",)
FORWARD_KEYS = ("a_z", "z", "a_r", "r", "rh", "hw_n", "a_h", "h_tilde", "h")
BACKWARD_KEYS = ("d_h", "d_h_tilde", "d_z", "d_a_h", "d_rh", "d_r", "d_a_z", "d_a_r", "d_h_prev")
FORMULAS = {
    "a_z": "W_z × [h_{t-1}, x_t] + b_z", "z": "σ(a_z)",
    "a_r": "W_r × [h_{t-1}, x_t] + b_r", "r": "σ(a_r)",
    "rh": "r_t ⊙ h_{t-1}",
    "hw_n": "W_hn × h_{t-1} + b_hn",
    "a_h": "W × [r_t ⊙ h_{t-1}, x_t] + b",
    "a_h_after": "W_in × x_t + b_in + r_t ⊙ (W_hn × h_{t-1} + b_hn)",
    "h_tilde": "tanh(a_h)",
    "h": "(1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t",
}
BACKWARD_FORMULAS = {
    "d_h": "∂L/∂h_t (from t+1) + ∂L/∂h_t (given)",
    "d_h_tilde": "∂L/∂h_t ⊙ z_t",
    "d_z": "∂L/∂h_t ⊙ (h̃_t − h_{t-1})",
    "d_a_h": "∂L/∂h̃_t ⊙ (1 − h̃_t²)",
    "d_rh": "W[:, h]ᵀ ∂L/∂a_h",
    "d_r": "∂L/∂(r⊙h) ⊙ h_{t-1}",
    "d_a_z": "∂L/∂z_t ⊙ z_t(1 − z_t)",
    "d_a_r": "∂L/∂r_t ⊙ r_t(1 − r_t)",
    "d_h_prev": "(1 − z_t) ⊙ ∂L/∂h_t + r_t ⊙ ∂L/∂(r⊙h) + W_zᵀ ∂L/∂a_z + W_rᵀ ∂L/∂a_r",
}
COURSE_WEIGHTS = ("W_z", "b_z", "W_r", "b_r", "W", "b")
OUTPUT_LAYER = False
EXAMPLE = {"cell": "gru", "notation": "course", "options": {"reset": "before"},
           "weights": {"W_z": [[0.2, -0.1, 0.5], [0.1, 0.3, -0.4]], "b_z": [0.0, 0.1],
                       "W_r": [[0.4, 0.1, -0.2], [-0.3, 0.2, 0.6]], "b_r": [0.1, 0.0],
                       "W": [[0.5, -0.2, 0.3], [0.1, 0.4, -0.5]], "b": [0.0, 0.05]},
           "inputs": [1.0, -0.5, 0.8], "initial_state": {"h": [0.1, -0.2]},
           "upstream": {"h": {"3": [1.0, 0.0]}}}
params_from_course = gru_cell.params_from_course


def _after(options):
    return options.get("reset", "after") == "after"


def describe(options):
    if _after(options):
        return "GRU — " + say("reset after the matmul (PyTorch)",
                              "réinitialisation après le produit (PyTorch)")
    return "GRU — " + say("reset before the matmul (Cho et al. 2014's reset, as in the Chapitre)",
                          "réinitialisation avant le produit (celle de Cho et al. 2014, comme le Chapitre)")


def formula(key, options, backward=False):
    if backward:
        return BACKWARD_FORMULAS.get(key, "")
    if key == "a_h" and _after(options):
        return FORMULAS["a_h_after"]
    return FORMULAS.get(key, "")


def course_view(params, options):
    full = gru_cell.params_to_course(params)
    if _after(options):  # W_hn and b_hn sit inside r ⊙ (…): only z and r have a course view
        return {k: full[k] for k in ("W_z", "b_z", "W_r", "b_r")}
    return full


def given(trace):
    out = list(trace.course.items())
    if _after(trace.options):
        fused = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")  # b_hn sits inside r ⊙ (…)
        out += [(key, trace.params[key]) for key in fused]
    return out


def config_options(src, options, notation):
    """The course's GRU weights (W_z, W_r, W) describe reset "before", the default there."""
    options.setdefault("reset", "before" if notation == "course" else "after")
    if notation == "course" and options["reset"] != "before":
        raise ConfigError(say(f"{src}: key 'options.reset': the course's GRU weights (W_z, W_r, W) describe "
                              f"reset 'before'; use notation 'pytorch' for reset 'after'",
                              f"{src} : clé « options.reset » : les poids du GRU du cours (W_z, W_r, W) "
                              f"décrivent « reset » « before » ; prendre la notation « pytorch » pour "
                              f"« reset » « after »"))
    return options


def course_sizes(src, weights, array):
    return sizes_over_hx(src, weights, array, "z")


def course_shapes(H, D):
    return shapes_over_hx(COURSE_WEIGHTS, H, D)


def record(trace, t, cache, x_t, h_prev):
    """The course's GRU: z_course = 1 − z_PyTorch (a_z = −a_z_PyTorch), h̃ = n."""
    H = trace.hidden_size
    before = trace.options.get("reset") == "before"
    a_rz = cache["a_rz"][0]
    values = {
        "a_z": -a_rz[H:], "z": 1.0 - cache["z"][0],
        "a_r": a_rz[:H].copy(), "r": cache["r"][0].copy(),
    }
    if before:
        values["rh"] = cache["rh"][0].copy()
    else:
        values["hw_n"] = cache["hw_n"][0].copy()
    values.update(a_h=cache["a_n"][0].copy(), h_tilde=cache["n"][0].copy(), h=cache["h"][0].copy())
    lines = []
    if trace.arithmetic:
        hx = np.concatenate([h_prev, x_t])
        p, c = trace.params, trace.course
        for j in range(H):
            u = _unit(j, H)
            for gate in ("z", "r"):
                pre = f"a_{gate}"
                lines.append(Line(pre, t, u, _affine(c[f"W_{gate}"][j], hx, c[f"b_{gate}"][j]),
                                  float(values[pre][j])))
                lines.append(Line(gate, t, u, ("σ(", float(values[pre][j]), ")"), float(values[gate][j])))
        for j in range(H):
            u = _unit(j, H)
            if before:
                lines.append(Line("rh", t, u, (float(values["r"][j]), "×", float(h_prev[j])),
                                  float(values["rh"][j])))
        for j in range(H):
            u = _unit(j, H)
            if before:
                expr = _affine(c["W"][j], np.concatenate([values["rh"], x_t]), c["b"][j])
            else:
                W_hn, b_hn = p[f"weight_hh{SUFFIX}"][2 * H + j], p[f"bias_hh{SUFFIX}"][2 * H + j]
                lines.append(Line("hw_n", t, u, _affine(W_hn, h_prev, b_hn), float(values["hw_n"][j])))
                W_in, b_in = p[f"weight_ih{SUFFIX}"][2 * H + j], p[f"bias_ih{SUFFIX}"][2 * H + j]
                expr = _affine(W_in, x_t, b_in) + ("+", float(values["r"][j]), "×", float(values["hw_n"][j]))
            lines.append(Line("a_h", t, u, expr, float(values["a_h"][j])))
            lines.append(Line("h_tilde", t, u, ("tanh(", float(values["a_h"][j]), ")"),
                              float(values["h_tilde"][j])))
            expr = ("(", "1", "−", float(values["z"][j]), ")", "×", float(h_prev[j]), "+",
                    float(values["z"][j]), "×", float(values["h_tilde"][j]))
            lines.append(Line("h", t, u, expr, float(values["h"][j])))
    return values, lines


def record_backward(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
    """The course's GRU (z = 1 − z_PyTorch): ∂L/∂a_z = −(the core's ∂L/∂a_z)."""
    H = trace.hidden_size
    before = trace.options.get("reset") == "before"
    h_prev, r, n = cache["h_prev"][0], cache["r"][0], cache["n"][0]
    z = 1.0 - cache["z"][0]  # the course's update gate
    d_h = d_state_t[0][0]
    d_a_h = d_xw[2 * H :].copy()
    values = {"d_h": d_h, "d_h_tilde": d_h * z, "d_z": d_h * (n - h_prev), "d_a_h": d_a_h}
    if before:
        values["d_rh"] = d_a_h @ trace.course["W"][:, :H]  # ∂L/∂(r⊙h) = Wᵀ ∂L/∂a_h over the h columns
        values["d_r"] = values["d_rh"] * h_prev
    else:
        values["d_r"] = d_a_h * cache["hw_n"][0]
    values.update(d_a_z=-d_xw[H : 2 * H], d_a_r=d_xw[:H].copy(), d_h_prev=d_prev[0][0].copy())
    lines = []
    if trace.arithmetic:
        c = trace.course
        for j in range(H):
            u = _unit(j, H)
            expr = (float(d_next[j]),) + (("+", float(up[j])) if up is not None else ())
            lines.append(Line("d_h", t, u, expr, float(d_h[j])))
            lines.append(Line("d_h_tilde", t, u, _p(d_h[j], z[j]), float(values["d_h_tilde"][j])))
            lines.append(Line("d_z", t, u, (float(d_h[j]), "×", "(", float(n[j]), "−", float(h_prev[j]), ")"),
                              float(values["d_z"][j])))
            lines.append(Line("d_a_h", t, u,
                              (float(values["d_h_tilde"][j]), "×", "(", "1", "−", float(n[j]), "²", ")"),
                              float(d_a_h[j])))
        for j in range(H):
            u = _unit(j, H)
            if before:
                expr = []
                for k in range(H):
                    expr += (["+"] if k else []) + list(_p(c["W"][k, j], d_a_h[k]))
                lines.append(Line("d_rh", t, u, tuple(expr), float(values["d_rh"][j])))
                lines.append(Line("d_r", t, u, _p(values["d_rh"][j], h_prev[j]), float(values["d_r"][j])))
            else:
                lines.append(Line("d_r", t, u, _p(d_a_h[j], cache["hw_n"][0][j]), float(values["d_r"][j])))
            for gate, s in (("z", z), ("r", r)):
                expr = (float(values[f"d_{gate}"][j]), "×", float(s[j]), "×", "(", "1", "−", float(s[j]), ")")
                lines.append(Line(f"d_a_{gate}", t, u, expr, float(values[f"d_a_{gate}"][j])))
        if before:
            for j in range(H):  # ∂L/∂h_{t-1} = (1 − z) ∂L/∂h + r ⊙ ∂L/∂(r⊙h) + W_zᵀ ∂L/∂a_z + W_rᵀ ∂L/∂a_r
                expr = ["(", "1", "−", float(z[j]), ")", "×", float(d_h[j]), "+",
                        *_p(r[j], values["d_rh"][j])]
                for gate in ("z", "r"):
                    for k in range(H):
                        expr += ["+", *_p(c[f"W_{gate}"][k, j], values[f"d_a_{gate}"][k])]
                lines.append(Line("d_h_prev", t, _unit(j, H), tuple(expr), float(values["d_h_prev"][j])))
    return values, lines


def gradient_names(trace):
    if trace.options.get("reset") == "before":
        return ["W_z", "b_z", "W_r", "b_r", "W", "b"]
    return ["W_z", "b_z", "W_r", "b_r", "W_in", "b_in", "W_hn", "b_hn"]


def weight_factors(trace, t, cache, d_xw, d_hw, d_y=None):
    """This step's factors of each ∂L/∂W (the course's z: ∂L/∂a_z = −(the core's))."""
    H = trace.hidden_size
    x_t, h_prev = trace.x[t - 1], cache["h_prev"][0]
    hx = np.concatenate([h_prev, x_t])  # [h_{t-1}, x_t]
    d_r, d_z_course, d_n = d_xw[:H], -d_xw[H : 2 * H], d_xw[2 * H :]
    factors = {"W_z": (d_z_course, hx), "b_z": (d_z_course, None), "W_r": (d_r, hx), "b_r": (d_r, None)}
    if trace.options.get("reset") == "before":
        factors["W"] = (d_n, np.concatenate([cache["rh"][0], x_t]))  # W multiplies [r⊙h_{t-1}, x_t]
        factors["b"] = (d_n, None)
    else:
        factors.update(W_in=(d_n, x_t), b_in=(d_n, None), W_hn=(d_hw[2 * H :], h_prev),
                       b_hn=(d_hw[2 * H :], None))
    return factors
