r"""rnnlab ↔ PyTorch: the same weights, the same numbers (the only module of rnnlab importing torch).

rnnlab's layers keep PyTorch's names, shapes and gate orders (``weight_ih_l0`` (G·H, D),
``weight_hh_l0`` (G·H, H), ``bias_ih_l0``, ``bias_hh_l0``, ``_reverse``; LSTM i, f, g, o; GRU
r, z, n), so moving a layer is copying arrays: :func:`to_torch` builds the ``torch.nn.RNN``,
``LSTM`` or ``GRU`` with every option (layers, bidirectional, batch_first, bias, nonlinearity,
dropout) and the parameter dtype; :func:`from_torch` goes back.

``GRU(reset="before")`` — the Chapitre's cell (Cho et al. 2014's reset),
``h̃_t = tanh(W × [r_t ⊙ h_{t-1}, x_t] + b)``
— has no ``torch.nn`` counterpart (``nn.GRU`` applies r after the hidden matmul, as cuDNN
does); :class:`CourseGRU` is that cell as a small ``nn.Module`` with ``nn.GRU``'s parameter
names. :class:`MyRNN` is the course's PyTorch exercise (TD), corrected.

Importing this module without torch installed raises
:class:`~rnnlab.interop.TorchNotInstalledError` (a :class:`~rnnlab.errors.ConfigError`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import ConfigError, ShapeError, describe_shape
from . import TorchNotInstalledError

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover - exercised only on machines without torch
    raise TorchNotInstalledError(
        "rnnlab.interop.pytorch: expected PyTorch to be installed (pip install 'rnnlab[torch]'), "
        f"got ImportError: {exc}") from exc


# --- arrays ------------------------------------------------------------------------------------


def torch_dtype(dtype):
    """The torch dtype of a NumPy dtype (``np.float64`` -> ``torch.float64``)."""
    return torch.from_numpy(np.zeros(0, dtype=np.dtype(dtype))).dtype


def to_numpy(tensor) -> np.ndarray:
    """A NumPy copy of a tensor (detached, on the CPU; half and bfloat16 widened to float32)."""
    tensor = tensor.detach().cpu()
    if tensor.dtype in (torch.float16, torch.bfloat16):
        tensor = tensor.float()
    return tensor.numpy().copy()


def state_dict_to_torch(arrays, device=None) -> dict:
    """``{name: tensor}`` copies of ``{name: array}`` (dtype preserved)."""
    return {k: torch.tensor(np.asarray(v), device=device) for k, v in arrays.items()}


def state_dict_from_torch(state_dict) -> dict:
    """``{name: array}`` copies of a torch state dict."""
    return {k: to_numpy(v) for k, v in state_dict.items()}


# --- the course's GRU (reset before the matmul) as an nn.Module --------------------------------


class CourseGRU(nn.Module):
    r"""The Chapitre's GRU (reset before the product, as Cho et al. 2014), ``nn.GRU``'s interface and
    parameter names; its z is PyTorch's (and Cho's), the Chapitre's 1 − z.

    .. math::

        r_t = σ(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
        z_t = σ(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
        n_t = \tanh(W_{in} x_t + b_{in} + W_{hn} (r_t ⊙ h_{t-1}) + b_{hn})
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ``nn.GRU`` computes ``n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))`` instead:
    the reset gate after the matmul. The gate order (r, z, n) and the update convention (z keeps
    ``h_{t-1}``; the course's z is 1 − z) are ``nn.GRU``'s, so that the weights are exactly
    rnnlab's ``GRU(reset="before")``. Written with plain tensor ops: autograd gives its backward,
    no cuDNN. Initialisation as ``nn.GRU``: U(−√k, √k), k = 1/hidden_size.

    Input (T, B, D) (``batch_first``: (B, T, D); unbatched (T, D)); ``hx`` (L·dirs, B, H).
    Returns ``output (T, B, dirs·H)`` and ``h_n (L·dirs, B, H)``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        dirs = 2 if bidirectional else 1
        kw = {"device": device, "dtype": dtype}
        self._suffixes = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * dirs
            for direction in range(dirs):
                s = f"_l{layer}" + ("_reverse" if direction else "")
                self._suffixes.append(s)
                self.register_parameter(f"weight_ih{s}", nn.Parameter(torch.empty(3 * hidden_size, in_size, **kw)))
                self.register_parameter(f"weight_hh{s}", nn.Parameter(torch.empty(3 * hidden_size, hidden_size, **kw)))
                if bias:
                    self.register_parameter(f"bias_ih{s}", nn.Parameter(torch.empty(3 * hidden_size, **kw)))
                    self.register_parameter(f"bias_hh{s}", nn.Parameter(torch.empty(3 * hidden_size, **kw)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
                f"batch_first={self.batch_first}, dropout={self.dropout}, bidirectional={self.bidirectional}")

    def _direction(self, x, h, s, reverse):
        """One layer, one direction: x (T, B, D), h (B, H) -> (output (T, B, H), h_T)."""
        H = self.hidden_size
        W_ih, W_hh = getattr(self, f"weight_ih{s}"), getattr(self, f"weight_hh{s}")
        b_ih, b_hh = (getattr(self, f"bias_ih{s}"), getattr(self, f"bias_hh{s}")) if self.bias else (None, None)
        xw = F.linear(x, W_ih, b_ih)  # (T, B, 3H), all steps in one GEMM
        outputs = [None] * x.shape[0]
        for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
            a_rz = xw[t, :, :2 * H] + F.linear(h, W_hh[:2 * H], None if b_hh is None else b_hh[:2 * H])  # (B, 2H)
            r, z = torch.sigmoid(a_rz).chunk(2, dim=-1)
            a_n = xw[t, :, 2 * H:] + F.linear(r * h, W_hh[2 * H:], None if b_hh is None else b_hh[2 * H:])  # (B, H)
            n = torch.tanh(a_n)
            h = (1 - z) * n + z * h
            outputs[t] = h
        return torch.stack(outputs), h

    def forward(self, input, hx=None):
        unbatched = input.dim() == 2
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            raise ShapeError(f"CourseGRU input: expected (T, B, {self.input_size}), (B, T, {self.input_size}) with "
                             f"batch_first or (T, {self.input_size}), got {describe_shape(tuple(input.shape))}")
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        dirs, B = 2 if self.bidirectional else 1, x.shape[1]
        want = (self.num_layers * dirs, B, self.hidden_size)
        if hx is None:
            hx = x.new_zeros(want)
        elif unbatched:
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != want:
            raise ShapeError(f"CourseGRU hx: expected shape {describe_shape(want)}, got {describe_shape(tuple(hx.shape))}")
        h_n = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                idx = layer * dirs + direction
                out, h = self._direction(x, hx[idx], self._suffixes[idx], reverse=direction == 1)
                outs.append(out)
                h_n.append(h)
            x = torch.cat(outs, dim=-1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        h_n = torch.stack(h_n)
        if unbatched:
            return x[:, 0], h_n[:, 0]
        return (x.transpose(0, 1) if self.batch_first else x), h_n


# --- layers both ways --------------------------------------------------------------------------

_TORCH_CLASS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def to_torch(layer, device=None):
    """A ``torch.nn.RNN``/``LSTM``/``GRU`` (or :class:`CourseGRU` for ``GRU(reset="before")``)
    holding copies of ``layer``'s parameters, with its options, dtype and train/eval mode.

    A whole model moves too: :class:`~rnnlab.models.CharLM` →
    :class:`~rnnlab.interop.torch_models.TorchCharLM`, the models of :mod:`rnnlab.seqmodels`
    → :class:`~rnnlab.interop.torch_models.TorchSequenceModel` (same state-dict keys)."""
    from ..layers import Recurrent
    from ..models import CharLM
    from ..seqmodels import _SequenceModel

    if isinstance(layer, CharLM):
        from .torch_models import charlm_to_torch

        return charlm_to_torch(layer, device)
    if isinstance(layer, _SequenceModel):
        from .torch_models import seqmodel_to_torch

        return seqmodel_to_torch(layer, device)
    if not isinstance(layer, Recurrent):
        raise ConfigError(f"to_torch: expected an rnnlab RNN, LSTM or GRU layer, a CharLM or a sequence model, "
                          f"got {type(layer).__name__}")
    if layer.mode == "lnlstm":
        raise ConfigError("to_torch: the layer-normalised LSTM (layer_norm=True) has no PyTorch counterpart "
                          "(expected a plain RNN, LSTM or GRU layer)")
    if layer.recurrent_dropout > 0:
        warnings.warn(f"to_torch: recurrent_dropout={layer.recurrent_dropout} has no PyTorch counterpart and is not "
                      f"carried over; the weights (and the layer in eval mode) are the same", UserWarning, stacklevel=2)
    opts = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first, dropout=layer.dropout,
                bidirectional=layer.bidirectional, device=device, dtype=torch_dtype(layer.dtype))
    if layer.mode == "rnn":
        opts["nonlinearity"] = layer.cell.options.get("nonlinearity", "tanh")
    if layer.mode == "gru" and layer.cell.options.get("reset", "after") == "before":
        cls = CourseGRU
    else:
        cls = _TORCH_CLASS[layer.mode]
    with warnings.catch_warnings():  # torch warns about dropout with one layer; rnnlab allows it, as torch does
        warnings.simplefilter("ignore", UserWarning)
        module = cls(layer.input_size, layer.hidden_size, **opts)
    load_into_torch(module, layer.params)
    return module.train(layer.training)


def load_into_torch(module, arrays):
    """Copy ``{name: array}`` into ``module``'s parameters in place; every name and shape is
    checked before anything is written (:class:`ShapeError` naming the key otherwise)."""
    params = dict(module.named_parameters())
    missing = sorted(set(params) - set(arrays))
    unexpected = sorted(set(arrays) - set(params))
    if missing or unexpected:
        raise ShapeError(f"load_into_torch: missing keys {missing}, unexpected keys {unexpected}")
    for name, p in params.items():
        got = tuple(np.shape(arrays[name]))
        if got != tuple(p.shape):
            raise ShapeError(f"load_into_torch: {name}: expected shape {describe_shape(tuple(p.shape))}, "
                             f"got {describe_shape(got)}")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(arrays[name])))
    return module


def _describe_torch_module(module):
    """``(mode, options)`` of a torch recurrent module rnnlab can hold, else ConfigError."""
    if isinstance(module, CourseGRU):
        return "gru", {"reset": "before"}
    if isinstance(module, nn.LSTM):
        if getattr(module, "proj_size", 0):
            raise ConfigError(f"from_torch: nn.LSTM with proj_size={module.proj_size} has no rnnlab counterpart "
                              f"(expected proj_size=0)")
        return "lstm", {}
    if isinstance(module, nn.GRU):
        return "gru", {"reset": "after"}
    if isinstance(module, nn.RNN):
        return "rnn", {"nonlinearity": module.nonlinearity}
    raise ConfigError(f"from_torch: expected torch.nn.RNN, nn.LSTM, nn.GRU, rnnlab's CourseGRU, TorchCharLM or "
                      f"TorchSequenceModel, got {type(module).__module__}.{type(module).__name__}")


def from_torch(module, dtype=None):
    """The rnnlab layer (or model, for :class:`~rnnlab.interop.torch_models.TorchCharLM` and
    ``TorchSequenceModel``) holding copies of a torch module's parameters (options, train/eval
    mode and, unless ``dtype`` is given, the dtype carried over)."""
    from ..layers import GRU, LSTM, RNN
    from .torch_models import TorchCharLM, TorchSequenceModel, charlm_from_torch, seqmodel_from_torch

    if isinstance(module, TorchCharLM):
        return charlm_from_torch(module, dtype)
    if isinstance(module, TorchSequenceModel):
        return seqmodel_from_torch(module, dtype)
    mode, cell_opts = _describe_torch_module(module)
    arrays = state_dict_from_torch(module.state_dict())
    if dtype is None:
        dtype = next(iter(arrays.values())).dtype
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[mode]
    layer = cls(module.input_size, module.hidden_size, num_layers=module.num_layers, bias=module.bias,
                batch_first=module.batch_first, dropout=module.dropout, bidirectional=module.bidirectional,
                dtype=dtype, **cell_opts)
    layer.load_state_dict(arrays)
    return layer.train(module.training)


def load_from_torch(layer, source):
    """Copy a torch module's (or state dict's) parameters into an existing rnnlab layer, checking
    every name and shape (:class:`ShapeError` naming the key, the expected and the got)."""
    state = source.state_dict() if isinstance(source, nn.Module) else source
    if isinstance(source, nn.Module):
        mode, opts = _describe_torch_module(source)
        mine = (layer.mode, {k: v for k, v in layer.cell.options.items() if k in opts})
        if (mode, opts) != mine:
            raise ConfigError(f"load_from_torch: expected a module computing {layer!r}, got {source!r}")
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
            raise ShapeError(f"myRNN input: expected shape (B, T, {self.in_size}), got {describe_shape(tuple(x.shape))}")
        B, T = x.shape[0], x.shape[1]  # (B, T, d)
        h = x.new_zeros(B, self.h_size) if h0 is None else h0  # (B, H)
        if tuple(h.shape) != (B, self.h_size):
            raise ShapeError(f"myRNN h0: expected shape ({B}, {self.h_size}), got {describe_shape(tuple(h.shape))}")
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
