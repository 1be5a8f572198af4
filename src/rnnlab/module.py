"""The one module base: what the layers, the language model and the sequence models share.

A module keeps its own parameters in one dict keyed like PyTorch's state dict and holds its
sub-modules as attributes (registered when assigned, as ``torch.nn.Module`` does). Its
``params`` is a *live view*: the module's own arrays and, under ``"<child>.<key>"``, those of
its children, read afresh at every access. ``load_state_dict`` copies values into those
arrays in place, so a load through any sub-module (``model.rnn.load_state_dict(sd)``) is what
the parent's ``params``, its optimiser (which holds the same arrays) and its checkpoints see.
``grads`` is a view with the same keys over the gradients the last ``backward`` left.

What a PyTorch user reaches for is here too: ``module(x, …)`` calls ``forward``;
``parameters()``, ``named_parameters()`` (names as in the state dict), ``zero_grad()``,
``train()``/``eval()``, ``num_parameters()`` (a method, as in Hugging Face's models: torch
itself has none) and a ``repr`` naming only the options that differ from their defaults.

Gradients: by default ``backward`` *overwrites* ``grads`` (one backward per optimiser step,
nothing to zero). ``accumulate_grads(True)`` makes it *add* into the existing arrays, as
PyTorch's ``.grad`` does (then ``zero_grad()`` starts afresh): the choice is per module and
passes to its children.

Inputs: :func:`as_array` reads a NumPy array, a torch tensor (detached, on the CPU) or any
array-like (nested lists, …); the layers then cast it to their parameters' dtype.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, describe_shape, expect_real
from .i18n import say


def as_array(value):
    """A NumPy view or copy of ``value``: an array as it is, a torch tensor detached and moved
    to the CPU (half precision widened to float32), anything else through ``np.asarray``.

    torch is never imported here: a tensor is recognised by its ``detach``/``numpy`` methods."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        tensor = value.detach().cpu()
        if str(tensor.dtype) in ("torch.float16", "torch.bfloat16"):
            tensor = tensor.float()
        return tensor.numpy()
    return np.asarray(value)


def listed(names) -> str:
    """Names as a French sentence lists them: ``a, b`` (not a Python list's ``['a', 'b']``),
    ``aucune`` for none."""
    return ", ".join(map(str, names)) or "aucune"


def keys_mismatch(where: str, missing, unexpected) -> str:
    """The message of a state dict whose keys are not the model's, in the user's language."""
    return say(f"{where}: missing keys {missing}, unexpected keys {unexpected}",
               f"{where} : clés manquantes : {listed(missing)} ; clés inattendues : {listed(unexpected)}")


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
        self.accumulating_grads = False

    def __setattr__(self, name, value):
        modules = self.__dict__.get("_modules")
        if modules is not None and (name in modules or isinstance(value, Module)):
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

    def _store_grads(self, grads: dict) -> None:
        """What a ``backward`` calls with its fresh gradients: they replace ``grads`` or, when
        accumulating, are added into the arrays already there (same keys and shapes)."""
        old = self._grads
        if self.accumulating_grads and set(old) == set(grads) and \
                all(old[k].shape == np.shape(g) for k, g in grads.items()):
            for k, g in grads.items():
                old[k] += g
        else:
            self._grads = grads

    def accumulate_grads(self, mode: bool = True):
        """``True``: each ``backward`` adds to ``grads`` (PyTorch's habit; call :meth:`zero_grad`
        between steps); ``False`` (the default): it overwrites them. For this module and every
        child; returns ``self``."""
        self.accumulating_grads = bool(mode)
        for child in self._modules.values():
            child.accumulate_grads(mode)
        return self

    def zero_grad(self):
        """Set every gradient to zero, in place; returns ``self``."""
        for g in self.grads.values():
            g.fill(0.0)
        return self

    def parameters(self):
        """An iterator over the live parameter arrays, in the order of :meth:`state_dict`
        (``torch.nn.Module.parameters``; an optimiser may update them in place)."""
        return iter(list(self.params.values()))

    def named_parameters(self):
        """An iterator over ``(name, array)`` pairs, the names those of :meth:`state_dict`."""
        return iter(list(self.params.items()))

    def num_parameters(self) -> int:
        """The number of scalar parameters (a method, as ``transformers``' ``num_parameters()``)."""
        return int(sum(p.size for p in self.params.values()))

    # --- calling, printing -------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        """``module(x, …)`` is ``module.forward(x, …)``, as in PyTorch."""
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The text between the parentheses of :func:`repr` (PyTorch's hook of the same name)."""
        return ""

    def __repr__(self):
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self._modules.items()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = [f"  {self.extra_repr()}"] if self.extra_repr() else []
        return f"{type(self).__name__}(\n" + "\n".join(extra + children) + "\n)"

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
            raise ShapeError(keys_mismatch("load_state_dict", missing, unexpected))
        values = {}
        for name, value in state_dict.items():
            if name not in params:
                continue  # not strict: PyTorch ignores unexpected keys too
            value = np.asarray(value)
            if value.shape != params[name].shape:
                want = describe_shape(params[name].shape)
                got = describe_shape(value.shape)
                raise ShapeError(say(f"load_state_dict: {name}: expected shape {want}, got {got}",
                                     f"load_state_dict : {name} : forme {want} attendue, reçu {got}"))
            expect_real(say(f"load_state_dict: {name}", f"load_state_dict : {name}"), value)
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
