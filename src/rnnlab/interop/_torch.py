r"""What every torch-side module of rnnlab shares: the one ``import torch`` (with the error that
says how to install it), arrays both ways, :func:`load_into_torch`, :class:`CourseGRU`, and the
registry's torch counterparts of the cells (:func:`torch_counterpart`, :func:`cell_of_torch_module`).

:mod:`rnnlab.interop.pytorch` (layers) and :mod:`rnnlab.interop.torch_models` (models) build on
it; so do the training's torch backends (:mod:`rnnlab.backends`), which take ``torch`` from
here too (and import ``torch.distributed`` for runs over several processes).
"""

from __future__ import annotations

import math

import numpy as np

from .. import cells
from ..errors import ConfigError, ShapeError, TorchNotInstalledError, describe_shape
from ..i18n import say
from ..module import keys_mismatch

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover - exercised only on machines without torch
    raise TorchNotInstalledError(say(
        "rnnlab.interop.pytorch: expected PyTorch to be installed (pip install 'rnnlab[torch]'), "
        f"got ImportError: {exc}",
        "rnnlab.interop.pytorch : PyTorch doit être installé (« pip install 'rnnlab[torch]' »), "
        f"reçu ImportError : {exc}")) from exc


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
                self.register_parameter(f"weight_ih{s}",
                                        nn.Parameter(torch.empty(3 * hidden_size, in_size, **kw)))
                self.register_parameter(f"weight_hh{s}",
                                        nn.Parameter(torch.empty(3 * hidden_size, hidden_size, **kw)))
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
        b_ih, b_hh = ((getattr(self, f"bias_ih{s}"), getattr(self, f"bias_hh{s}")) if self.bias
                      else (None, None))
        xw = F.linear(x, W_ih, b_ih)  # (T, B, 3H), all steps in one GEMM
        outputs = [None] * x.shape[0]
        for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
            a_rz = (xw[t, :, :2 * H]
                    + F.linear(h, W_hh[:2 * H], None if b_hh is None else b_hh[:2 * H]))  # (B, 2H)
            r, z = torch.sigmoid(a_rz).chunk(2, dim=-1)
            a_n = (xw[t, :, 2 * H:]
                   + F.linear(r * h, W_hh[2 * H:], None if b_hh is None else b_hh[2 * H:]))  # (B, H)
            n = torch.tanh(a_n)
            h = (1 - z) * n + z * h
            outputs[t] = h
        return torch.stack(outputs), h

    def forward(self, input, hx=None):
        unbatched = input.dim() == 2
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            D, got = self.input_size, describe_shape(tuple(input.shape))
            raise ShapeError(say(f"CourseGRU input: expected (T, B, {D}), (B, T, {D}) with batch_first "
                                 f"or (T, {D}), got {got}",
                                 f"CourseGRU, entrée : (T, B, {D}), (B, T, {D}) avec batch_first "
                                 f"ou (T, {D}) attendu, reçu {got}"))
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        dirs, B = 2 if self.bidirectional else 1, x.shape[1]
        want = (self.num_layers * dirs, B, self.hidden_size)
        if hx is None:
            hx = x.new_zeros(want)
        elif unbatched:
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != want:
            raise ShapeError(say(f"CourseGRU hx: expected shape {describe_shape(want)}, "
                                 f"got {describe_shape(tuple(hx.shape))}",
                                 f"CourseGRU, hx : forme {describe_shape(want)} attendue, "
                                 f"reçu {describe_shape(tuple(hx.shape))}"))
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


def load_into_torch(module, arrays):
    """Copy ``{name: array}`` into ``module``'s parameters in place; every name and shape is
    checked before anything is written (:class:`ShapeError` naming the key otherwise)."""
    params = dict(module.named_parameters())
    missing = sorted(set(params) - set(arrays))
    unexpected = sorted(set(arrays) - set(params))
    if missing or unexpected:
        raise ShapeError(keys_mismatch("load_into_torch", missing, unexpected))
    for name, p in params.items():
        got = tuple(np.shape(arrays[name]))
        if got != tuple(p.shape):
            raise ShapeError(say(f"load_into_torch: {name}: expected shape {describe_shape(tuple(p.shape))}, "
                                 f"got {describe_shape(got)}",
                                 f"load_into_torch : {name} : forme {describe_shape(tuple(p.shape))} "
                                 f"attendue, reçu {describe_shape(got)}"))
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(arrays[name])))
    return module


# --- the cells' torch counterparts, from the registry ------------------------------------------


def _torch_class(name):
    """A class named in a cell file's ``TORCH``: rnnlab's own (CourseGRU) or ``torch.nn``'s."""
    return CourseGRU if name == "CourseGRU" else getattr(nn, name)


def torch_counterpart(mode, options, what="to_torch"):
    """``(torch class, keyword arguments)`` computing the registered cell ``mode`` with
    ``options``; a ConfigError when it has none (the cell's ``TORCH`` names none that fits)."""
    spec = cells.get(mode)
    full = {**spec.default_options(), **options}
    for name, fixed in spec.torch.items():
        if all(full.get(k) == v for k, v in fixed.items()):
            return _torch_class(name), {k: full[k] for k in spec.torch_options}
    others = ", ".join(s.name for s in cells.REGISTRY.values() if s.torch)
    opts = "".join(f", {k}={v!r}" for k, v in options.items())
    raise ConfigError(say(f"{what}: {spec.describe()}{opts} has no PyTorch counterpart (expected a cell "
                          f"among {others})",
                          f"{what} : {spec.describe()}{opts} n'a pas d'équivalent PyTorch (une cellule "
                          f"parmi {others} attendue)"))


def torch_cell_counterpart(mode, options, what="to_torch"):
    """``(torch cell class, keyword arguments)`` for one step of ``mode``: the ``<layer>Cell`` of
    the layer class :func:`torch_counterpart` finds (``nn.LSTM`` -> ``nn.LSTMCell``); a
    ConfigError when torch has no such cell (``GRU(reset="before")``: CourseGRU has none)."""
    layer_cls, kwargs = torch_counterpart(mode, options, what)
    cls = getattr(nn, layer_cls.__name__ + "Cell", None) if layer_cls.__module__.startswith("torch") else None
    if cls is None:
        opts = "".join(f", {k}={v!r}" for k, v in options.items())
        described = cells.get(mode).describe()
        raise ConfigError(say(f"{what}: {described}{opts} has no PyTorch cell counterpart "
                              f"(expected a cell that nn.RNNCell, nn.LSTMCell or nn.GRUCell computes)",
                              f"{what} : {described}{opts} n'a pas de cellule PyTorch équivalente (une "
                              f"cellule que calcule nn.RNNCell, nn.LSTMCell ou nn.GRUCell attendue)"))
    return cls, kwargs


def cell_of_torch_cell(module, what="from_torch"):
    """``(mode, options)`` of the registered cell a ``torch.nn.RNNCell``/``LSTMCell``/``GRUCell``
    computes, else None (not a torch cell)."""
    for spec in cells.REGISTRY.values():
        for name, fixed in spec.torch.items():
            cls = getattr(nn, name + "Cell", None)
            if cls is not None and type(module) is cls:
                return spec.name, {**fixed, **{k: getattr(module, k) for k in spec.torch_options}}
    return None


def cell_of_torch_module(module, what="from_torch"):
    """``(mode, options)`` of the registered cell a torch recurrent module computes, else ConfigError."""
    for spec in cells.REGISTRY.values():
        for name, fixed in spec.torch.items():
            if isinstance(module, _torch_class(name)):
                return spec.name, {**fixed, **{k: getattr(module, k) for k in spec.torch_options}}
    got = f"{type(module).__module__}.{type(module).__name__}"
    raise ConfigError(say(f"{what}: expected torch.nn.RNN, nn.LSTM, nn.GRU, their cells (nn.RNNCell, "
                          f"nn.LSTMCell, nn.GRUCell), rnnlab's CourseGRU, TorchCharLM or TorchSequenceModel, "
                          f"got {got}",
                          f"{what} : torch.nn.RNN, nn.LSTM, nn.GRU, leurs cellules (nn.RNNCell, "
                          f"nn.LSTMCell, nn.GRUCell), le CourseGRU de rnnlab, TorchCharLM ou "
                          f"TorchSequenceModel attendu, reçu {got}"))
