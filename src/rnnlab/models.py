r"""Models built from the core layers: :class:`Linear`, :class:`Embedding`, :class:`Dropout` and the
character-level language model :class:`CharLM` (the Notebook, done properly).

Every module is a :class:`rnnlab.module.Module`: its parameters in ``params`` (a live view of
the arrays the optimisers update in place) and, after ``backward``, their gradients in
``grads`` under the same keys. A model's
keys are those of the state dict of the equivalent PyTorch module, so weights move across with
no arithmetic::

    CharLM                       torch equivalent
    embedding.weight  (V, E)     nn.Embedding(V, E)
    rnn.weight_ih_l0  (G·H, E)   nn.LSTM(E, H, num_layers)   (or nn.RNN / nn.GRU)
    rnn.weight_hh_l0  (G·H, H)
    rnn.bias_ih_l0, rnn.bias_hh_l0, …_l1 …
    head.weight       (V, H)     nn.Linear(H, V)
    head.bias         (V,)

The language model, for a stream of character ids ``x_1 … x_T`` and targets ``x_2 … x_{T+1}``::

    e_t = E[x_t]                      embedding: the seed's W_xh · onehot(x_t), with E = W_xhᵀ
    h_t = cell(e_t, h_{t-1})          stacked RNN / LSTM / GRU (the core's unroll)
    y_t = softmax(W_hy h_t + b_y)     head
    L   = −(1 / TB) Σ_t Σ_b log y_t[x_{t+1}]      mean cross-entropy, nats per character

Regularisers (training only): ``dropout`` between layers and before the head; ``recurrent_dropout``
feeds W_hh with h_{t-1} ⊙ m, one mask m per layer and window; ``layer_norm`` makes the cell Ba et
al.'s layer-normalised LSTM (:mod:`rnnlab.cells.lnlstm`).
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError, ShapeError, ValueRangeError, describe_shape, expect_float_dtype, expect_real
from .functional import cross_entropy
from .i18n import say
from . import cells, kernels
from .layers import _rng, make_layer
from .module import Module, as_array


class Linear(Module):
    r"""``y = x Wᵀ + b`` over the last axis, as ``torch.nn.Linear``.

    Backward: ``∂L/∂W = Σ_n dy_nᵀ x_n``, ``∂L/∂b = Σ_n dy_n``, ``∂L/∂x = dy W``.
    Initialisation as PyTorch: W, b ~ U(−1/√in, 1/√in).
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=np.float32, rng=None, seed=None):
        super().__init__()
        rng = _rng(rng, seed)
        bound = 1.0 / np.sqrt(in_features)
        self._params["weight"] = rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        if bias:
            self._params["bias"] = rng.uniform(-bound, bound, (out_features,)).astype(dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x = None

    def extra_repr(self):
        out, in_ = self.params["weight"].shape
        return f"in_features={in_}, out_features={out}, bias={'bias' in self.params}"

    def forward(self, x):
        W = self.params["weight"]
        x = expect_real(("Linear input", "Linear, entrée"), as_array(x))
        if x.shape[-1] != W.shape[1]:
            raise ShapeError(say(f"Linear input: expected last dimension {W.shape[1]}, "
                                 f"got shape {describe_shape(x.shape)}",
                                 f"Linear, entrée : dernière dimension {W.shape[1]} attendue, "
                                 f"reçu la forme {describe_shape(x.shape)}"))
        self._x = x
        # one GEMM over the rows: a (T, B, in) @ (in, out) would be T GEMMs, or T vector products at B = 1
        y = (x.reshape(-1, W.shape[1]) @ W.T).reshape(*x.shape[:-1], W.shape[0])  # (..., out)
        if "bias" in self.params:
            y += self.params["bias"]
        return y

    def backward(self, d_y):
        x, W = self._x, self.params["weight"]
        x2, d2 = x.reshape(-1, x.shape[-1]), d_y.reshape(-1, d_y.shape[-1])  # (N, in), (N, out)
        grads = {"weight": (d2.T @ x2).astype(W.dtype, copy=False)}
        if "bias" in self.params:
            grads["bias"] = d2.sum(axis=0).astype(W.dtype, copy=False)
        self._store_grads(grads)
        return (d2 @ W).reshape(*d_y.shape[:-1], W.shape[1])  # (..., in), one GEMM as forward


class Embedding(Module):
    r"""A lookup table ``e = E[x]``, as ``torch.nn.Embedding``.

    It is the seed's ``W_xh · onehot(x)`` without the multiplication by zeros: with
    ``E = W_xhᵀ (V, E_dim)``, ``E[x] = onehot(x) E``. Backward adds each row's gradient to the
    row it was read from (a character seen twice gets both): ``∂L/∂E[v] = Σ_{n: x_n = v} de_n``.
    Initialisation as PyTorch: N(0, 1).
    """

    def __init__(self, num_embeddings, embedding_dim, *, dtype=np.float32, rng=None, seed=None):
        super().__init__()
        rng = _rng(rng, seed)
        self._params["weight"] = rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype)
        self.grads = {"weight": np.zeros_like(self.params["weight"])}
        self._ids = None

    def extra_repr(self):
        return "{}, {}".format(*self.params["weight"].shape)

    def forward(self, ids):
        ids = np.asarray(ids)
        V = self.params["weight"].shape[0]
        if not np.issubdtype(ids.dtype, np.integer):
            raise ShapeError(say(f"Embedding input: expected integer ids, got dtype {ids.dtype}",
                                 f"entrée de « Embedding » : identifiants entiers attendus, "
                                 f"reçu le dtype {ids.dtype}"))
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueRangeError(say(f"Embedding input: expected ids in 0..{V - 1}, "
                                      f"got min {ids.min()}, max {ids.max()}",
                                      f"entrée de « Embedding » : identifiants dans 0..{V - 1} attendus, "
                                      f"reçu min {ids.min()}, max {ids.max()}"))
        self._ids = ids
        return self.params["weight"][ids]  # (..., E)

    def backward(self, d_e):
        W = self.params["weight"]
        ids, d_e = self._ids.reshape(-1), d_e.reshape(-1, W.shape[1])  # (N,), (N, E)
        if ids.size == 0:
            self._store_grads({"weight": np.zeros_like(W)})
            return None
        grad = np.zeros_like(W)
        if kernels.usable(grad, d_e):  # the same sums, row after row, in one compiled pass
            kernels.embedding_backward(ids, d_e, grad)
        else:
            order = np.argsort(ids, kind="stable")  # rows of the same id side by side
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # first row of each id
            grad[sorted_ids[starts]] = np.add.reduceat(d_e[order], starts, axis=0)  # Σ over repeated ids
        self._store_grads({"weight": grad})
        return None  # ids have no gradient


class Dropout(Module):
    r"""Inverted dropout, as ``torch.nn.Dropout``: in training, ``y = x ⊙ m / (1 − p)`` with
    ``m_k ~ Bernoulli(1 − p)``; the identity in eval mode. Backward: ``dx = dy ⊙ m / (1 − p)``."""

    def __init__(self, p=0.0, *, rng=None, seed=None):
        if not 0.0 <= float(p) < 1.0:
            raise ConfigError(say(f"dropout: expected a probability in [0, 1), got {p!r}",
                                  f"« dropout » : probabilité dans [0, 1[ attendue, reçu {p!r}"))
        super().__init__()
        self.p, self.rng = float(p), _rng(rng, seed)
        self._scale = None

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        if not self.training or self.p == 0.0:
            self._scale = None
            return x
        # m / (1 − p) in x's dtype, in one pass (the same values as dividing in float64, then casting)
        self._scale = np.multiply(self.rng.random(x.shape) >= self.p, x.dtype.type(1.0 / (1.0 - self.p)),
                                  dtype=x.dtype)
        return x * self._scale

    def backward(self, d_y):
        return d_y if self._scale is None else d_y * self._scale


class CharLM(Module):
    """Character-level language model: embedding → stacked RNN/LSTM/GRU → dropout → linear.

    Parameters
    ----------
    vocab_size : number of characters V
    cell : a registered cell (:func:`rnnlab.cells.names`: "rnn", "lstm", "gru", …)
    hidden_size, num_layers : of the recurrent stack
    embedding_dim : E (default: min(V, 64))
    dropout : between recurrent layers and before the head (training only)
    recurrent_dropout : variational dropout on h_{t-1} entering W_hh (Gal & Ghahramani 2016;
        :class:`rnnlab.layers.Recurrent`): one mask per layer and per call of :meth:`forward`,
        so with truncated BPTT one mask per window of T characters, the same at its T steps;
        training only
    layer_norm : the layer-normalised LSTM of Ba et al. 2016 (``cell="lstm"`` only; extra
        parameters ``rnn.ln_ih_gain_l0``, ``rnn.ln_hh_gain_l0``, ``rnn.ln_c_gain_l0``,
        ``rnn.ln_c_bias_l0`` …, no PyTorch counterpart)
    dtype : float32 for training, float64 for gradient checks
    rng, seed : one ``numpy.random.Generator`` for initialisation and every dropout mask

    ``params`` and ``grads`` are flat dicts keyed like the equivalent PyTorch model's state dict
    (module names ``embedding``, ``rnn``, ``head``).
    """

    def __init__(self, vocab_size, cell="lstm", hidden_size=256, num_layers=1, embedding_dim=None,
                 dropout=0.0, recurrent_dropout=0.0, layer_norm=False, *, dtype=np.float32, rng=None,
                 seed=None):
        if cell not in cells.names():
            raise ConfigError(say(f"cell: expected one of {', '.join(cells.names())}, got {cell!r}",
                                  f"cellule : l'une de {', '.join(cells.names())} attendue, reçu « {cell} »"))
        if not isinstance(layer_norm, (bool, np.bool_)):
            raise ConfigError(say(f"layer_norm: expected True or False, got {layer_norm!r}",
                                  f"layer_norm : True ou False attendu, reçu « {layer_norm} »"))
        cells.resolve(cell, bool(layer_norm))  # a cell with a layer-normalised variant (the LSTM)
        for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(say(f"{name}: expected a positive integer, got {value!r}",
                                      f"{name} : entier positif attendu, reçu {value!r}"))
        super().__init__()
        self.rng = _rng(rng, seed)
        self.vocab_size, self.cell_name = int(vocab_size), cell
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.embedding_dim = int(embedding_dim or min(vocab_size, 64))
        self.dtype = expect_float_dtype("dtype", dtype)
        self.embedding = Embedding(vocab_size, self.embedding_dim, dtype=dtype, rng=self.rng)
        self.rnn = make_layer(cell, self.embedding_dim, hidden_size, layer_norm=bool(layer_norm),
                              num_layers=num_layers, dropout=dropout, recurrent_dropout=recurrent_dropout,
                              dtype=dtype, rng=self.rng)
        self.drop = Dropout(dropout, rng=self.rng)
        self.head = Linear(hidden_size, vocab_size, dtype=dtype, rng=self.rng)
        self._d_logits = None

    def config(self) -> dict:
        """What it takes to build the same model again (stored in checkpoints)."""
        return {"vocab_size": self.vocab_size, "cell": self.cell_name, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "embedding_dim": self.embedding_dim, "dropout": self.drop.p,
                "recurrent_dropout": self.rnn.recurrent_dropout, "layer_norm": self.layer_norm}

    @property
    def layer_norm(self) -> bool:
        """Whether the recurrent stack is the layer-normalised LSTM."""
        return self.rnn.cell.spec.layer_norm

    def initial_state(self, batch_size):
        """Zeros: ``h_0 (L, B, H)``, or a tuple ``(h_0, c_0)`` for a cell with two states (the LSTM)."""
        shape = (self.num_layers, batch_size, self.hidden_size)
        zeros = tuple(np.zeros(shape, self.dtype) for _ in self.rnn.cell.state_names)
        return zeros if len(zeros) > 1 else zeros[0]

    def forward(self, ids, state=None):
        """``ids (T, B)`` -> ``logits (T, B, V)``, final state (the next batch's initial state)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ShapeError(say(f"CharLM input: expected ids of shape (T, B), "
                                 f"got {describe_shape(ids.shape)}",
                                 f"CharLM, entrée : identifiants de forme (T, B) attendus, "
                                 f"reçu {describe_shape(ids.shape)}"))
        e = self.embedding.forward(ids)  # (T, B, E)
        h, state_n = self.rnn.forward(e, state)  # (T, B, H)
        h = self.drop.forward(h)
        logits = self.head.forward(h)  # (T, B, V)
        return logits, state_n

    def loss(self, ids, targets, state=None):
        """Mean cross-entropy (nats per character) of ``targets (T, B)`` given ``ids (T, B)``.

        Returns ``(loss, final_state)`` and keeps ∂L/∂logits for :meth:`backward`."""
        logits, state_n = self.forward(ids, state)
        T, B, V = logits.shape
        targets = np.asarray(targets)
        if targets.shape != (T, B):
            raise ShapeError(say(f"CharLM targets: expected shape {describe_shape((T, B))}, "
                                 f"got {describe_shape(targets.shape)}",
                                 f"CharLM, cibles : forme {describe_shape((T, B))} attendue, "
                                 f"reçu {describe_shape(targets.shape)}"))
        loss, d_logits = cross_entropy(logits.reshape(T * B, V), targets.reshape(T * B))
        self._d_logits = d_logits.reshape(T, B, V)
        return loss, state_n

    def backward(self):
        """BPTT from the last :meth:`loss` (the final state gets no gradient: truncated BPTT).

        Fills ``grads`` (the keys of ``params``)."""
        if self._d_logits is None:
            raise ConfigError(say("CharLM.backward: call loss() first",
                                  "CharLM.backward : appeler d'abord « loss() »"))
        d_h = self.head.backward(self._d_logits)  # (T, B, H)
        d_h = self.drop.backward(d_h)
        d_e = self.rnn.backward(d_h)  # (T, B, E)
        self.embedding.backward(d_e)
        self._d_logits = None
        return self.grads

    def step(self, ids, state=None):
        """One time step for generation: ``ids (B,)`` -> ``logits (B, V)`` float64, new state."""
        logits, state = self.forward(np.asarray(ids).reshape(1, -1), state)
        return logits[0].astype(np.float64), state

    def __repr__(self):
        return (f"CharLM(vocab_size={self.vocab_size}, cell={self.cell_name!r}, "
                f"hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, embedding_dim={self.embedding_dim}, dropout={self.drop.p}, "
                f"recurrent_dropout={self.rnn.recurrent_dropout}, layer_norm={self.layer_norm}, "
                f"dtype={self.dtype.name}, parameters={self.num_parameters():,})")
