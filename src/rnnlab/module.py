"""The one module base: what the layers, the language model and the sequence models share.

A module keeps its own parameters in one dict keyed like PyTorch's state dict and holds its
sub-modules as attributes (registered when assigned, as ``torch.nn.Module`` does). Its
``params`` is a *live view*: the module's own arrays and, under ``"<child>.<key>"``, those of
its children, read afresh at every access. ``load_state_dict`` copies values into those
arrays in place, so a load through any sub-module (``model.rnn.load_state_dict(sd)``) is what
the parent's ``params``, its optimiser (which holds the same arrays) and its checkpoints see.
``grads`` is a view with the same keys over the gradients the last ``backward`` left.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, describe_shape, expect_finite


class Module:
    """Parameters, gradients, sub-modules, train/eval mode and state dicts.

    Subclasses call ``super().__init__()`` first, put their own parameters in
    ``self._params`` (and gradients in ``self.grads``), and assign sub-modules as attributes.
    """

    def __init__(self):
        object.__setattr__(self, "_modules", {})
        self._params: dict = {}
        self._grads: dict = {}
        self.training = True

    def __setattr__(self, name, value):
        modules = self.__dict__.get("_modules")
        if modules is not None:
            modules.pop(name, None)  # a child assigned again moves to the end of the order
            if isinstance(value, Module):
                modules[name] = value
        object.__setattr__(self, name, value)

    # --- parameters and gradients: live views ----------------------------------------------

    def named_modules(self) -> dict:
        """``{name: child}`` in the order the children were assigned."""
        return dict(self._modules)

    def _gather(self, own: dict, attribute: str) -> dict:
        if not self._modules:
            return own
        view = dict(own)
        for prefix, child in self._modules.items():
            for key, value in getattr(child, attribute).items():
                view[f"{prefix}.{key}"] = value
        return view

    @property
    def params(self) -> dict:
        """``{name: array}``: the live parameter arrays (an optimiser updates them in place)."""
        return self._gather(self._params, "params")

    @property
    def grads(self) -> dict:
        """``{name: array}``: ∂L/∂parameter after the last ``backward`` (the keys of ``params``)."""
        return self._gather(self._grads, "grads")

    @grads.setter
    def grads(self, value: dict) -> None:
        self._grads = value

    def zero_grad(self) -> None:
        for g in self.grads.values():
            g.fill(0.0)

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    # --- state dicts -------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Copies of the parameters, keyed like the equivalent PyTorch module's state dict."""
        return {name: p.copy() for name, p in self.params.items()}

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> None:
        """Copy ``state_dict``'s arrays into the live parameters, in place (cast to their dtype).

        Every name, shape and value is checked before anything changes: with ``strict``, the
        keys must be exactly those of :meth:`state_dict` (else the missing ones are left as
        they are and unknown ones ignored); values must be finite real numbers."""
        params = self.params
        missing = [k for k in params if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params]
        if strict and (missing or unexpected):
            raise ShapeError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        values = {}
        for name, value in state_dict.items():
            if name not in params:
                continue  # not strict: PyTorch ignores unexpected keys too
            value = np.asarray(value)
            if value.shape != params[name].shape:
                want = describe_shape(params[name].shape)
                got = describe_shape(value.shape)
                raise ShapeError(f"load_state_dict: {name}: expected shape {want}, got {got}")
            if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)) \
                    or value.dtype == np.bool_:
                raise ShapeError(f"load_state_dict: {name}: expected real numbers, got dtype {value.dtype}")
            expect_finite(f"load_state_dict: {name}", value)
            values[name] = value
        for name, value in values.items():
            np.copyto(params[name], value, casting="unsafe")

    # --- train / eval ------------------------------------------------------------------------

    def train(self, mode: bool = True):
        """Training mode (dropout active) for this module and every child; returns ``self``."""
        self.training = bool(mode)
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)
