r"""Forward trace: run a cell over a sequence through the core and record every intermediate
under the course's name, with the arithmetic substituted for small sizes.

The numbers come from the core (``make_cell(...).step`` through :func:`rnnlab.sequence.unroll`,
and the course views ``*_params_to_course``): the trace runs the same functions as the fused
layers and only records more. For each quantity of the course (``z_f``, ``f``, …) it keeps
the vector of values and, when the cell is small (:data:`MAX_ARITHMETIC_UNITS`), one
:class:`Line` per component, e.g.::

    z_f,1 = 0.1×0.0 + 0.2×1.0 + 0.0 = 0.2000
    f_1   = σ(0.2000) = 0.5498

A :class:`Line`'s ``expr`` is a tuple of tokens: floats (numbers substituted) and strings
(operators: ``"+"``, ``"−"``, ``"×"``, ``"("``, ``")"``, ``"σ("``, ``"tanh("``, ``"exp("``,
``"ReLU("``, ``"²"``, ``"1"``, ``"/"``). Renderers translate the operators; the tests evaluate
the tokens back and check that every line's arithmetic gives its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cells import make_cell
from ..cells import gru as gru_cell
from ..cells import lstm as lstm_cell
from ..cells import rnn as rnn_cell
from ..errors import ConfigError, ShapeError
from ..sequence import unroll
from .notation import FORWARD_KEYS

MAX_ARITHMETIC_UNITS = 4  # substituted arithmetic when H ≤ 4 and D ≤ 4
SUFFIX = "_l0"


@dataclass(frozen=True)
class Line:
    """``target[unit] at step t = expr = value`` (``unit`` is 1-based, ``None`` when H = 1)."""

    key: str
    t: int
    unit: int | None
    expr: tuple | None
    value: float


@dataclass
class Step:
    """One time step: the values of every quantity ``(H,)`` and their arithmetic lines."""

    t: int
    x: np.ndarray
    values: dict  # key -> (n,) array, in the course's order
    lines: list = field(default_factory=list)


@dataclass
class Trace:
    """A recorded forward pass (and, after :func:`rnnlab.trace.backward.trace_backward`, the
    backward pass in ``backward``)."""

    cell: str  # "rnn" | "lstm" | "gru"
    options: dict
    params: dict  # fused parameters (PyTorch keys with suffix "_l0"), float64
    course: dict  # the course's view of the same parameters (W_f, b_f, …)
    x: np.ndarray  # (T, D)
    state0: tuple  # (H,) arrays: (h_0,) or (h_0, C_0)
    steps: list
    output_layer: dict | None = None  # RNN: {"W_hy" (K, H), "b_y" (K,), "softmax": bool}
    tape: object = None  # the core's tape, for the backward
    backward: object = None
    arithmetic: bool = True

    @property
    def hidden_size(self) -> int:
        return self.state0[0].shape[0]

    @property
    def input_size(self) -> int:
        return self.x.shape[1]

    def series(self, key: str) -> np.ndarray:
        """``(T, n)``: one quantity over the steps."""
        return np.stack([s.values[key] for s in self.steps])


def _affine(weights_row, inputs, bias) -> tuple:
    """Tokens of ``Σ_k w_k × v_k + b``."""
    expr = []
    for k, (w, v) in enumerate(zip(weights_row, inputs)):
        if k:
            expr.append("+")
        expr += [float(w), "×", float(v)]
    if bias is not None:
        expr += ["+", float(bias)]
    return tuple(expr)


def _unit(j, H):
    return None if H == 1 else j + 1


# --- per-cell recorders: from the core's cache to the course's names ----------------------------


def _record_rnn(trace, t, cache, x_t, h_prev):
    H = trace.hidden_size
    z, h = cache["z"][0], cache["h"][0]
    values = {"z": z.copy(), "h": h.copy()}
    c = trace.course
    lines = []
    act = "ReLU(" if trace.options.get("nonlinearity") == "relu" else "tanh("
    if trace.arithmetic:
        for j in range(H):
            expr = _affine(np.concatenate([c["W_hh"][j], c["W_xh"][j]]), np.concatenate([h_prev, x_t]), c["b_h"][j])
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
            from ..functional import softmax

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


def _record_lstm(trace, t, cache, x_t, h_prev):
    H = trace.hidden_size
    z, gates = cache["z"][0], cache["gates"][0]  # (4H,) in PyTorch's order i, f, g, o
    block = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(("i", "f", "C", "o"))}
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
                lines.append(Line(pre, t, u, _affine(c[f"W_{gate}"][j], hx, c[f"b_{gate}"][j]), float(values[pre][j])))
                lines.append(Line(name, t, u, (act, float(values[pre][j]), ")"), float(values[name][j])))
            expr = (float(values["f"][j]), "×", float(c_prev[j]), "+", float(values["i"][j]), "×", float(values["C_tilde"][j]))
            lines.append(Line("C", t, u, expr, float(values["C"][j])))
            lines.append(Line("z_o", t, u, _affine(c["W_o"][j], hx, c["b_o"][j]), float(values["z_o"][j])))
            lines.append(Line("o", t, u, ("σ(", float(values["z_o"][j]), ")"), float(values["o"][j])))
            lines.append(Line("tanh_C", t, u, ("tanh(", float(values["C"][j]), ")"), float(values["tanh_C"][j])))
            lines.append(Line("h", t, u, (float(values["o"][j]), "×", float(values["tanh_C"][j])), float(values["h"][j])))
    return values, lines


def _record_gru(trace, t, cache, x_t, h_prev):
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
                lines.append(Line(pre, t, u, _affine(c[f"W_{gate}"][j], hx, c[f"b_{gate}"][j]), float(values[pre][j])))
                lines.append(Line(gate, t, u, ("σ(", float(values[pre][j]), ")"), float(values[gate][j])))
        for j in range(H):
            u = _unit(j, H)
            if before:
                lines.append(Line("rh", t, u, (float(values["r"][j]), "×", float(h_prev[j])), float(values["rh"][j])))
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
            lines.append(Line("h_tilde", t, u, ("tanh(", float(values["a_h"][j]), ")"), float(values["h_tilde"][j])))
            expr = ("(", "1", "−", float(values["z"][j]), ")", "×", float(h_prev[j]), "+",
                    float(values["z"][j]), "×", float(values["h_tilde"][j]))
            lines.append(Line("h", t, u, expr, float(values["h"][j])))
    return values, lines


RECORDERS = {"rnn": _record_rnn, "lstm": _record_lstm, "gru": _record_gru}
COURSE_VIEWS = {"rnn": rnn_cell.params_to_course, "lstm": lstm_cell.params_to_course, "gru": gru_cell.params_to_course}


def trace_forward(cell: str, params: dict, x, state0=None, *, options=None, output_layer=None,
                  arithmetic: bool | None = None) -> Trace:
    """Run ``cell`` (``"rnn"``, ``"lstm"``, ``"gru"``) over ``x (T, D)`` and record it.

    ``params``: fused parameters keyed ``weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0``
    (build them from the course's matrices with ``rnnlab.lstm_params_from_course`` etc.).
    ``state0``: ``(h_0,)`` or ``(h_0, C_0)`` of shape ``(H,)`` each (zeros by default).
    ``options``: the cell's options (``nonlinearity`` for RNN, ``reset`` for GRU).
    ``output_layer`` (RNN only): ``{"W_hy": (K, H), "b_y": (K,), "softmax": bool}``.
    ``arithmetic``: substituted arithmetic lines (default: when H and D are at most 4).
    """
    options = dict(options or {})
    core = make_cell(cell, **options)
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    W_ih, W_hh = params[f"weight_ih{SUFFIX}"], params[f"weight_hh{SUFFIX}"]
    b_ih, b_hh = params.get(f"bias_ih{SUFFIX}"), params.get(f"bias_hh{SUFFIX}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ShapeError(f"inputs: expected a non-empty sequence of shape (T, {W_ih.shape[1]}), got {x.shape}")
    T, D = x.shape
    H = W_hh.shape[1]
    if D != W_ih.shape[1]:
        raise ShapeError(f"inputs: expected {W_ih.shape[1]} value(s) per step (input_size), got {D}")
    names = core.state_names
    if state0 is None:
        state0 = tuple(np.zeros(H) for _ in names)
    state0 = tuple(np.asarray(s, dtype=np.float64).reshape(H) for s in state0)
    if len(state0) != len(names):
        raise ConfigError(f"initial state: expected {len(names)} array(s) {names}, got {len(state0)}")
    if cell == "gru" and options.get("reset", "after") == "after":
        # reset="after": W_hn and b_hn sit inside r ⊙ (…); only z and r have a course view
        full = gru_cell.params_to_course(params)
        course = {k: full[k] for k in ("W_z", "b_z", "W_r", "b_r")}
    else:
        course = COURSE_VIEWS[cell](params)
    if output_layer is not None:
        output_layer = {"W_hy": np.atleast_2d(np.asarray(output_layer["W_hy"], dtype=np.float64)),
                        "b_y": np.atleast_1d(np.asarray(output_layer.get("b_y", 0.0), dtype=np.float64)),
                        "softmax": bool(output_layer.get("softmax", False))}
        output_layer["b_y"] = np.broadcast_to(output_layer["b_y"], (output_layer["W_hy"].shape[0],)).copy()
    if arithmetic is None:
        arithmetic = H <= MAX_ARITHMETIC_UNITS and D <= MAX_ARITHMETIC_UNITS
    trace = Trace(cell, options, params, course, x, state0, [], output_layer, arithmetic=arithmetic)
    # the core's unroll over a batch of one: the same step functions as the fused layers
    output, final, tape = unroll(core, x[:, None, :], tuple(s[None, :] for s in state0), W_ih, W_hh, b_ih, b_hh)
    trace.tape = tape
    record = RECORDERS[cell]
    for t, cache in enumerate(tape.caches, start=1):
        h_prev = cache["h_prev"][0]
        values, lines = record(trace, t, cache, x[t - 1], h_prev)
        order = [k for k in FORWARD_KEYS[cell] if k in values]
        trace.steps.append(Step(t, x[t - 1].copy(), {k: values[k] for k in order}, lines))
    return trace
