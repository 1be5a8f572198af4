"""Recurrent layers with PyTorch's interface: ``rnnlab.RNN``, ``rnnlab.LSTM``, ``rnnlab.GRU``.

A layer holds its parameters in one dict keyed like PyTorch's state dict (``weight_ih_l0``,
``bias_hh_l1_reverse``, ...) and calls :mod:`rnnlab.sequence` for every layer and direction.
``forward`` returns PyTorch's tuple; ``backward`` returns ∂L/∂input and fills ``grads`` (same
keys as the parameters) and ``d_hx`` (the gradient of the initial state).
"""

from __future__ import annotations

import numpy as np

from . import cells
from .cells import make_cell
from .errors import (ConfigError, ShapeError, ValueRangeError, describe_shape, expect_float_dtype,
                     expect_real)
from .i18n import integer, say
from .memory import UNCHECKED, recurrent_run_bytes, require
from .module import Module, as_array
from .sequence import unroll, unroll_backward


def _rng(rng=None, seed=None) -> np.random.Generator:
    if rng is not None and seed is not None:
        raise ConfigError(say("give rng or seed, not both", "donner « rng » ou « seed », pas les deux"))
    return rng if rng is not None else np.random.default_rng(seed)


class Recurrent(Module):
    """A stack of recurrent layers (``num_layers``, ``bidirectional``), PyTorch's ``nn.RNNBase``.

    Parameters
    ----------
    mode : a registered cell (:func:`rnnlab.cells.names`: "rnn", "lstm", "gru", …; "lnlstm" is
        the layer-normalised LSTM, spelled ``LSTM(layer_norm=True)``)
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional :
        as PyTorch. ``dropout`` is applied to the output of every layer but the last, in
        training mode only, with masks drawn from the layer's ``rng``.
    recurrent_dropout : variational dropout on the state entering the recurrence (Gal &
        Ghahramani 2016): in training mode, one Bernoulli(1 − p) mask per sequence, layer and
        direction, scaled by 1/(1 − p) and used at every step, h̃_{t-1} = h_{t-1} ⊙ m. The
        cell state C is never masked; the GRU keeps h_{t-1} unmasked in z ⊙ h_{t-1}. The
        weights are those of the plain layer (the masks act only in training).
    proj_size : P > 0 projects the output of a cell that allows it (the LSTM: Sak et al. 2014, as
        ``torch.nn.LSTM(proj_size=P)``): m_t = o_t ⊙ tanh(C_t) (H), h_t = W_hr m_t (P), with
        ``weight_hr_l{k}`` (P, H); h_t is what W_hh reads (``weight_hh_l{k}`` (4H, P)), what the
        next layer reads and the output; ``h_n`` is (L·dirs, B, P), ``c_n`` (L·dirs, B, H).
        0 (the default): no projection. P < hidden_size, as PyTorch requires.
    dtype : parameter dtype (float32 by default; float64 for exercises and gradient checks)
    rng, seed : the random source (initialisation and dropout); nothing uses the global RNG.
    **cell_options : ``nonlinearity`` (RNN), ``reset`` (GRU)

    Initialisation as PyTorch: every parameter ~ U(−√k, √k), k = 1 / hidden_size (the
    layer-normalised LSTM then sets its gains and shifts: :func:`rnnlab.cells.lnlstm.initialise`).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, proj_size=0, recurrent_dropout=0.0, dtype=np.float32,
                 rng=None, seed=None, **cell_options):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(say(f"{name}: expected a positive integer, got {value!r}",
                                      f"{name} : entier positif attendu, reçu {value!r}"))
        for name, p in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            is_number = isinstance(p, (int, float, np.number)) and not isinstance(p, bool)
            if not (is_number and 0.0 <= float(p) < 1.0):
                raise ConfigError(say(f"{name}: expected a probability in [0, 1), got {p!r}",
                                      f"« {name} » : probabilité dans [0, 1[ attendue, reçu {p!r}"))
        super().__init__()
        self.cell = make_cell(mode, **cell_options)
        self.mode = mode
        self.proj_size = _check_proj_size(proj_size, self.cell, hidden_size)
        self.input_size, self.hidden_size, self.num_layers = (int(input_size), int(hidden_size),
                                                              int(num_layers))
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dtype = expect_float_dtype("dtype", dtype)
        require(self._bytes(), f"{type(self).__name__}({input_size}, {hidden_size}, num_layers={num_layers})",
                say("hidden_size or num_layers", "hidden_size ou num_layers"))
        self.rng = _rng(rng, seed)
        k = 1.0 / hidden_size
        for name, shape in self._param_shapes():
            self._params[name] = self.rng.uniform(-np.sqrt(k), np.sqrt(k), size=shape).astype(self.dtype)
        if hasattr(self.cell.module, "initialise"):
            for layer in range(self.num_layers):
                for direction in range(self.num_directions):
                    self.cell.module.initialise(self._params, self._suffix(layer, direction),
                                                self.hidden_size)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.d_hx = None
        self.recurrent_masks = None  # the last forward's, per (layer, direction)
        self._tapes = None

    def _bytes(self, steps=0, sequences=0) -> int:
        """Memory of the parameters (with gradients and an optimiser's buffers), or with ``steps``
        the activations a forward keeps for BPTT (:mod:`rnnlab.memory`)."""
        return recurrent_run_bytes(self.cell.spec.gates, self.input_size, self.hidden_size, steps, sequences,
                                   num_layers=self.num_layers, directions=self.num_directions,
                                   itemsize=self.dtype.itemsize, parameters=not steps)

    def __init_subclass__(cls, cell=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if cell is not None:
            _LAYER_CLASSES[cell] = cls  # RNN, LSTM, GRU: the class make_layer builds for that cell

    # --- parameters ---------------------------------------------------------------------

    def _suffix(self, layer, direction):
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    @property
    def state_sizes(self) -> tuple:
        """The width of each state (``cell.state_names``): h is P with a projection, else H."""
        R = self.proj_size or self.hidden_size
        return (R,) + (self.hidden_size,) * (len(self.cell.state_names) - 1)

    def _param_shapes(self):
        GH, H, R = self.cell.gates * self.hidden_size, self.hidden_size, self.state_sizes[0]
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else R * self.num_directions
            for direction in range(self.num_directions):
                s = self._suffix(layer, direction)
                yield f"weight_ih{s}", (GH, in_size)
                yield f"weight_hh{s}", (GH, R)
                if self.bias:
                    yield f"bias_ih{s}", (GH,)
                    yield f"bias_hh{s}", (GH,)
                if self.proj_size:
                    yield f"weight_hr{s}", (self.proj_size, H)
                for name, width, _ in self.cell.extra_params:
                    yield f"{name}{s}", (width * H,)

    def extra_repr(self):
        """PyTorch's: the sizes, then only the options that differ from their defaults
        (``LSTM(10, 20, num_layers=2, batch_first=True)``); ``dtype`` unless float32."""
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False, "proj_size": 0, "recurrent_dropout": 0.0}
        options = {k: getattr(self, k) for k in defaults}
        options.update(self.cell.options)
        defaults.update(self.cell.spec.default_options())
        if self.cell.spec.layer_norm:
            options["layer_norm"] = True
        text = "".join(f", {k}={v!r}" for k, v in options.items() if k not in defaults or v != defaults[k])
        if self.dtype != np.float32:
            text += f", dtype={self.dtype.name}"
        mode = f"{self.mode!r}, " if type(self) is Recurrent else ""  # a subclass's name says the cell
        return f"{mode}{self.input_size}, {self.hidden_size}{text}"

    # --- input checks -------------------------------------------------------------------

    def _prepare(self, x, hx, lengths):
        x = as_array(x)
        name = type(self).__name__
        if x.ndim not in (2, 3):
            layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
            raise ShapeError(say(f"{name} input: expected 3 dimensions {layout} "
                                 f"or 2 (T, D), got shape {describe_shape(x.shape)}",
                                 f"{name}, entrée : 3 dimensions {layout} ou 2 (T, D) attendues, "
                                 f"reçu la forme {describe_shape(x.shape)}"))
        if x.shape[-1] != self.input_size:
            raise ShapeError(say(f"{name} input: expected input_size (last dimension) {self.input_size}, "
                                 f"got {x.shape[-1]} (input shape {describe_shape(x.shape)})",
                                 f"{name}, entrée : input_size (dernière dimension) {self.input_size} "
                                 f"attendu, reçu {x.shape[-1]} (forme de l'entrée "
                                 f"{describe_shape(x.shape)})"))
        unbatched = x.ndim == 2
        x = x[:, None, :] if unbatched else (x.swapaxes(0, 1) if self.batch_first else x)  # (T, B, D)
        T, B, _ = x.shape
        if T == 0 or B == 0:
            raise ShapeError(say(f"{name} input: expected at least one time step and one sequence, "
                                 f"got shape {describe_shape(x.shape)}",
                                 f"{name}, entrée : au moins un pas de temps et une séquence attendus, "
                                 f"reçu la forme {describe_shape(x.shape)}"))
        need = self._bytes(T, B)
        if need >= UNCHECKED:  # the message is written only for a size worth checking (not every step)
            require(need, say(f"{name} forward over {T} steps of {B} sequences",
                              f"{name}, propagation avant sur {integer(T)} pas de temps et "
                              f"{integer(B)} séquences"), say("T or the batch", "T ou le lot"))
        expect_real((f"{name} input", f"{name}, entrée"), x)
        x = np.ascontiguousarray(x, dtype=self.dtype)
        states = self._prepare_hx(hx, B, unbatched)
        mask = None
        if lengths is not None:
            lengths = as_array(lengths)
            if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
                raise ShapeError(say(f"{name} lengths: expected {B} integers (one per sequence), "
                                     f"got {lengths.dtype} of shape {describe_shape(lengths.shape)}",
                                     f"{name}, lengths : {integer(B)} entiers attendus (un par séquence), "
                                     f"reçu {lengths.dtype} de forme {describe_shape(lengths.shape)}"))
            if lengths.min() < 1 or lengths.max() > T:
                raise ValueRangeError(say(f"{name} lengths: expected values in 1..{T} (T = {T}), "
                                          f"got min {lengths.min()}, max {lengths.max()}",
                                          f"{name}, lengths : valeurs dans 1..{T} attendues (T = {T}), "
                                          f"reçu min {lengths.min()}, max {lengths.max()}"))
            mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
        return x, states, mask, unbatched

    def _prepare_hx(self, hx, B, unbatched):
        name = type(self).__name__
        n_states = len(self.cell.state_names)
        LD = self.num_layers * self.num_directions
        if hx is None:
            return tuple(np.zeros((LD, B, w), self.dtype) for w in self.state_sizes)
        if n_states == 2:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                length = say(f" of length {len(hx)}", f" de longueur {len(hx)}")
                got = type(hx).__name__ + (length if isinstance(hx, (tuple, list)) else "")
                raise ShapeError(say(f"{name} hx: expected a tuple (h_0, c_0), got {got}",
                                     f"{name}, hx : tuple (h_0, c_0) attendu, reçu {got}"))
            parts = tuple(hx)
        else:
            parts = (hx,)
        out = []
        for label, part, width in zip(self.cell.state_names, parts, self.state_sizes):
            part = as_array(part)
            want = (LD, width) if unbatched else (LD, B, width)
            if part.shape != want:
                size = "proj_size" if width != self.hidden_size else "hidden_size"
                batch = say("batch, ", "lot, ")
                axes = f"num_layers × num_directions, {'' if unbatched else batch}{size}"
                raise ShapeError(say(f"{name} {label}_0: expected shape {describe_shape(want)} ({axes}), "
                                     f"got {describe_shape(part.shape)}",
                                     f"{name}, {label}_0 : forme {describe_shape(want)} ({axes}) attendue, "
                                     f"reçu {describe_shape(part.shape)}"))
            expect_real(f"{name} {label}_0", part)
            out.append(np.asarray(part[:, None, :] if unbatched else part, dtype=self.dtype))
        return tuple(out)

    # --- forward and backward -------------------------------------------------------------

    def forward(self, x, hx=None, lengths=None):
        """Run the stack over ``x``.

        Parameters
        ----------
        x : (T, B, D), or (B, T, D) with ``batch_first``, or unbatched (T, D): a NumPy array, a
            torch tensor (read detached) or any array-like of real numbers, cast to the
            parameters' dtype (``dtype``), which is also that of every result
        hx : initial state ``(L·dirs, B, H)`` (LSTM: a tuple ``(h_0, c_0)``, h_0 of width P with
            ``proj_size``); zeros if None
        lengths : (B,) true lengths of a padded batch (as ``pack_padded_sequence``)

        Returns
        -------
        output : (T, B, dirs·H) (batch_first: (B, T, dirs·H)); zero past each length; P for H
            with ``proj_size``
        h_n : (L·dirs, B, H) (P with ``proj_size``); LSTM returns ``(h_n, c_n)``
        """
        x, states0, mask, unbatched = self._prepare(x, hx, lengths)
        layer_input = x
        finals = [[None] * (self.num_layers * self.num_directions) for _ in self.cell.state_names]
        self._tapes, self._drop_masks = [], []
        self.recurrent_masks = self._draw_recurrent_masks(x.shape[1])
        for layer in range(self.num_layers):
            outputs, tapes = [], []
            for direction in range(self.num_directions):
                idx = layer * self.num_directions + direction
                s = self._suffix(layer, direction)
                p = self.params
                out, final, tape = unroll(
                    self.cell, layer_input, tuple(st[idx] for st in states0),
                    p[f"weight_ih{s}"], p[f"weight_hh{s}"], p.get(f"bias_ih{s}"), p.get(f"bias_hh{s}"),
                    mask=mask, reverse=direction == 1,
                    h_mask=self.recurrent_masks[idx], W_hr=p.get(f"weight_hr{s}"),
                    cell_params={name: p[f"{name}{s}"] for name, _, _ in self.cell.extra_params})
                outputs.append(out)
                tapes.append(tape)
                for k, st in enumerate(final):
                    finals[k][idx] = st
            layer_input = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=-1)
            drop = None
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                drop = (self.rng.random(layer_input.shape) >= self.dropout) / (1.0 - self.dropout)
                layer_input = layer_input * drop.astype(self.dtype)
            self._tapes.append(tapes)
            self._drop_masks.append(drop)
        self._unbatched = unbatched
        output = layer_input
        finals = [f[0][None] if len(f) == 1 else np.stack(f) for f in finals]  # (L·dirs, B, ·)
        if unbatched:
            output, finals = output[:, 0], [f[:, 0] for f in finals]
        elif self.batch_first:
            output = output.swapaxes(0, 1)
        return output, (tuple(finals) if len(finals) == 2 else finals[0])

    def _draw_recurrent_masks(self, B):
        """Per (layer, direction): the recurrent dropout mask ``(B, H)`` (``(B, P)`` with a
        projection), or None (eval mode, p = 0)."""
        n, p = self.num_layers * self.num_directions, self.recurrent_dropout
        if not (self.training and p > 0):
            return [None] * n
        R = self.state_sizes[0]
        return [((self.rng.random((B, R)) >= p) / (1.0 - p)).astype(self.dtype) for _ in range(n)]

    def step_caches(self, level: int = 0, direction: int = 0) -> list:
        """The caches of the last :meth:`forward` at one level and direction, one per step in
        time order: what each step computed (``h``, the LSTM's ``c`` and ``gates``, the GRU's
        ``r``, ``z``, ``n`` …), ``(B, ·)`` views of the layer's buffers (the next forward may reuse
        them: copy what you keep); read by ``rnnlab lab``'s model inspector."""
        if not self._tapes:
            raise ConfigError(say(f"{type(self).__name__}.step_caches: call forward first",
                                  f"{type(self).__name__}.step_caches : appeler d'abord « forward »"))
        if not (0 <= level < self.num_layers and 0 <= direction < self.num_directions):
            levels, directions = f"0..{self.num_layers - 1}", f"0..{self.num_directions - 1}"
            raise ConfigError(say(f"{type(self).__name__}.step_caches: expected level in "
                                  f"{levels} and direction in {directions}, got {level}, {direction}",
                                  f"{type(self).__name__}.step_caches : niveau dans {levels} et direction "
                                  f"dans {directions} attendus, reçu {level} et {direction}"))
        return list(self._tapes[level][direction].caches)

    def backward(self, d_output, d_h_n=None, d_c_n=None):
        """BPTT through the last :meth:`forward`.

        ``d_output`` has the shape of ``output`` (``None`` for zeros); ``d_h_n``/``d_c_n`` that of
        ``h_n``/``c_n``. Returns ∂L/∂input (the input's shape); sets ``self.grads`` (keys of
        :meth:`state_dict`) and ``self.d_hx`` (∂L/∂h_0, or ``(∂L/∂h_0, ∂L/∂c_0)``).
        """
        if not self._tapes:
            where = f"{type(self).__name__}.backward"
            raise ConfigError(say(f"{where}: call forward first", f"{where} : appeler d'abord « forward »"))
        T, B = self._tapes[0][0].x.shape[:2]
        R, LD = self.state_sizes[0], self.num_layers * self.num_directions
        HD = R * self.num_directions
        d_out = self._grad_input("d_output", d_output, (T, B, HD), (B, T, HD), swap=True)
        d_finals = [self._grad_input(f"d_{n}_n", d, (LD, B, width))
                    for n, d, width in zip(self.cell.state_names, (d_h_n, d_c_n), self.state_sizes)]
        grads, d_init = {}, [[None] * (self.num_layers * self.num_directions) for _ in self.cell.state_names]
        for layer in range(self.num_layers - 1, -1, -1):
            if self._drop_masks[layer] is not None and d_out is not None:
                d_out = d_out * self._drop_masks[layer]
            d_input = None
            for direction, tape in enumerate(self._tapes[layer]):
                idx = layer * self.num_directions + direction
                d_dir = None if d_out is None else d_out[:, :, direction * R:(direction + 1) * R]
                d_final = tuple(None if d is None else d[idx] for d in d_finals)
                d_x, d_state0, g = unroll_backward(tape, d_dir, d_final)
                s = self._suffix(layer, direction)
                grads[f"weight_ih{s}"], grads[f"weight_hh{s}"] = g["W_ih"], g["W_hh"]
                if self.bias:
                    grads[f"bias_ih{s}"], grads[f"bias_hh{s}"] = g["b_ih"], g["b_hh"]
                if self.proj_size:
                    grads[f"weight_hr{s}"] = g["W_hr"]
                for name, _, _ in self.cell.extra_params:
                    grads[f"{name}{s}"] = g[name]
                for k, d in enumerate(d_state0):
                    d_init[k][idx] = d
                d_input = d_x if d_input is None else d_input + d_x
            d_out = d_input
        self._store_grads({name: grads[name].astype(self.dtype, copy=False) for name in self.params})
        d_init = [d[0][None] if len(d) == 1 else np.stack(d) for d in d_init]
        if self._unbatched:
            d_init = [d[:, 0] for d in d_init]
            d_out = d_out[:, 0]
        elif self.batch_first:
            d_out = d_out.swapaxes(0, 1)
        self.d_hx = tuple(d_init) if len(d_init) == 2 else d_init[0]
        return d_out

    def _grad_input(self, name, d, shape, batch_first_shape=None, swap=False):
        """Check an upstream gradient against the forward's shapes; return it time-major."""
        if d is None:
            return None
        where = f"{type(self).__name__}.backward {name}"
        d = expect_real(where, as_array(d))  # NaN in, NaN grads out
        d = d.astype(np.result_type(d, self.dtype), copy=False)
        want = ((shape[0],) + shape[2:] if self._unbatched
                else batch_first_shape if (swap and self.batch_first) else shape)
        if d.shape != want:
            raise ShapeError(say(f"{where}: expected shape {describe_shape(want)}, "
                                 f"got {describe_shape(d.shape)}",
                                 f"{where} : forme {describe_shape(want)} attendue, "
                                 f"reçu {describe_shape(d.shape)}"))
        if self._unbatched:
            return d[:, None]  # unbatched: a batch of one, time-major or not
        return d.swapaxes(0, 1) if (swap and self.batch_first) else d


_LAYER_CLASSES = {}  # cell name -> its own layer class (RNN, LSTM, GRU), filled by the subclasses


def _check_proj_size(proj_size, cell, hidden_size) -> int:
    """``proj_size`` as an int: 0, or 1..hidden_size−1 for a cell whose file allows a projection
    (``PROJECTION = True``: the LSTM)."""
    if not isinstance(proj_size, (int, np.integer)) or isinstance(proj_size, bool) or proj_size < 0:
        raise ConfigError(say(f"proj_size: expected a non-negative integer, got {proj_size!r}",
                              f"proj_size : entier positif ou nul attendu, reçu {proj_size!r}"))
    if proj_size and not getattr(cell.module, "PROJECTION", False):
        raise ConfigError(say(f"proj_size: {cell.spec.describe()} has no projection (expected proj_size=0, "
                              f"or the LSTM), got proj_size={proj_size}",
                              f"proj_size : {cell.spec.describe()} n'a pas de projection (proj_size=0 "
                              f"attendu, ou le LSTM), reçu proj_size={proj_size}"))
    if proj_size >= hidden_size:
        raise ConfigError(say(f"proj_size: expected an integer smaller than hidden_size={hidden_size} (as "
                              f"PyTorch), got {proj_size}",
                              f"proj_size : entier inférieur à hidden_size={hidden_size} attendu (comme "
                              f"PyTorch), reçu {proj_size}"))
    return int(proj_size)


def make_layer(cell, input_size, hidden_size, *, layer_norm=False, **options):
    """The layer of a registered cell: ``RNN``/``LSTM``/``GRU`` for the cells that have a class
    here, ``Recurrent(cell, …)`` for any other (a cell registered at run time).
    ``layer_norm=True`` asks for the cell's layer-normalised variant (:func:`rnnlab.cells.resolve`)."""
    mode = cells.resolve(cell, layer_norm)
    base = cells.get(mode).base
    cls = _LAYER_CLASSES.get(base)
    if cls is None:
        return Recurrent(mode, input_size, hidden_size, **options)
    if mode != base:
        options["layer_norm"] = True
    return cls(input_size, hidden_size, **options)


class RNN(Recurrent, cell="rnn"):
    """Elman RNN stack, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or ReLU), as ``torch.nn.RNN``;
    ``recurrent_dropout`` as in :class:`Recurrent`."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, recurrent_dropout=0.0,
                 dtype=np.float32, rng=None, seed=None):
        super().__init__("rnn", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, recurrent_dropout=recurrent_dropout, dtype=dtype, rng=rng, seed=seed,
                         nonlinearity=nonlinearity)


class LSTM(Recurrent, cell="lstm"):
    """LSTM stack (gates i, f, g, o), as ``torch.nn.LSTM``; ``forward`` returns ``output, (h_n, c_n)``.

    ``proj_size=P``: the LSTM with projections of Sak et al. 2014, h_t = W_hr (o_t ⊙ tanh(C_t)),
    as ``torch.nn.LSTM(proj_size=P)`` (see :class:`Recurrent`).

    ``layer_norm=True``: the layer-normalised LSTM of Ba et al. 2016 (:mod:`rnnlab.cells.lnlstm`;
    extra parameters ``ln_ih_gain_l0, ln_hh_gain_l0, ln_c_gain_l0, ln_c_bias_l0``, no PyTorch
    counterpart); ``recurrent_dropout`` as in :class:`Recurrent`."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, *, layer_norm=False, recurrent_dropout=0.0,
                 dtype=np.float32, rng=None, seed=None):
        if not isinstance(layer_norm, (bool, np.bool_)):
            raise ConfigError(say(f"layer_norm: expected True or False, got {layer_norm!r}",
                                  f"layer_norm : True ou False attendu, reçu « {layer_norm} »"))
        super().__init__(cells.resolve("lstm", bool(layer_norm)), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, proj_size=proj_size,
                         recurrent_dropout=recurrent_dropout, dtype=dtype, rng=rng, seed=seed)

    @property
    def layer_norm(self) -> bool:
        return self.cell.spec.layer_norm


class GRU(Recurrent, cell="gru"):
    """GRU stack (gates r, z, n), as ``torch.nn.GRU`` with ``reset="after"`` (the default), or the
    Chapitre's cell (Cho et al. 2014's reset) with ``reset="before"`` (no PyTorch counterpart);
    ``recurrent_dropout``
    as in :class:`Recurrent` (masks only the state entering W_hh)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, *, reset="after", recurrent_dropout=0.0, dtype=np.float32, rng=None,
                 seed=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, recurrent_dropout=recurrent_dropout, dtype=dtype, rng=rng, seed=seed,
                         reset=reset)
