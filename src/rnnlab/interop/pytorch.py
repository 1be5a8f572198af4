r"""rnnlab ↔ PyTorch: the same weights, the same numbers.

rnnlab's layers keep PyTorch's names, shapes and gate orders (``weight_ih_l0`` (G·H, D),
``weight_hh_l0`` (G·H, H), ``bias_ih_l0``, ``bias_hh_l0``, ``_reverse``; LSTM i, f, g, o; GRU
r, z, n), so moving a layer is copying arrays: :func:`to_torch` builds the torch module a cell
file names as its counterpart (``TORCH``: ``torch.nn.RNN``, ``LSTM``, ``GRU``) with every option
(layers, bidirectional, batch_first, bias, nonlinearity, dropout, the LSTM's ``proj_size``) and
the parameter dtype; :func:`from_torch` goes back. The cells (``rnnlab.RNNCell``, ``LSTMCell``,
``GRUCell``) move to and from ``torch.nn.RNNCell``, ``LSTMCell``, ``GRUCell`` the same way. A
cell without a counterpart (the layer-normalised LSTM, a cell registered at run time) is refused
with a ConfigError that says so.

``GRU(reset="before")`` — the Chapitre's cell (Cho et al. 2014's reset),
``h̃_t = tanh(W × [r_t ⊙ h_{t-1}, x_t] + b)``
— has no ``torch.nn`` counterpart (``nn.GRU`` applies r after the hidden matmul, as cuDNN
does); :class:`CourseGRU` is that cell as a small ``nn.Module`` with ``nn.GRU``'s parameter
names. :class:`MyRNN` is the course's PyTorch exercise (TD), corrected.

torch itself is imported in :mod:`rnnlab.interop._torch` (shared with the models and the
training backends); without torch installed, importing this module raises
:class:`~rnnlab.errors.TorchNotInstalledError` (a :class:`~rnnlab.errors.ConfigError`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConfigError, ShapeError, describe_shape
from ..i18n import say
from ._torch import (CourseGRU, F, cell_of_torch_cell, cell_of_torch_module,  # noqa: F401  (re-exported)
                     load_into_torch, nn, state_dict_from_torch, state_dict_to_torch, to_numpy, torch,
                     torch_cell_counterpart, torch_counterpart, torch_dtype)
from .torch_models import charlm_from_torch, charlm_to_torch, seqmodel_from_torch, seqmodel_to_torch


# --- layers both ways --------------------------------------------------------------------------

def to_torch(layer, device=None):
    """The torch module computing ``layer``'s cell (``torch.nn.RNN``/``LSTM``/``GRU``, or
    :class:`CourseGRU` for ``GRU(reset="before")``) holding copies of its parameters, with its
    options, dtype and train/eval mode; a ConfigError for a cell without a torch counterpart.

    A whole model moves too: :class:`~rnnlab.models.CharLM` →
    :class:`~rnnlab.interop.torch_models.TorchCharLM`, the models of :mod:`rnnlab.seqmodels`
    → :class:`~rnnlab.interop.torch_models.TorchSequenceModel` (same state-dict keys)."""
    from ..cell_modules import RecurrentCell
    from ..layers import Recurrent
    from ..models import CharLM
    from ..seqmodels import _SequenceModel

    if isinstance(layer, RecurrentCell):
        return _cell_to_torch(layer, device)
    if isinstance(layer, CharLM):
        return charlm_to_torch(layer, device)
    if isinstance(layer, _SequenceModel):
        return seqmodel_to_torch(layer, device)
    if not isinstance(layer, Recurrent):
        raise ConfigError(say(f"to_torch: expected an rnnlab RNN, LSTM or GRU layer or cell, a CharLM or a "
                              f"sequence model, got {type(layer).__name__}",
                              f"to_torch : une couche ou une cellule RNN, LSTM ou GRU de rnnlab, un CharLM "
                              f"ou un modèle de séquence attendu, reçu {type(layer).__name__}"))
    cls, cell_kwargs = torch_counterpart(layer.mode, layer.cell.options)
    if layer.recurrent_dropout > 0:
        p = layer.recurrent_dropout
        warnings.warn(say(f"to_torch: recurrent_dropout={p} has no PyTorch counterpart "
                          f"and is not carried over; the weights (and the layer in eval mode) are the same",
                          f"to_torch : recurrent_dropout={p} n'a pas d'équivalent PyTorch et n'est pas "
                          f"transmis ; les poids (et la couche en mode évaluation) sont les mêmes"),
                      UserWarning, stacklevel=2)
    opts = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                dropout=layer.dropout, bidirectional=layer.bidirectional, device=device,
                dtype=torch_dtype(layer.dtype))
    if layer.proj_size:  # only nn.LSTM takes it (the registry allows it only for the LSTM)
        opts["proj_size"] = layer.proj_size
    # torch warns about dropout with one layer; rnnlab allows it, as torch does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        module = cls(layer.input_size, layer.hidden_size, **opts, **cell_kwargs)
    load_into_torch(module, layer.params)
    return module.train(layer.training)


def from_torch(module, dtype=None):
    """The rnnlab layer (or model, for :class:`~rnnlab.interop.torch_models.TorchCharLM` and
    ``TorchSequenceModel``) holding copies of a torch module's parameters (options, train/eval
    mode and, unless ``dtype`` is given, the dtype carried over)."""
    from ..layers import make_layer
    from .torch_models import TorchCharLM, TorchSequenceModel

    if isinstance(module, TorchCharLM):
        return charlm_from_torch(module, dtype)
    if isinstance(module, TorchSequenceModel):
        return seqmodel_from_torch(module, dtype)
    if cell_of_torch_cell(module) is not None:
        return _cell_from_torch(module, dtype)
    mode, cell_opts = cell_of_torch_module(module)
    arrays = state_dict_from_torch(module.state_dict())
    if dtype is None:
        dtype = next(iter(arrays.values())).dtype
    if getattr(module, "proj_size", 0):
        cell_opts = dict(cell_opts, proj_size=module.proj_size)
    layer = make_layer(mode, module.input_size, module.hidden_size, num_layers=module.num_layers,
                       bias=module.bias, batch_first=module.batch_first, dropout=module.dropout,
                       bidirectional=module.bidirectional, dtype=dtype, **cell_opts)
    layer.load_state_dict(arrays)
    return layer.train(module.training)


def _cell_to_torch(cell, device=None):
    """``nn.RNNCell``/``LSTMCell``/``GRUCell`` holding copies of an rnnlab cell's parameters."""
    cls, kwargs = torch_cell_counterpart(cell.mode, cell.cell.options)
    module = cls(cell.input_size, cell.hidden_size, bias=cell.bias, device=device,
                 dtype=torch_dtype(cell.dtype), **kwargs)
    load_into_torch(module, cell.params)
    return module.train(cell.training)


def _cell_from_torch(module, dtype=None):
    """The rnnlab cell (``RNNCell``, ``LSTMCell``, ``GRUCell``) of a torch cell, with copies of
    its parameters."""
    from ..cell_modules import RecurrentCell

    mode, options = cell_of_torch_cell(module)
    arrays = state_dict_from_torch(module.state_dict())
    dtype = next(iter(arrays.values())).dtype if dtype is None else dtype
    cls = {c.__name__: c for c in RecurrentCell.__subclasses__()}.get(type(module).__name__)
    if cls is not None:
        cell = cls(module.input_size, module.hidden_size, bias=module.bias, dtype=dtype, **options)
    else:
        cell = RecurrentCell(mode, module.input_size, module.hidden_size, bias=module.bias, dtype=dtype,
                             **options)
    cell.load_state_dict(arrays)
    return cell.train(module.training)


def load_from_torch(layer, source):
    """Copy a torch module's (or state dict's) parameters into an existing rnnlab layer, checking
    every name and shape (:class:`ShapeError` naming the key, the expected and the got)."""
    state = source.state_dict() if isinstance(source, nn.Module) else source
    if isinstance(source, nn.Module):
        mode, opts = cell_of_torch_module(source, "load_from_torch")
        full = {**layer.cell.spec.default_options(), **layer.cell.options}
        mine = (layer.mode, {k: v for k, v in full.items() if k in opts})
        if (mode, opts) != mine:
            given = "".join(f", {k}={v!r}" for k, v in mine[1].items())
            raise ConfigError(say(f"load_from_torch: expected a module computing {layer!r} (cell "
                                  f"{layer.mode!r}{given}), got {source!r}",
                                  f"load_from_torch : un module qui calcule {layer!r} attendu (cellule "
                                  f"« {layer.mode} »{given}), reçu {source!r}"))
    layer.load_state_dict(state_dict_from_torch(state))
    return layer


# --- the course's myRNN (TD, exercise 2), corrected ---------------------------------------


class MyRNN(nn.Module):
    r"""The course's Elman RNN in PyTorch (TD, exercise 2), many-to-one, corrected.

    .. math::

        h_t = \tanh(U x_t + W h_{t-1}),\quad h_{-1} = 0,\qquad y = \mathrm{softmax}(V h_{T-1})

    ``U = nn.Linear(in_size, h_size, bias=False)``, ``W = nn.Linear(h_size, h_size)`` (its bias
    is the cell's b_h), ``V = nn.Linear(h_size, out_size)``. Input ``(B, T, d)`` → ``(B,
    out_size)`` class probabilities (rows sum to 1), or the logits ``V h_{T-1}`` with
    ``logits=True`` (what ``nn.CrossEntropyLoss`` expects: it applies log-softmax itself).

    The seed's code, and what changed:

    1. ``self.V(x[:, t])`` fed the input through V (the output layer): it is ``self.U(x[:, t])``
       (with d = 7 ≠ h_size = 10 the seed's line fails with a shape error).
    2. ``torch.relu``: the exercise's cell is ``tanh`` (``h_t = tanh(U x_t + W h_{t-1})``).
    3. ``self.h_size`` was read but never stored in ``__init__``: now ``self.h_size = h_size``.
    4. ``T = x.size(-1)`` read the feature size d = 7 as the number of steps: the input is
       ``(B, T, d)``, so ``T = x.size(1)`` = 13 (the seed would silently drop steps 7..12).
    5. ``torch.softmax(self.V(h, dim=-1))`` gave ``dim`` to V (a TypeError): it is
       ``torch.softmax(self.V(h), dim=-1)``, over the classes.
    6. ``h = torch.zeros(self.h_size)`` had no batch dimension (it only worked by
       broadcasting): ``h_0`` is ``(B, h_size)``, with x's dtype and device, or given as ``h0``.
    """

    def __init__(self, in_size, h_size, out_size):
        super().__init__()
        self.in_size, self.h_size, self.out_size = in_size, h_size, out_size
        self.U = nn.Linear(in_size, h_size, bias=False)
        self.W = nn.Linear(h_size, h_size)
        self.V = nn.Linear(h_size, out_size)

    def forward(self, x, h0=None, logits=False):
        if x.dim() != 3 or x.shape[2] != self.in_size:
            raise ShapeError(say(f"myRNN input: expected shape (B, T, {self.in_size}), "
                                 f"got {describe_shape(tuple(x.shape))}",
                                 f"myRNN, entrée : forme (B, T, {self.in_size}) attendue, "
                                 f"reçu {describe_shape(tuple(x.shape))}"))
        B, T = x.shape[0], x.shape[1]  # (B, T, d)
        h = x.new_zeros(B, self.h_size) if h0 is None else h0  # (B, H)
        if tuple(h.shape) != (B, self.h_size):
            raise ShapeError(say(f"myRNN h0: expected shape ({B}, {self.h_size}), "
                                 f"got {describe_shape(tuple(h.shape))}",
                                 f"myRNN, h0 : forme ({B}, {self.h_size}) attendue, "
                                 f"reçu {describe_shape(tuple(h.shape))}"))
        for t in range(T):
            h = torch.tanh(self.U(x[:, t]) + self.W(h))  # (B, H)
        a = self.V(h)  # (B, out_size)
        return a if logits else torch.softmax(a, dim=-1)

    def rnnlab_params(self):
        """The same model in rnnlab's arrays: ``(rnn_state_dict, head)`` where the state dict
        loads into ``rnnlab.RNN(in_size, h_size)`` (``weight_ih_l0 = U``, ``weight_hh_l0 = W``,
        ``bias_ih_l0 = 0``, ``bias_hh_l0 = b_W``) and ``head = {"weight": V, "bias": b_V}``."""
        U, W = to_numpy(self.U.weight), to_numpy(self.W.weight)
        rnn = {"weight_ih_l0": U, "weight_hh_l0": W, "bias_ih_l0": np.zeros(self.h_size, U.dtype),
               "bias_hh_l0": to_numpy(self.W.bias)}
        return rnn, {"weight": to_numpy(self.V.weight), "bias": to_numpy(self.V.bias)}


myRNN = MyRNN  # the seed's name
