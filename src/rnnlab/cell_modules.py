r"""One time step as a module: ``rnnlab.RNNCell``, ``rnnlab.GRUCell``, ``rnnlab.LSTMCell``, as
``torch.nn.RNNCell``, ``GRUCell``, ``LSTMCell``.

A cell holds ``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``, ``bias_ih``, ``bias_hh`` (G·H,) —
the names and shapes of PyTorch's cells, and those of a layer's ``_l0`` — and computes one step
of a registered cell (:mod:`rnnlab.cells`). It is not a second implementation: ``forward`` is
:func:`rnnlab.sequence.unroll` over a sequence of one step, ``backward`` its
:func:`~rnnlab.sequence.unroll_backward`, so the cell's ``step``/``step_backward`` and the
gradient GEMMs are exactly those of the layers. A student writes the time loop by hand::

    cell = rnnlab.LSTMCell(3, 5)
    h, c = np.zeros((B, 5)), np.zeros((B, 5))
    for x_t in x:                       # x (T, B, 3)
        h, c = cell(x_t, (h, c))

and that loop computes the numbers of ``rnnlab.LSTM(3, 5)`` holding the same weights. The
backward walks the loop in reverse, as autograd would: each ``forward`` remembers its step, each
``backward`` goes back through the latest step not yet gone back through; with
``accumulate_grads(True)`` the steps' gradients add up (the weights are shared across time)::

    cell.accumulate_grads().zero_grad()
    for t in reversed(range(T)):
        d_x[t] = cell.backward(d_out[t] + d_h, d_c)
        d_h, d_c = cell.d_hx

In eval mode a cell remembers only its last step (a generation loop keeps no history).

Shapes: ``x (B, D)`` or unbatched ``(D,)`` (a NumPy array, a torch tensor or any array-like
of real numbers, cast to the parameters' dtype, as ``hx`` is); ``hx`` ``(B, H)`` or ``(H,)``
(LSTM: ``(h, c)``), zeros when omitted; ``forward`` returns ``h'`` (LSTM: ``(h', c')``) in the same layout.
``backward(d_h, d_c=None)`` takes ∂L/∂h' (and ∂L/∂c'), returns ∂L/∂x, fills ``grads`` and sets
``d_hx`` (∂L/∂h, or ``(∂L/∂h, ∂L/∂c)``).
"""

from __future__ import annotations

import numpy as np

from .cells import make_cell
from .errors import ConfigError, ShapeError, describe_shape, expect_float_dtype, expect_real
from .i18n import say
from .layers import _rng
from .module import Module, as_array
from .sequence import unroll, unroll_backward


class RecurrentCell(Module):
    """One step of the registered cell ``mode`` (``"rnn"``, ``"lstm"``, ``"gru"``, …).

    Parameters
    ----------
    mode : a registered cell without parameters of its own (the layer-normalised LSTM has
        some: it has no cell module)
    input_size, hidden_size, bias : as PyTorch's cells
    dtype : parameter dtype (float32 by default; float64 for gradient checks)
    rng, seed : the random source of the initialisation
    **cell_options : ``nonlinearity`` (RNN), ``reset`` (GRU)

    Initialisation as PyTorch: every parameter ~ U(−√k, √k), k = 1 / hidden_size.
    """

    def __init__(self, mode, input_size, hidden_size, bias=True, *, dtype=np.float32, rng=None, seed=None,
                 **cell_options):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(say(f"{name}: expected a positive integer, got {value!r}",
                                      f"{name} : entier positif attendu, reçu {value!r}"))
        cell = make_cell(mode, **cell_options)
        if cell.extra_params or hasattr(cell.module, "normalise_input"):
            raise ConfigError(say(f"{type(self).__name__}: expected a cell without parameters of its own, "
                                  f"got {cell.spec.describe()} (use the layer)",
                                  f"{type(self).__name__} : une cellule sans paramètres propres attendue, "
                                  f"reçu {cell.spec.describe()} (utiliser la couche)"))
        super().__init__()
        self.cell, self.mode = cell, mode
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        self.dtype = expect_float_dtype("dtype", dtype)
        rng = _rng(rng, seed)
        bound = np.sqrt(1.0 / hidden_size)
        GH = cell.gates * self.hidden_size
        shapes = {"weight_ih": (GH, self.input_size), "weight_hh": (GH, self.hidden_size)}
        if self.bias:
            shapes.update(bias_ih=(GH,), bias_hh=(GH,))
        for name, shape in shapes.items():
            self._params[name] = rng.uniform(-bound, bound, size=shape).astype(self.dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self._params.items()}
        self.d_hx = None
        self._steps = []  # (tape, unbatched) of each forward not yet gone back through

    def extra_repr(self):
        """``LSTMCell(3, 5)``; then only what differs from PyTorch's defaults."""
        options = ({} if self.bias else {"bias": False})
        defaults = self.cell.spec.default_options()
        options.update({k: v for k, v in self.cell.options.items() if defaults.get(k) != v})
        text = "".join(f", {k}={v!r}" for k, v in options.items())
        if self.dtype != np.float32:
            text += f", dtype={self.dtype.name}"
        mode = f"{self.mode!r}, " if type(self) is RecurrentCell else ""
        return f"{mode}{self.input_size}, {self.hidden_size}{text}"

    # --- input checks -------------------------------------------------------------------

    def _array(self, label, value, want):
        """``value`` as an array of the parameters' dtype, checked to be of shape ``want``."""
        value = as_array(value)
        if value.shape != want:
            raise ShapeError(say(f"{type(self).__name__} {label}: expected shape {describe_shape(want)}, "
                                 f"got {describe_shape(value.shape)}",
                                 f"{type(self).__name__}, {label} : forme {describe_shape(want)} attendue, "
                                 f"reçu {describe_shape(value.shape)}"))
        expect_real((f"{type(self).__name__} {label}", f"{type(self).__name__}, {label}"), value)
        return np.asarray(value, dtype=self.dtype)

    def _prepare(self, x, hx):
        x = as_array(x)
        if x.ndim not in (1, 2):
            D = self.input_size
            raise ShapeError(say(f"{type(self).__name__} input: expected 2 dimensions (B, {D}) "
                                 f"or 1 ({D},), got shape {describe_shape(x.shape)}",
                                 f"{type(self).__name__}, entrée : 2 dimensions (B, {D}) ou 1 ({D},) "
                                 f"attendues, reçu la forme {describe_shape(x.shape)}"))
        unbatched = x.ndim == 1
        B = 1 if unbatched else x.shape[0]
        x = self._array(say("input", "entrée"), x, (self.input_size,) if unbatched else (B, self.input_size))
        names = self.cell.state_names
        if hx is None:
            zeros = tuple(np.zeros((B, self.hidden_size), self.dtype) for _ in names)
            return x.reshape(B, -1), zeros, unbatched
        if len(names) > 1 and not (isinstance(hx, (tuple, list)) and len(hx) == len(names)):
            raise ShapeError(say(f"{type(self).__name__} hx: expected a tuple ({', '.join(names)}), "
                                 f"got {type(hx).__name__}",
                                 f"{type(self).__name__}, hx : tuple ({', '.join(names)}) attendu, "
                                 f"reçu {type(hx).__name__}"))
        parts = tuple(hx) if len(names) > 1 else (hx,)
        want = (self.hidden_size,) if unbatched else (B, self.hidden_size)
        state = tuple(self._array(f"{n}", p, want).reshape(B, -1) for n, p in zip(names, parts))
        return x.reshape(B, -1), state, unbatched

    # --- forward and backward -------------------------------------------------------------

    def forward(self, x, hx=None):
        """One step: ``h' (B, H)`` (LSTM: ``(h', c')``) from ``x (B, D)`` and ``hx``; unbatched
        ``(D,)`` in, ``(H,)`` out. The registry's step, through the layers' own unroll."""
        x, state, unbatched = self._prepare(x, hx)
        p = self._params
        _, final, tape = unroll(self.cell, x[None], state, p["weight_ih"], p["weight_hh"],
                                p.get("bias_ih"), p.get("bias_hh"))
        if not self.training:
            self._steps.clear()
        self._steps.append((tape, unbatched))
        final = tuple(s[0] for s in final) if unbatched else final
        return final if len(final) > 1 else final[0]

    def backward(self, d_h, d_c=None):
        """∂L/∂x from ∂L/∂h' (and ∂L/∂c' for the LSTM; ``None`` for zeros); fills ``grads`` and
        sets ``d_hx`` (∂L/∂h, or ``(∂L/∂h, ∂L/∂c)``), in the layout of the forward."""
        if not self._steps:
            where = f"{type(self).__name__}.backward"
            raise ConfigError(say(f"{where}: expected a forward step to go back through, "
                                  f"got none (call forward first)",
                                  f"{where} : un pas de propagation avant à remonter attendu, "
                                  f"reçu aucun (appeler d'abord « forward »)"))
        tape, unbatched = self._steps[-1]
        B = tape.x.shape[1]
        want = (self.hidden_size,) if unbatched else (B, self.hidden_size)
        labels = [say(f"backward d_{n}", f"d_{n} de « backward »") for n in self.cell.state_names]
        d_final = tuple(None if d is None else self._array(label, d, want).reshape(B, -1)
                        for label, d in zip(labels, (d_h, d_c)))
        d_x, d_state, g = unroll_backward(tape, None, d_final)
        self._steps.pop()
        names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
        self._store_grads({names[k]: v.astype(self.dtype, copy=False) for k, v in g.items()})
        d_x = d_x[0]
        if unbatched:
            d_x, d_state = d_x[0], tuple(d[0] for d in d_state)
        self.d_hx = d_state if len(d_state) > 1 else d_state[0]
        return d_x


class RNNCell(RecurrentCell):
    """Elman cell, ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ReLU), as ``torch.nn.RNNCell``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *, dtype=np.float32, rng=None,
                 seed=None):
        super().__init__("rnn", input_size, hidden_size, bias, dtype=dtype, rng=rng, seed=seed,
                         nonlinearity=nonlinearity)


class LSTMCell(RecurrentCell):
    """LSTM cell (gates i, f, g, o), as ``torch.nn.LSTMCell``: ``(h', c') = cell(x, (h, c))``."""

    def __init__(self, input_size, hidden_size, bias=True, *, dtype=np.float32, rng=None, seed=None):
        super().__init__("lstm", input_size, hidden_size, bias, dtype=dtype, rng=rng, seed=seed)


class GRUCell(RecurrentCell):
    """GRU cell (gates r, z, n), as ``torch.nn.GRUCell`` with ``reset="after"`` (the default), or
    the Chapitre's cell (Cho et al. 2014's reset) with ``reset="before"`` (no PyTorch cell)."""

    def __init__(self, input_size, hidden_size, bias=True, *, reset="after", dtype=np.float32, rng=None,
                 seed=None):
        super().__init__("gru", input_size, hidden_size, bias, dtype=dtype, rng=rng, seed=seed, reset=reset)
