r"""Backward trace: backpropagation through time, step by step, with the course's names.

Upstream gradients are ∂L/∂h_t at chosen steps (and, for an RNN with an output layer,
∂L/∂y_t). Each step calls the core's ``step_backward`` (the same function the fused layers
use) for ∂L/∂z (the gate pre-activations), ∂L/∂h_{t-1} and ∂L/∂C_{t-1}; the trace records
in addition the links of the chain in between, e.g. for the LSTM (TP §2.3)::

    ∂L/∂C_t  = ∂L/∂C_t(from t+1) + ∂L/∂h_t × o_t × (1 − tanh²(C_t))
    ∂L/∂f_t  = ∂L/∂C_t × C_{t-1}           ∂L/∂z_f,t = ∂L/∂f_t × f_t (1 − f_t)
    ∂L/∂W_f  = Σ_t ∂L/∂z_f,t × [h_{t-1}, x_t]

The weight gradients are the sums over the steps of the per-step contributions; the tests
hold them equal to :func:`rnnlab.sequence.unroll_backward` (the fused BPTT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, ShapeError
from .notation import BACKWARD_KEYS
from .record import SUFFIX, Line, Trace, _unit


@dataclass
class BackwardStep:
    """The gradients of one step of the backward trace, by course name, with their substituted arithmetic."""

    t: int
    values: dict  # key (d_h, d_C, d_f, …) -> (n,) array
    lines: list = field(default_factory=list)


@dataclass
class BackwardTrace:
    """A backward trace: the upstream gradients given, every step visited (t = T … 1), the weight gradients."""

    upstream: dict  # t -> ∂L/∂h_t given by the user (H,)
    upstream_y: dict  # t -> ∂L/∂y_t (RNN with an output layer)
    steps: list  # BackwardStep, in the order visited (t = T … 1)
    grads: dict  # course name (W_f, b_f, …) -> array: ∂L/∂(that)
    contributions: dict  # course name -> list over t (1…T) of that step's term
    factors: dict  # course name -> list over t of (∂L/∂pre-activation, input or None): term = outer product
    d_state0: tuple  # ∂L/∂h_0 (, ∂L/∂C_0)
    loss: dict | None = None  # {"type", "targets", "value"} when the upstream comes from a loss on y_t


def _vec(value, n, what):
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.shape == (1,) and n > 1:
        raise ShapeError(f"{what}: expected {n} values, got 1")
    if arr.shape != (n,):
        raise ShapeError(f"{what}: expected shape ({n},), got {arr.shape}")
    return arr


def _p(a, b):
    """Tokens ``a × b``."""
    return (float(a), "×", float(b))


def loss_gradients(trace: Trace, loss: dict):
    """∂L/∂y_t from a loss on the outputs of an RNN with an output layer (rnnlab.functional):

    * ``{"type": "mse", "targets": {t: (K,)}}``: L = Σ_t ‖y_t − target_t‖², ∂L/∂y_t = 2 (y_t − target_t);
    * ``{"type": "cross_entropy", "targets": {t: class}}``: L = −Σ_t log softmax(y_t)[class],
      ∂L/∂y_t = softmax(y_t) − onehot(class).

    Returns ``(d_y {t: (K,)}, value, lines {t: [Line]})``.
    """
    from ..functional import cross_entropy, mse

    if trace.output_layer is None:
        raise ConfigError("loss: the trace has no output layer (W_hy) to put a loss on")
    kind, targets = loss.get("type"), loss.get("targets") or {}
    if kind not in ("mse", "cross_entropy"):
        raise ConfigError(f"loss type: expected 'mse' or 'cross_entropy', got {kind!r}")
    K, T = trace.output_layer["W_hy"].shape[0], len(trace.steps)
    d_y, lines, value = {}, {}, 0.0
    for t, target in targets.items():
        t = int(t)
        if not 1 <= t <= T:
            raise ConfigError(f"loss target at step {t}: expected a step between 1 and {T}")
        y = trace.steps[t - 1].values["y"]
        if kind == "mse":
            target = _vec(target, K, f"loss target at step {t}")
            part, grad = mse(y, target, reduction="sum")
            lines[t] = [Line("d_y", t, _unit(k, K), (2.0, "×", "(", float(y[k]), "−", float(target[k]), ")"), float(grad[k]))
                        for k in range(K)]
        else:
            if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= int(target) < K:
                raise ConfigError(f"loss target at step {t}: expected a class index 0 … {K - 1}, got {target!r}")
            part, grad = cross_entropy(y[None, :], np.array([int(target)]), reduction="sum")
            grad = grad[0]
            p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            lines[t] = [Line("d_y", t, _unit(k, K), (float(p[k]), "−", float(k == int(target))), float(grad[k]))
                        for k in range(K)]
        value += float(part)
        d_y[t] = np.asarray(grad, dtype=np.float64)
    return d_y, value, lines


def trace_backward(trace: Trace, d_h: dict | None = None, d_y: dict | None = None, d_C_final=None,
                   loss: dict | None = None) -> BackwardTrace:
    """Backpropagate through ``trace`` from ∂L/∂h_t (``{t: (H,)}``, t from 1) and, for an RNN
    with an output layer, ∂L/∂y_t (``{t: (K,)}``) or a ``loss`` on y_t (see
    :func:`loss_gradients`); ``d_C_final``: ∂L/∂C_T for the LSTM."""
    T, H = len(trace.steps), trace.hidden_size
    up_h = {int(t): _vec(v, H, f"∂L/∂h_{t}") for t, v in (d_h or {}).items()}
    up_y, loss_lines, loss_info = {}, {}, None
    if d_y:
        if trace.output_layer is None:
            raise ConfigError("upstream ∂L/∂y_t: the trace has no output layer (W_hy)")
        K = trace.output_layer["W_hy"].shape[0]
        up_y = {int(t): _vec(v, K, f"∂L/∂y_{t}") for t, v in d_y.items()}
    if loss:
        from_loss, value, loss_lines = loss_gradients(trace, loss)
        for t, g in from_loss.items():
            up_y[t] = up_y[t] + g if t in up_y else g
        loss_info = {"type": loss["type"], "targets": {int(t): v for t, v in loss["targets"].items()}, "value": value}
    for t in list(up_h) + list(up_y):
        if not 1 <= t <= T:
            raise ConfigError(f"upstream gradient at step {t}: expected a step between 1 and {T}")
    cell = trace.tape.cell
    W_hh = trace.params[f"weight_hh{SUFFIX}"]
    d_state = [np.zeros((1, H))] + ([np.zeros((1, H)) if d_C_final is None else _vec(d_C_final, H, "∂L/∂C_T")[None, :]]
                                    if trace.cell == "lstm" else [])
    names = _gradient_names(trace)
    contributions = {name: [None] * T for name in names}
    factors = {name: [None] * T for name in names}
    steps = []
    for t in range(T, 0, -1):
        cache = trace.tape.caches[t - 1]
        d_from_next = d_state[0][0].copy()
        d_y_t = up_y.get(t)
        d_h_t = d_from_next + up_h.get(t, 0.0)
        if d_y_t is not None:
            d_h_t = d_h_t + trace.output_layer["W_hy"].T @ d_y_t  # ∂L/∂h_t += W_hyᵀ ∂L/∂y_t
        d_state_t = (d_h_t[None, :],) + tuple(d_state[1:])
        d_xw, d_hw, d_prev = cell.step_backward(d_state_t, cache, W_hh)  # the core's BPTT step
        values, lines = RECORDERS[trace.cell](trace, t, cache, d_state_t, d_xw[0], d_hw[0], d_prev,
                                              d_from_next, up_h.get(t), d_y_t)
        order = [k for k in BACKWARD_KEYS[trace.cell] if k in values]
        if trace.arithmetic and t in loss_lines and t not in (d_y or {}):
            lines = loss_lines[t] + lines
        steps.append(BackwardStep(t, {k: values[k] for k in order}, lines))
        for name, (d, v) in _weight_factors(trace, t, cache, d_xw[0], d_hw[0], d_y_t).items():
            d, v = d.copy(), None if v is None else v.copy()
            factors[name][t - 1] = (d, v)
            contributions[name][t - 1] = d.copy() if v is None else np.outer(d, v)
        d_state = list(d_prev)
    grads = {}
    for name, terms in contributions.items():
        total = np.zeros_like(terms[0])
        for term in terms:
            total += term  # a weight reused at every step: its gradients add up
        grads[name] = total
    trace.backward = BackwardTrace(up_h, up_y, steps, grads, contributions, factors,
                                   tuple(d[0] for d in d_state), loss_info)
    return trace.backward


# --- per-cell recorders -------------------------------------------------------------------------


def _back_rnn(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
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


def _back_lstm(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
    H = trace.hidden_size
    gates = cache["gates"][0]
    blk = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(("i", "f", "C", "o"))}
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
            expr = (float(d_c_next[j]), "+", float(d_h[j]), "×", float(o[j]), "×", "(", "1", "−", float(tanh_c[j]), "²", ")")
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


def _back_gru(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
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
            lines.append(Line("d_z", t, u, (float(d_h[j]), "×", "(", float(n[j]), "−", float(h_prev[j]), ")"), float(values["d_z"][j])))
            lines.append(Line("d_a_h", t, u, (float(values["d_h_tilde"][j]), "×", "(", "1", "−", float(n[j]), "²", ")"), float(d_a_h[j])))
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
                expr = ["(", "1", "−", float(z[j]), ")", "×", float(d_h[j]), "+", *_p(r[j], values["d_rh"][j])]
                for gate in ("z", "r"):
                    for k in range(H):
                        expr += ["+", *_p(c[f"W_{gate}"][k, j], values[f"d_a_{gate}"][k])]
                lines.append(Line("d_h_prev", t, _unit(j, H), tuple(expr), float(values["d_h_prev"][j])))
    return values, lines


RECORDERS = {"rnn": _back_rnn, "lstm": _back_lstm, "gru": _back_gru}


# --- weight gradients, per step -----------------------------------------------------------------


def _gradient_names(trace):
    if trace.cell == "rnn":
        names = ["W_xh", "W_hh", "b_h"]
        return names + (["W_hy", "b_y"] if trace.output_layer is not None else [])
    if trace.cell == "lstm":
        return [f"{k}_{g}" for g in ("f", "i", "C", "o") for k in ("W", "b")]
    if trace.options.get("reset") == "before":
        return ["W_z", "b_z", "W_r", "b_r", "W", "b"]
    return ["W_z", "b_z", "W_r", "b_r", "W_in", "b_in", "W_hn", "b_hn"]


def _weight_factors(trace, t, cache, d_xw, d_hw, d_y=None):
    """This step's factors of each ∂L/∂W: ``(∂L/∂(pre-activation), what the weight multiplies)``;
    the term is their outer product (``None`` for a bias: the term is the gradient itself)."""
    H = trace.hidden_size
    x_t, h_prev = trace.x[t - 1], cache["h_prev"][0]
    hx = np.concatenate([h_prev, x_t])  # [h_{t-1}, x_t]
    if trace.cell == "rnn":
        factors = {"W_xh": (d_xw, x_t), "W_hh": (d_xw, h_prev), "b_h": (d_xw, None)}
        if trace.output_layer is not None:
            K = trace.output_layer["W_hy"].shape[0]
            d_y = np.zeros(K) if d_y is None else d_y
            factors.update(W_hy=(d_y, cache["h"][0]), b_y=(d_y, None))
        return factors
    if trace.cell == "lstm":
        blk = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(("i", "f", "C", "o"))}
        factors = {}
        for g in ("f", "i", "C", "o"):
            factors[f"W_{g}"], factors[f"b_{g}"] = (d_xw[blk[g]], hx), (d_xw[blk[g]], None)
        return factors
    d_r, d_z_course, d_n = d_xw[:H], -d_xw[H : 2 * H], d_xw[2 * H :]
    factors = {"W_z": (d_z_course, hx), "b_z": (d_z_course, None), "W_r": (d_r, hx), "b_r": (d_r, None)}
    if trace.options.get("reset") == "before":
        factors["W"] = (d_n, np.concatenate([cache["rh"][0], x_t]))  # W multiplies [r⊙h_{t-1}, x_t]
        factors["b"] = (d_n, None)
    else:
        factors.update(W_in=(d_n, x_t), b_in=(d_n, None), W_hn=(d_hw[2 * H :], h_prev), b_hn=(d_hw[2 * H :], None))
    return factors
