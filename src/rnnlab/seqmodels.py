r"""Sequence models on top of ``rnnlab.RNN/LSTM/GRU``: the course's architectures (Cours).

=============  ==========================================  =====================================
architecture   model                                       read-out
=============  ==========================================  =====================================
many-to-one    :class:`SequenceClassifier` (logits (B, K))  the state at each sequence's true
               :class:`SequenceRegressor` (values (B, K))   length (``h_n`` of the last layer;
                                                            both directions if bidirectional)
many-to-many   :class:`SequenceTagger` (logits (T, B, K))   the output at every step
one-to-many    :class:`SequenceGenerator` (values (T, B, K)) one input vector sets h_0; then the
                                                            previous output is the next input
=============  ==========================================  =====================================

Every model is a recurrent stack plus a linear head ``y = W h + b`` (the TD's
``y_t = softmax(V h_t)``: the head's ``weight`` is the course's V and the softmax lives in the
loss). ``forward`` returns the head's output; ``backward(d_output)`` returns ∂L/∂input and
fills ``model.grads``, keyed like ``model.params`` (``"rnn.weight_ih_l0"``, ``"head.weight"``,
…; the arrays in ``params`` are the live arrays of the layers, so an optimiser that updates
them in place trains the model).

The TD's classifier, corrected: ``SequenceClassifier(SeqModelConfig("classifier", 7, 10, 3,
cell="rnn", batch_first=True))`` maps an input (B=5, T=13, d=7) to logits (5, 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import cells
from .errors import ConfigError, ShapeError, describe_shape, expect_float_dtype, expect_real
from .i18n import say
from .layers import _rng, make_layer
from .models import Linear
from .module import Module, as_array

KINDS = ("classifier", "regressor", "tagger", "generator")


@dataclass(frozen=True)
class SeqModelConfig:
    """What a checkpoint needs to rebuild a model.

    ``input_size`` is the size of x_t (for the generator: of the conditioning vector);
    ``output_size`` the number of classes or of predicted values. ``recurrent_dropout`` is the
    variational dropout of Gal & Ghahramani (2016) (one mask per sequence, the same at every
    step, on h_{t-1} entering W_hh); ``layer_norm=True`` (with ``cell="lstm"``) is the
    layer-normalised LSTM of Ba et al. (2016). Both are options of the core layers
    (:class:`rnnlab.layers.Recurrent`). ``cell`` is any registered cell (:func:`rnnlab.cells.names`);
    the old spelling ``cell="lnlstm"`` (checkpoints before 0.3) is read as ``cell="lstm",
    layer_norm=True``.
    """

    kind: str
    input_size: int
    hidden_size: int
    output_size: int
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    batch_first: bool = False
    layer_norm: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(say(f"model kind: expected one of {', '.join(KINDS)}, got {self.kind!r}",
                                  f"type de modèle : l'un de {', '.join(KINDS)} attendu, "
                                  f"reçu « {self.kind} »"))
        if self.cell in cells.names(variants=True) and cells.get(self.cell).layer_norm:  # the old "lnlstm"
            if self.layer_norm is False:
                object.__setattr__(self, "layer_norm", True)
            object.__setattr__(self, "cell", cells.get(self.cell).base)
        if self.cell not in cells.names():
            raise ConfigError(say(f"cell: expected one of {', '.join(cells.names())}, got {self.cell!r}",
                                  f"cellule : l'une de {', '.join(cells.names())} attendue, "
                                  f"reçu « {self.cell} »"))
        cells.resolve(self.cell, self.layer_norm)
        for name in ("input_size", "hidden_size", "output_size", "num_layers"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(say(f"{name}: expected a positive integer, got {value!r}",
                                      f"{name} : entier positif attendu, reçu {value!r}"))
        if self.kind == "generator" and self.bidirectional:
            raise ConfigError(say("generator: a one-to-many model feeds its outputs forward; "
                                  "bidirectional makes no sense",
                                  "generator : un modèle « one-to-many » réinjecte ses sorties en entrée ; "
                                  "bidirectional n'a pas de sens"))
        for name in ("dropout", "recurrent_dropout"):
            p = getattr(self, name)
            if not 0.0 <= p < 1.0:
                raise ConfigError(say(f"{name}: expected a probability in [0, 1), got {p!r}",
                                      f"« {name} » : probabilité dans [0, 1[ attendue, reçu {p!r}"))

    def to_json(self) -> dict:
        return asdict(self)


def make_recurrent(config: SeqModelConfig, input_size: int, dtype, rng):
    """The recurrent stack a config asks for (``layer_norm=True`` is ``LSTM(layer_norm=True)``)."""
    return make_layer(config.cell, input_size, config.hidden_size, layer_norm=config.layer_norm,
                      num_layers=config.num_layers, bidirectional=config.bidirectional,
                      dropout=config.dropout, recurrent_dropout=config.recurrent_dropout, dtype=dtype,
                      rng=rng)


class _SequenceModel(Module):
    """A recurrent stack ``rnn`` and a linear ``head``; ``params`` keyed ``"rnn.…"``, ``"head.…"``."""

    def __init__(self, config: SeqModelConfig, *, dtype=np.float32, rng=None, seed=None):
        rng = _rng(rng, seed)
        super().__init__()
        self.config = config
        self.dtype = expect_float_dtype("dtype", dtype)
        self.rng = rng
        self.rnn = make_recurrent(config, self._rnn_input_size(), self.dtype, self.rng)
        dirs = 2 if config.bidirectional else 1
        self.head = Linear(dirs * config.hidden_size, config.output_size, dtype=self.dtype, rng=self.rng)

    def _rnn_input_size(self):
        return self.config.input_size

    def _time_major(self, x):
        x = as_array(x)
        if x.dtype.kind not in "iuf":  # complex, boolean, text: refused before the cast loses it
            expect_real((f"{type(self).__name__} input", f"{type(self).__name__}, entrée"), x)
        x = x.astype(self.dtype, copy=False)
        if x.ndim != 3:
            want = "(B, T, D)" if self.config.batch_first else "(T, B, D)"
            raise ShapeError(say(f"{type(self).__name__} input: expected shape {want}, "
                                 f"got {describe_shape(x.shape)}",
                                 f"{type(self).__name__}, entrée : forme {want} attendue, "
                                 f"reçu {describe_shape(x.shape)}"))
        return x.swapaxes(0, 1) if self.config.batch_first else x


class _ManyToOne(_SequenceModel):
    """Read the final state of the last layer at each sequence's true length, then the head.

    feature = h_T (unidirectional) or [h_T^→, h_1^←] (bidirectional: the forward direction
    after the last valid step, the backward direction after reading x_1), (B, dirs·H).
    """

    def forward(self, x, lengths=None):
        """``x (T, B, D)`` (``(B, T, D)`` with batch_first); ``lengths (B,)``. Returns (B, K)."""
        x = self._time_major(x)
        _, final = self.rnn.forward(x, lengths=lengths)
        h_n = final[0] if isinstance(final, tuple) else final  # (L·dirs, B, H)
        self._h_shape, self._is_tuple = h_n.shape, isinstance(final, tuple)
        dirs = 2 if self.config.bidirectional else 1
        feature = np.concatenate(list(h_n[-dirs:]), axis=-1)  # (B, dirs·H)
        return self.head.forward(feature)

    def backward(self, d_out):
        """``d_out (B, K)`` = ∂L/∂output; returns ∂L/∂x in the input's layout."""
        d_feature = self.head.backward(np.asarray(d_out, dtype=self.dtype))  # (B, dirs·H)
        dirs, H = (2 if self.config.bidirectional else 1), self.config.hidden_size
        d_h_n = np.zeros(self._h_shape, dtype=self.dtype)
        for d in range(dirs):
            d_h_n[len(d_h_n) - dirs + d] = d_feature[:, d * H:(d + 1) * H]
        d_x = self.rnn.backward(None, d_h_n)
        return d_x.swapaxes(0, 1) if self.config.batch_first else d_x


class SequenceClassifier(_ManyToOne):
    """Many-to-one classifier: logits (B, K); ``predict_proba`` = softmax (the TD's y)."""

    def predict_proba(self, x, lengths=None):
        from .functional import softmax

        return softmax(self.forward(x, lengths), axis=-1)


class SequenceRegressor(_ManyToOne):
    """Many-to-one regressor: values (B, K) (the forecaster's next value, the adding problem's sum)."""


class SequenceTagger(_SequenceModel):
    """Many-to-many: one output per step, ``y_t = W h_t + b`` with h_t the (bidirectional) output."""

    def forward(self, x, lengths=None):
        """Returns (T, B, K) (``(B, T, K)`` with batch_first); zero rows past each length
        before the head (the head's bias remains: mask them out in the loss)."""
        x = self._time_major(x)
        out, _ = self.rnn.forward(x, lengths=lengths)  # (T, B, dirs·H)
        T, B, F = out.shape
        y = self.head.forward(out.reshape(T * B, F)).reshape(T, B, -1)
        return y.swapaxes(0, 1) if self.config.batch_first else y

    def backward(self, d_out):
        d_out = np.asarray(d_out, dtype=self.dtype)
        d_out = d_out.swapaxes(0, 1) if self.config.batch_first else d_out
        T, B, K = d_out.shape
        d_h = self.head.backward(d_out.reshape(T * B, K)).reshape(T, B, -1)
        d_x = self.rnn.backward(d_h)
        return d_x.swapaxes(0, 1) if self.config.batch_first else d_x


class SequenceGenerator(_SequenceModel):
    """One-to-many: a vector ``v (B, C)`` sets the initial state, the sequence unrolls from it.

        h_0 = tanh(W_s v + b_s)   (every layer; LSTM: C_0 = 0)
        x_t = y_{t−1} (x_0 = 0),  h_t = cell(x_t, h_{t−1}),  y_t = W h_t + b

    Training feeds the true previous values (teacher forcing, :meth:`forward`); :meth:`generate`
    feeds back its own outputs.
    """

    def __init__(self, config: SeqModelConfig, *, dtype=np.float32, rng=None, seed=None):
        super().__init__(config, dtype=dtype, rng=rng, seed=seed)
        LH = config.num_layers * config.hidden_size
        rnn, head = self.rnn, self.head
        self.init = Linear(config.input_size, LH, dtype=self.dtype, rng=self.rng)
        self.rnn, self.head = rnn, head  # keys in the order of the computation: init., rnn., head.

    def _rnn_input_size(self):
        return self.config.output_size

    @staticmethod
    def teacher_inputs(targets):
        """``(y_0, …, y_{T−1}) -> (0, y_0, …, y_{T−2})``, time-major (T, B, K)."""
        targets = np.asarray(targets)
        return np.concatenate([np.zeros_like(targets[:1]), targets[:-1]], axis=0)

    def _initial_state(self, v):
        v = np.asarray(v, dtype=self.dtype)
        C = self.config.input_size
        if v.ndim != 2 or v.shape[1] != C:
            raise ShapeError(say(f"SequenceGenerator condition: expected shape (B, {C}), "
                                 f"got {describe_shape(v.shape)}",
                                 f"SequenceGenerator, condition : forme (B, {C}) attendue, "
                                 f"reçu {describe_shape(v.shape)}"))
        B, L, H = v.shape[0], self.config.num_layers, self.config.hidden_size
        self._h0 = np.tanh(self.init.forward(v))  # (B, L·H)
        h0 = np.ascontiguousarray(self._h0.reshape(B, L, H).swapaxes(0, 1))  # (L, B, H)
        return (h0, np.zeros_like(h0)) if len(self.rnn.cell.state_names) == 2 else h0

    def forward(self, v, inputs):
        """``v (B, C)``, ``inputs (T, B, K)`` (the previous outputs); returns y (T, B, K), time-major."""
        hx = self._initial_state(v)
        inputs = np.asarray(inputs, dtype=self.dtype)
        out, _ = self.rnn.forward(inputs, hx)  # (T, B, H)
        T, B, H = out.shape
        return self.head.forward(out.reshape(T * B, H)).reshape(T, B, -1)

    def backward(self, d_out):
        """Returns ∂L/∂v (B, C); fills grads of the init projection, the stack and the head."""
        d_out = np.asarray(d_out, dtype=self.dtype)
        T, B, K = d_out.shape
        d_h = self.head.backward(d_out.reshape(T * B, K)).reshape(T, B, -1)
        self.rnn.backward(d_h)
        d_h0 = self.rnn.d_hx[0] if isinstance(self.rnn.d_hx, tuple) else self.rnn.d_hx  # (L, B, H)
        d_h0 = d_h0.swapaxes(0, 1).reshape(B, -1) * (1.0 - self._h0 ** 2)  # through tanh
        return self.init.backward(d_h0)

    def generate(self, v, steps: int):
        """Unroll ``steps`` outputs from ``v (B, C)``, each output fed back as the next input."""
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ConfigError(say(f"steps: expected a positive integer, got {steps!r}",
                                  f"« steps » : entier positif attendu, reçu {steps!r}"))
        was_training = self.training
        self.eval()  # no dropout masks while generating
        try:
            hx = self._initial_state(v)
            B, K = np.shape(v)[0], self.config.output_size
            x = np.zeros((1, B, K), self.dtype)
            ys = []
            for _ in range(steps):
                out, hx = self.rnn.forward(x, hx)
                y = self.head.forward(out[0])  # (B, K)
                ys.append(y)
                x = y[None]
        finally:
            self.train(was_training)
        return np.stack(ys)  # (steps, B, K)


MODELS = {"classifier": SequenceClassifier, "regressor": SequenceRegressor,
          "tagger": SequenceTagger, "generator": SequenceGenerator}


def build_model(config: SeqModelConfig, *, dtype=np.float32, rng=None, seed=None):
    """The model class of ``config.kind``, built from the config."""
    return MODELS[config.kind](config, dtype=dtype, rng=rng, seed=seed)
