"""The trace hooks of each cell: how its cache maps to the course's named quantities.

A cell file names its hooks module (``TRACE = "rnnlab.trace.cells.lstm"``); :func:`hooks`
returns it, or, for a cell without one (a cell registered at run time), :class:`GenericHooks`:
the cache's arrays recorded under their own names, forward and backward, in PyTorch's notation,
without substituted arithmetic. A hooks module holds::

    STATE_KEYS         ("h", "C")     the course's names of the state (``h_0``, ``C_0``; config keys)
    FORWARD_KEYS       the forward quantities, in the course's order (None: the record's order)
    BACKWARD_KEYS      the backward quantities, in the order the chain rule visits them
    FORMULAS, BACKWARD_FORMULAS       quantity -> its formula (Unicode)
    COURSE_WEIGHTS     the course's weights (config ``weights`` in notation "course"; None: none)
    OUTPUT_LAYER       whether a config may add ``y_t = W_hy h_t + b_y`` (the RNN)
    EXAMPLE            a complete config (``rnnlab trace --example NAME``; None: none)
    describe(options)                  the cell, in the trace's header
    formula(key, options, backward)    the formula shown for a quantity
    course_view(params, options)       the parameters under the course's names
    given(trace)                       ``[(name, array)]``: the parameters listed in the header
    config_options(src, options, notation)   the options a config gets (defaults, checks)
    course_sizes(src, weights, array)  ``(H, D)`` from the course's weights
    course_shapes(H, D), params_from_course(**weights)
    record(trace, t, cache, x_t, h_prev)              -> (values, lines)
    record_backward(trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y) -> (values, lines)
    gradient_names(trace), weight_factors(trace, t, cache, d_xw, d_hw, d_y)
    ARITHMETIC         whether its records carry substituted arithmetic (the generic ones do not)
"""

from __future__ import annotations

import importlib

import numpy as np

from ... import cells
from ...errors import ConfigError
from ...i18n import say


def sizes_over_hx(src, weights, array, gate):
    """``(H, D)`` from a course's gate weights over ``[h_{t-1}, x_t]``: W_g (H, H + D), b_g (H,)."""
    H = np.atleast_1d(array(src, f"weights.b_{gate}", weights[f"b_{gate}"])).size
    return H, array(src, f"weights.W_{gate}", weights[f"W_{gate}"]).size // max(H, 1) - H


def shapes_over_hx(names, H, D):
    """Every ``W_*`` over ``[h_{t-1}, x_t]`` is (H, H + D), every ``b_*`` (H,)."""
    return {k: ((H, H + D) if k.startswith("W") else (H,)) for k in names}


def hooks(cell: str):
    """The trace hooks of a registered cell (its file's ``TRACE``, else the generic ones)."""
    spec = cells.get(cell)
    if spec.trace is None:
        return GenericHooks(spec)
    return importlib.import_module(spec.trace)


class GenericHooks:
    """The trace of a cell that declares no hooks: every ``(1, n)`` array of its step's cache,
    under the cache's names, and backward the gate pre-activation gradients ``d_a_<gate>`` (the
    blocks of the core's ``d_xw``) and ``d_<state>_prev``. Weights in PyTorch's notation; the
    gradient of ``weight_hh`` is ``Σ_t d_hw_t h_{t-1}ᵀ``, so the backward needs a cell whose
    the cell's own ``weight_hh_grad`` when it has one (a W_hh row block that multiplies
    something else, as the GRU's reset "before"); a cell with parameters of its own (the
    LN-LSTM's gains) has no backward trace here."""

    COURSE_WEIGHTS = None
    ARITHMETIC = False  # no substituted arithmetic: the values only
    OUTPUT_LAYER = False
    EXAMPLE = None
    FORWARD_KEYS = None
    FORMULAS = {}
    BACKWARD_FORMULAS = {}
    SKIP = ("h_prev", "c_prev", "h_in")  # the step's inputs, not its quantities

    def __init__(self, spec):
        self.spec = spec
        self.STATE_KEYS = spec.state_names
        self.BACKWARD_KEYS = (*(f"d_{s}" for s in spec.state_names), *(f"d_a_{g}" for g in spec.gate_names),
                              *(f"d_{s}_prev" for s in spec.state_names))

    def describe(self, options):
        opts = ", ".join(f"{k}={v}" for k, v in options.items())
        return self.spec.label_in() + (f" ({opts})" if opts else "")

    def formula(self, key, options, backward=False):
        return ""

    def course_view(self, params, options):
        return {k[: -len("_l0")]: v for k, v in params.items() if k.endswith("_l0")}

    def given(self, trace):
        return list(trace.course.items())

    def config_options(self, src, options, notation):
        return options

    def _check_backward(self, trace):
        module = self.spec.module
        if getattr(module, "PARAMS", ()) or hasattr(module, "normalise_input"):
            raise ConfigError(say(f"{self.spec.describe()} has no backward trace hooks, and the generic "
                                  f"backward trace needs a cell without parameters of its own",
                                  f"{self.spec.describe()} n'a pas de fonctions de trace arrière, et la "
                                  f"trace arrière générique demande une cellule sans paramètres propres"))

    def record(self, trace, t, cache, x_t, h_prev):
        values = {k: np.array(v[0], dtype=np.float64) for k, v in cache.items()
                  if k not in self.SKIP and isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[0] == 1}
        return values, []

    def record_backward(self, trace, t, cache, d_state_t, d_xw, d_hw, d_prev, d_next, up, d_y):
        self._check_backward(trace)
        H = trace.hidden_size
        values = {f"d_{s}": d[0].copy() for s, d in zip(self.STATE_KEYS, d_state_t)}
        values.update({f"d_a_{g}": d_xw[self.spec.gate_rows(g, H)].copy() for g in self.spec.gate_names})
        values.update({f"d_{s}_prev": d[0].copy() for s, d in zip(self.STATE_KEYS, d_prev)})
        return values, []

    def gradient_names(self, trace):
        self._check_backward(trace)
        return [k for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if f"{k}_l0" in trace.params]

    def weight_factors(self, trace, t, cache, d_xw, d_hw, d_y=None):
        """``(∂L/∂pre-activation, input)`` pairs, or for W_hh of a cell with its own
        ``weight_hh_grad`` this step's term itself (no single outer product)."""
        cell, h_prev = trace.tape.cell, cache["h_prev"][0]
        w_hh = (d_hw, h_prev)
        if hasattr(cell.module, "weight_hh_grad"):
            w_hh = cell.weight_hh_grad(d_hw[None, :], h_prev[None, :], [cache])  # (G·H, H), this step
        factors = {"weight_ih": (d_xw, trace.x[t - 1]), "weight_hh": w_hh}
        if "bias_ih_l0" in trace.params:
            folded = trace.tape.cell.fold_b_hh  # a folded b_hh was added where b_ih was
            factors.update(bias_ih=(d_xw, None), bias_hh=(d_xw if folded else d_hw, None))
        return factors
