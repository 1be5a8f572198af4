r"""PyTorch counterparts of rnnlab's models, with the same state-dict keys (torch, and the
cells' torch counterparts, come from :mod:`rnnlab.interop._torch`).

=========================  ==========================================  ===========================
rnnlab                     torch module here                           keys
=========================  ==========================================  ===========================
``models.CharLM``          :class:`TorchCharLM`                        ``embedding.weight``,
                                                                       ``rnn.weight_ih_l0`` …,
                                                                       ``head.weight``, ``head.bias``
``seqmodels.Sequence*``    :class:`TorchSequenceModel` (the config's   ``rnn.*``, ``head.*``
                           ``kind``)                                   (generator: ``init.*``)
=========================  ==========================================  ===========================

Each computes what the NumPy model computes (same equations, see their docstrings), so that
:func:`rnnlab.interop.to_torch` / :func:`~rnnlab.interop.from_torch` move a model across and
its outputs stay equal; cuDNN runs them on a GPU.
"""

from __future__ import annotations

import numpy as np

from .. import cells
from ..errors import ConfigError, ShapeError, describe_shape
from ..i18n import say
from ._torch import load_into_torch, nn, state_dict_from_torch, torch, torch_counterpart, torch_dtype


def make_torch_rnn(cell, input_size, hidden_size, *, cell_options=None, **opts):
    """The torch recurrent module of a registered cell (``nn.RNN``/``nn.LSTM``/``nn.GRU``;
    :class:`CourseGRU` for a GRU with reset="before"); ConfigError for a cell without one."""
    cls, cell_kwargs = torch_counterpart(cell, cell_options or {}, "torch model")
    if opts.get("num_layers", 1) == 1:
        # torch warns; no layer to drop between
        opts = dict(opts, dropout=0.0) if opts.get("dropout") else opts
    return cls(input_size, hidden_size, **opts, **cell_kwargs)


class TorchCharLM(nn.Module):
    """:class:`rnnlab.models.CharLM` in torch: ``ids (T, B)`` → ``logits (T, B, V)``, final state.

    ``e_t = E[x_t]``, ``h_t = cell(e_t, h_{t-1})`` (dropout between layers), dropout,
    ``logits_t = W_hy h_t + b_y``; the cross-entropy lives in the loss, as in CharLM.
    """

    def __init__(self, vocab_size, cell="lstm", hidden_size=256, num_layers=1, embedding_dim=None,
                 dropout=0.0, *, dtype=torch.float32, device=None):
        super().__init__()
        self.vocab_size, self.cell_name = int(vocab_size), cell
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.embedding_dim = int(embedding_dim or min(vocab_size, 64))
        kw = {"dtype": dtype, "device": device}
        self.embedding = nn.Embedding(vocab_size, self.embedding_dim, **kw)
        self.rnn = make_torch_rnn(cell, self.embedding_dim, hidden_size, num_layers=num_layers,
                                  dropout=dropout, **kw)
        self.dropout = float(dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size, **kw)

    def config(self) -> dict:
        """The same dict as ``CharLM.config()`` (what a checkpoint stores); torch's recurrent
        layers have neither recurrent dropout nor layer normalisation."""
        return {"vocab_size": self.vocab_size, "cell": self.cell_name, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "embedding_dim": self.embedding_dim, "dropout": self.dropout,
                "recurrent_dropout": 0.0, "layer_norm": False}

    def forward(self, ids, state=None):
        if ids.dim() != 2:
            raise ShapeError(say(f"TorchCharLM input: expected ids of shape (T, B), "
                                 f"got {describe_shape(tuple(ids.shape))}",
                                 f"TorchCharLM, entrée : identifiants de forme (T, B) attendus, "
                                 f"reçu {describe_shape(tuple(ids.shape))}"))
        e = self.embedding(ids)  # (T, B, E)
        h, state_n = self.rnn(e, state)  # (T, B, H)
        return self.head(self.drop(h)), state_n  # (T, B, V)


class TorchSequenceModel(nn.Module):
    """:mod:`rnnlab.seqmodels`' four architectures in torch, chosen by ``config.kind``.

    classifier / regressor (many-to-one): ``head([h_T^→, h_1^←])`` at each true length;
    tagger (many-to-many): ``head(output_t)``, output zero past each length;
    generator (one-to-many): ``h_0 = tanh(W_s v + b_s)`` per layer (LSTM: C_0 = 0), then
    ``y_t = head(h_t)`` with inputs the previous outputs.
    """

    def __init__(self, config, *, dtype=torch.float32, device=None):
        super().__init__()
        mode = cells.resolve(config.cell, config.layer_norm)
        if not cells.get(mode).torch or config.recurrent_dropout > 0:
            able = ", ".join(s.name for s in cells.REGISTRY.values() if s.torch)
            p = config.recurrent_dropout
            raise ConfigError(say(f"torch model: cell {mode!r} with recurrent_dropout={p} "
                                  f"has no torch counterpart (expected a cell among {able} and "
                                  f"recurrent_dropout=0)",
                                  f"modèle torch : la cellule {mode!r} avec recurrent_dropout={p} "
                                  f"n'a pas d'équivalent torch (une cellule parmi {able} et "
                                  f"recurrent_dropout=0 attendues)"))
        self.config = config
        kw = {"dtype": dtype, "device": device}
        dirs = 2 if config.bidirectional else 1
        in_size = config.output_size if config.kind == "generator" else config.input_size
        if config.kind == "generator":
            self.init = nn.Linear(config.input_size, config.num_layers * config.hidden_size, **kw)
        self.rnn = make_torch_rnn(config.cell, in_size, config.hidden_size, num_layers=config.num_layers,
                                  bidirectional=config.bidirectional, dropout=config.dropout, **kw)
        self.head = nn.Linear(dirs * config.hidden_size, config.output_size, **kw)

    def _time_major(self, x):
        if x.dim() != 3:
            raise ShapeError(say(f"{self.config.kind} input: expected 3 dimensions, "
                                 f"got {describe_shape(tuple(x.shape))}",
                                 f"{self.config.kind}, entrée : 3 dimensions attendues, "
                                 f"reçu {describe_shape(tuple(x.shape))}"))
        return x.transpose(0, 1) if self.config.batch_first else x

    def _run(self, x, lengths, hx=None):
        """The stack over time-major ``x``; packed when ``lengths`` are given (zeros past them)."""
        if lengths is None:
            return self.rnn(x, hx)
        lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.int64).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, final = self.rnn(packed, hx)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
        return out, final

    def forward(self, x, lengths=None):
        kind = self.config.kind
        if kind == "generator":
            raise ConfigError(say("generator: call forward_generator(v, inputs)",
                                  "generator : appeler forward_generator(v, inputs)"))
        out, final = self._run(self._time_major(x), lengths)
        if kind == "tagger":
            y = self.head(out)  # (T, B, K)
            return y.transpose(0, 1) if self.config.batch_first else y
        h_n = final[0] if isinstance(final, tuple) else final  # (L·dirs, B, H)
        dirs = 2 if self.config.bidirectional else 1
        return self.head(torch.cat(list(h_n[-dirs:]), dim=-1))  # (B, K)

    def initial_state(self, v):
        B, L, H = v.shape[0], self.config.num_layers, self.config.hidden_size
        h0 = torch.tanh(self.init(v)).reshape(B, L, H).transpose(0, 1).contiguous()  # (L, B, H)
        others = cells.get(self.config.cell).state_names[1:]  # the LSTM's C, whose C_0 = 0
        return (h0, *(torch.zeros_like(h0) for _ in others)) if others else h0

    def forward_generator(self, v, inputs):
        """``v (B, C)``, teacher-forced ``inputs (T, B, K)`` → ``y (T, B, K)``, time-major."""
        out, _ = self.rnn(inputs, self.initial_state(v))
        return self.head(out)


def charlm_to_torch(model, device=None):
    """A :class:`TorchCharLM` holding exactly the weights of an rnnlab ``CharLM``.

    As :func:`rnnlab.interop.to_torch` for a layer: a layer-normalised LSTM has no counterpart
    (ConfigError); recurrent dropout is not carried over (a UserWarning; the weights, and the
    model in eval mode, are the same)."""
    import warnings

    cfg = model.config()
    spec = model.rnn.cell.spec
    if not spec.torch:
        able = ", ".join(s.name for s in cells.REGISTRY.values() if s.torch)
        raise ConfigError(say(f"to_torch: a CharLM with {spec.describe()} has no PyTorch counterpart "
                              f"(expected a cell among {able})",
                              f"to_torch : un CharLM avec {spec.describe()} n'a pas d'équivalent PyTorch "
                              f"(une cellule parmi {able} attendue)"))
    if cfg["recurrent_dropout"] > 0:
        p = cfg["recurrent_dropout"]
        warnings.warn(say(f"to_torch: the CharLM's recurrent_dropout={p} has no PyTorch "
                          f"counterpart and is not carried over; the weights (and the model in eval mode) "
                          f"are the same",
                          f"to_torch : le recurrent_dropout={p} du CharLM n'a pas d'équivalent PyTorch et "
                          f"n'est pas transmis ; les poids (et le modèle en mode évaluation) sont les mêmes"),
                      UserWarning, stacklevel=2)
    module = TorchCharLM(cfg["vocab_size"], cfg["cell"], cfg["hidden_size"], cfg["num_layers"],
                         cfg["embedding_dim"], cfg["dropout"], dtype=torch_dtype(model.dtype), device=device)
    load_into_torch(module, model.params)
    return module.train(model.training)


def charlm_from_torch(module, dtype=None):
    """An rnnlab ``CharLM`` holding exactly the weights of a :class:`TorchCharLM`."""
    from ..models import CharLM

    arrays = state_dict_from_torch(module.state_dict())
    dtype = dtype or arrays["embedding.weight"].dtype
    model = CharLM(**module.config(), dtype=dtype, seed=0)
    model.load_state_dict(arrays)
    return model.train(module.training)


def seqmodel_to_torch(model, device=None):
    """A :class:`TorchSequenceModel` holding exactly the weights of an rnnlab sequence model."""

    module = TorchSequenceModel(model.config, dtype=torch_dtype(model.dtype), device=device)
    load_into_torch(module, model.params)
    return module.train(model.training)


def seqmodel_from_torch(module, dtype=None):
    """An rnnlab sequence model holding exactly the weights of a :class:`TorchSequenceModel`."""
    from ..seqmodels import build_model

    arrays = state_dict_from_torch(module.state_dict())
    dtype = dtype or arrays["head.weight"].dtype
    model = build_model(module.config, dtype=dtype, seed=0)
    model.load_state_dict(arrays)
    return model.train(module.training)
