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
from ..errors import ConfigError, ShapeError
from ..i18n import say
from ..sequence import unroll
from .cells import hooks

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

    cell: str  # a registered cell: "rnn", "lstm", "gru", …
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


def trace_forward(cell: str, params: dict, x, state0=None, *, options=None, output_layer=None,
                  arithmetic: bool | None = None) -> Trace:
    """Run ``cell`` (a registered cell: ``"rnn"``, ``"lstm"``, ``"gru"``, …) over ``x (T, D)`` and
    record it, through the cell's trace hooks (:mod:`rnnlab.trace.cells`).

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
    if f"weight_hr{SUFFIX}" in params:
        raise ConfigError(say(f"trace: an LSTM with projections (weight_hr{SUFFIX}: h_t = W_hr (o_t ⊙ "
                              f"tanh(C_t)), Sak et al. 2014) is not traced; expected the course's cell, "
                              f"without weight_hr",
                              f"trace : un LSTM à projections (weight_hr{SUFFIX} : h_t = W_hr (o_t ⊙ "
                              f"tanh(C_t)), Sak et al. 2014) n'est pas tracé ; la cellule du cours, "
                              f"sans weight_hr, attendue"))
    W_ih, W_hh = params[f"weight_ih{SUFFIX}"], params[f"weight_hh{SUFFIX}"]
    b_ih, b_hh = params.get(f"bias_ih{SUFFIX}"), params.get(f"bias_hh{SUFFIX}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ShapeError(say(f"inputs: expected a non-empty sequence of shape (T, {W_ih.shape[1]}), "
                             f"got {x.shape}",
                             f"entrées : séquence non vide de forme (T, {W_ih.shape[1]}) attendue, "
                             f"reçu {x.shape}"))
    T, D = x.shape
    H = W_hh.shape[1]
    if D != W_ih.shape[1]:
        D_in = W_ih.shape[1]
        raise ShapeError(say(f"inputs: expected {W_ih.shape[1]} value(s) per step (input_size), got {D}",
                             f"entrées : {D_in} valeur{'s' * (D_in > 1)} par pas attendue{'s' * (D_in > 1)} "
                             f"(input_size), reçu {D}"))
    names = core.state_names
    if state0 is None:
        state0 = tuple(np.zeros(H) for _ in names)
    state0 = tuple(np.asarray(s, dtype=np.float64).reshape(H) for s in state0)
    if len(state0) != len(names):
        raise ConfigError(say(f"initial state: expected {len(names)} array(s) {names}, got {len(state0)}",
                              f"état initial : {len(names)} tableau{'x' * (len(names) > 1)} {names} "
                              f"attendu{'s' * (len(names) > 1)}, reçu {len(state0)}"))
    hook = hooks(cell)
    course = hook.course_view(params, options)
    if output_layer is not None:
        output_layer = {"W_hy": np.atleast_2d(np.asarray(output_layer["W_hy"], dtype=np.float64)),
                        "b_y": np.atleast_1d(np.asarray(output_layer.get("b_y", 0.0), dtype=np.float64)),
                        "softmax": bool(output_layer.get("softmax", False))}
        output_layer["b_y"] = np.broadcast_to(output_layer["b_y"], (output_layer["W_hy"].shape[0],)).copy()
    if arithmetic is None:
        arithmetic = H <= MAX_ARITHMETIC_UNITS and D <= MAX_ARITHMETIC_UNITS
    arithmetic = bool(arithmetic) and getattr(hook, "ARITHMETIC", True)  # the generic trace: values only
    trace = Trace(cell, options, params, course, x, state0, [], output_layer, arithmetic=arithmetic)
    # the core's unroll over a batch of one: the same step functions as the fused layers
    cell_params = {name: params[f"{name}{SUFFIX}"] for name, _, _ in core.extra_params}  # the LN-LSTM's gains
    state0_batch = tuple(s[None, :] for s in state0)  # a batch of one
    output, final, tape = unroll(core, x[:, None, :], state0_batch, W_ih, W_hh, b_ih, b_hh,
                                 cell_params=cell_params)
    trace.tape = tape
    for t, cache in enumerate(tape.caches, start=1):
        h_prev = cache["h_prev"][0]
        values, lines = hook.record(trace, t, cache, x[t - 1], h_prev)
        order = [k for k in (hook.FORWARD_KEYS or values) if k in values]
        trace.steps.append(Step(t, x[t - 1].copy(), {k: values[k] for k in order}, lines))
    return trace
