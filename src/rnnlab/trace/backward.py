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

import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, ShapeError
from ..i18n import say
from .cells import hooks
from .record import SUFFIX, Line, Trace, _unit


@dataclass
class BackwardStep:
    """The gradients of one step of the backward trace, by course name, with their substituted arithmetic."""

    t: int
    values: dict  # key (d_h, d_C, d_f, …) -> (n,) array
    lines: list = field(default_factory=list)


@dataclass
class BackwardTrace:
    """A backward trace: the upstream gradients given, every step visited (t = T … 1), the
    weight gradients."""

    upstream: dict  # t -> ∂L/∂h_t given by the user (H,)
    upstream_y: dict  # t -> ∂L/∂y_t (RNN with an output layer)
    steps: list  # BackwardStep, in the order visited (t = T … 1)
    grads: dict  # course name (W_f, b_f, …) -> array: ∂L/∂(that)
    contributions: dict  # course name -> list over t (1…T) of that step's term
    factors: dict  # course name -> list over t of (∂L/∂pre-activation, input or None): term = outer product
    d_state0: tuple  # ∂L/∂h_0 (, ∂L/∂C_0)
    loss: dict | None = None  # {"type", "targets", "value"} when the upstream comes from a loss on y_t


def _vec(value, n, what):
    if isinstance(value, (bool, str)) or (isinstance(value, list) and any(
            isinstance(v, (bool, str)) or not isinstance(v, (int, float)) for v in value)):
        raise ConfigError(say(f"{what}: expected {n} numbers, got {json.dumps(value)[:40]}",
                              f"{what} : {n} nombres attendus, reçu « {json.dumps(value)[:40]} »"))
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.shape == (1,) and n > 1:
        raise ShapeError(say(f"{what}: expected {n} values, got 1",
                             f"{what} : {n} valeurs attendues, reçu 1"))
    if arr.shape != (n,):
        raise ShapeError(say(f"{what}: expected shape ({n},), got {arr.shape}",
                             f"{what} : forme ({n},) attendue, reçu {arr.shape}"))
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
        raise ConfigError(say("loss: the trace has no output layer (W_hy) to put a loss on",
                              "perte : la trace n'a pas de couche de sortie (W_hy) sur laquelle calculer "
                              "une perte"))
    kind, targets = loss.get("type"), loss.get("targets") or {}
    if kind not in ("mse", "cross_entropy"):
        raise ConfigError(say(f"loss type: expected 'mse' or 'cross_entropy', got {kind!r}",
                              f"type de perte : « mse » ou « cross_entropy » attendu, reçu {kind!r}"))
    K, T = trace.output_layer["W_hy"].shape[0], len(trace.steps)
    d_y, lines, value = {}, {}, 0.0
    for t, target in targets.items():
        t = int(t)
        if not 1 <= t <= T:
            raise ConfigError(say(f"loss target at step {t}: expected a step between 1 and {T}",
                                  f"cible de la perte au pas {t} : pas entre 1 et {T} attendu"))
        y = trace.steps[t - 1].values["y"]
        if kind == "mse":
            target = _vec(target, K, say(f"loss target at step {t}", f"cible de la perte au pas {t}"))
            part, grad = mse(y, target, reduction="sum")
            lines[t] = [Line("d_y", t, _unit(k, K), (2.0, "×", "(", float(y[k]), "−", float(target[k]), ")"),
                             float(grad[k]))
                        for k in range(K)]
        else:
            if (isinstance(target, bool) or not isinstance(target, (int, np.integer))
                    or not 0 <= int(target) < K):
                raise ConfigError(say(f"loss target at step {t}: expected a class index 0 … {K - 1}, "
                                      f"got {target!r}",
                                      f"cible de la perte au pas {t} : indice de classe 0 … {K - 1} attendu, "
                                      f"reçu {target!r}"))
            part, grad = cross_entropy(y[None, :], np.array([int(target)]), reduction="sum")
            grad = grad[0]
            p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            lines[t] = [Line("d_y", t, _unit(k, K), (float(p[k]), "−", float(k == int(target))),
                             float(grad[k]))
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
            raise ConfigError(say("upstream ∂L/∂y_t: the trace has no output layer (W_hy)",
                                  "∂L/∂y_t amont : la trace n'a pas de couche de sortie (W_hy)"))
        K = trace.output_layer["W_hy"].shape[0]
        up_y = {int(t): _vec(v, K, f"∂L/∂y_{t}") for t, v in d_y.items()}
    if loss:
        from_loss, value, loss_lines = loss_gradients(trace, loss)
        for t, g in from_loss.items():
            up_y[t] = up_y[t] + g if t in up_y else g
        loss_info = {"type": loss["type"], "targets": {int(t): v for t, v in loss["targets"].items()},
                     "value": value}
    for t in list(up_h) + list(up_y):
        if not 1 <= t <= T:
            raise ConfigError(say(f"upstream gradient at step {t}: expected a step between 1 and {T}",
                                  f"gradient amont au pas {t} : pas entre 1 et {T} attendu"))
    cell, hook = trace.tape.cell, hooks(trace.cell)
    W_hh = trace.params[f"weight_hh{SUFFIX}"]
    d_state = [np.zeros((1, H)) for _ in hook.STATE_KEYS]  # ∂L/∂h_T (, ∂L/∂C_T) from after the last step
    if d_C_final is not None:
        if len(d_state) < 2:
            raise ConfigError(say(f"∂L/∂C_T: the {trace.cell} cell has no cell state C",
                                  f"∂L/∂C_T : la cellule {trace.cell} n'a pas d'état de cellule C"))
        d_state[1] = _vec(d_C_final, H, "∂L/∂C_T")[None, :]
    names = hook.gradient_names(trace)
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
        values, lines = hook.record_backward(trace, t, cache, d_state_t, d_xw[0], d_hw[0], d_prev,
                                             d_from_next, up_h.get(t), d_y_t)
        order = [k for k in hook.BACKWARD_KEYS if k in values]
        if trace.arithmetic and t in loss_lines and t not in (d_y or {}):
            lines = loss_lines[t] + lines
        steps.append(BackwardStep(t, {k: values[k] for k in order}, lines))
        for name, factor in hook.weight_factors(trace, t, cache, d_xw[0], d_hw[0], d_y_t).items():
            if isinstance(factor, np.ndarray):  # this step's term itself (the generic trace of some cells)
                factors[name][t - 1], contributions[name][t - 1] = None, factor.copy()
                continue
            d, v = factor[0].copy(), None if factor[1] is None else factor[1].copy()
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
