"""Trace hooks of the Elman RNN (TP §1.1, TD): the course's ``z, h, y, p``."""

from __future__ import annotations

import numpy as np

from ...cells import rnn as rnn_cell
from ..backward import _p
from ..record import Line, _affine, _unit

STATE_KEYS = ("h",)
FORWARD_KEYS = ("z", "h", "y", "p")
BACKWARD_KEYS = ("d_y", "d_h", "d_z", "d_h_prev")
FORMULAS = {
    "z": "W_hh × h_{t-1} + W_xh × x_t + b_h",
    "h": "tanh(z_t)",
    "h_relu": "ReLU(z_t)",
    "y": "W_hy × h_t + b_y",
    "p": "softmax(y_t)",
}
BACKWARD_FORMULAS = {
    "d_y": "∂L/∂y_t (given, or from the loss)",
    "d_h": "∂L/∂h_t (given) + ∂L/∂h_t (from t+1) [+ W_hyᵀ ∂L/∂y_t]",
    "d_z": "∂L/∂h_t ⊙ (1 − h_t²)",
    "d_h_prev": "W_hhᵀ ∂L/∂z_t",
}
COURSE_WEIGHTS = ("W_xh", "W_hh", "b_h")
OUTPUT_LAYER = True
EXAMPLE = {"cell": "rnn", "notation": "course",
           "weights": {"W_xh": [[0.3], [0.4]], "W_hh": [[0.2, 0.1], [-0.1, 0.3]], "b_h": [0.1, 0.0]},
           "output": {"W_hy": [[0.5, -0.2]], "b_y": [0.1]},
           "inputs": [0.5, 0.8, 0.2], "initial_state": {"h": [0.0, 0.0]},
           "upstream": {"loss": {"type": "mse", "targets": {"3": [0.0]}}}}
params_from_course = rnn_cell.params_from_course


def describe(options):
    return "RNN (Elman)" + (" (ReLU)" if options.get("nonlinearity") == "relu" else "")


def formula(key, options, backward=False):
    if backward:
        return BACKWARD_FORMULAS.get(key, "")
    if key == "h" and options.get("nonlinearity") == "relu":
        return FORMULAS["h_relu"]
    return FORMULAS.get(key, "")


def course_view(params, options):
    return rnn_cell.params_to_course(params)


def given(trace):
    return list(trace.course.items())


def config_options(src, options, notation):
    return options


def course_sizes(src, weights, array):
    H = np.atleast_2d(array(src, "weights.W_hh", weights["W_hh"])).shape[0]
    return H, array(src, "weights.W_xh", weights["W_xh"]).size // max(H, 1)


def course_shapes(H, D):
    return {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,)}


def record(trace, t, cache, x_t, h_prev):
    H = trace.hidden_size
    z, h = cache["z"][0], cache["h"][0]
    values = {"z": z.copy(), "h": h.copy()}
    c = trace.course
    lines = []
    act = "ReLU(" if trace.options.get("nonlinearity") == "relu" else "tanh("
    if trace.arithmetic:
        for j in range(H):
            expr = _affine(np.concatenate([c["W_hh"][j], c["W_xh"][j]]), np.concatenate([h_prev, x_t]),
                           c["b_h"][j])
            lines.append(Line("z", t, _unit(j, H), expr, float(z[j])))
        for j in range(H):
            lines.append(Line("h", t, _unit(j, H), (act, float(z[j]), ")"), float(h[j])))
    out = trace.output_layer
    if out is not None:
        W_hy, b_y = out["W_hy"], out["b_y"]
        y = W_hy @ h + b_y  # (K,) the output layer y_t = W_hy h_t + b_y (outside the cell)
        values["y"] = y
        K = y.shape[0]
        if trace.arithmetic:
            for k in range(K):
                lines.append(Line("y", t, _unit(k, K), _affine(W_hy[k], h, b_y[k]), float(y[k])))
        if out.get("softmax"):
            from ...functional import softmax

            p = softmax(y[None, :])[0]
            values["p"] = p
            if trace.arithmetic:
                denominator = ["("]
                for k in range(K):
                    denominator += (["+"] if k else []) + ["exp(", float(y[k]), ")"]
                denominator.append(")")
                for k in range(K):
                    expr = ("exp(", float(y[k]), ")", "/", *denominator)
                    lines.append(Line("p", t, _unit(k, K), expr, float(p[k])))
    return values, lines


def record_backward(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
    H = trace.hidden_size
    h = cache["h"][0]
    d_h = d_state_t[0][0]
    values = {"d_h": d_h, "d_z": d_xw.copy(), "d_h_prev": d_prev[0][0].copy()}
    if d_y is not None:
        values = {"d_y": d_y.copy(), **values}
    lines = []
    if trace.arithmetic:
        relu = trace.options.get("nonlinearity") == "relu"
        W_hh, W_hy = trace.course["W_hh"], (trace.output_layer or {}).get("W_hy")
        for j in range(H):
            u = _unit(j, H)
            expr = [float(d_next[j])]
            if up is not None:
                expr += ["+", float(up[j])]
            if d_y is not None:
                for k in range(len(d_y)):
                    expr += ["+", *_p(W_hy[k, j], d_y[k])]
            lines.append(Line("d_h", t, u, tuple(expr), float(d_h[j])))
        for j in range(H):
            slope = (float(cache["z"][0][j] > 0),) if relu else ("(", "1", "−", float(h[j]), "²", ")")
            lines.append(Line("d_z", t, _unit(j, H), (float(d_h[j]), "×", *slope), float(d_xw[j])))
        for j in range(H):
            expr = []
            for k in range(H):
                expr += (["+"] if k else []) + list(_p(W_hh[k, j], d_xw[k]))
            lines.append(Line("d_h_prev", t, _unit(j, H), tuple(expr), float(values["d_h_prev"][j])))
    return values, lines


def gradient_names(trace):
    names = ["W_xh", "W_hh", "b_h"]
    return names + (["W_hy", "b_y"] if trace.output_layer is not None else [])


def weight_factors(trace, t, cache, d_xw, d_hw, d_y=None):
    """This step's factors of each ∂L/∂W (see :func:`rnnlab.trace.backward.trace_backward`)."""
    x_t, h_prev = trace.x[t - 1], cache["h_prev"][0]
    factors = {"W_xh": (d_xw, x_t), "W_hh": (d_xw, h_prev), "b_h": (d_xw, None)}
    if trace.output_layer is not None:
        K = trace.output_layer["W_hy"].shape[0]
        d_y = np.zeros(K) if d_y is None else d_y
        factors.update(W_hy=(d_y, cache["h"][0]), b_y=(d_y, None))
    return factors
