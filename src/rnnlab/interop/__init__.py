"""Weights in and out of other frameworks.

* :mod:`rnnlab.interop.pytorch` — ``to_torch``/``from_torch`` for the layers (``torch.nn.RNN``,
  ``LSTM``, ``GRU``; :class:`~rnnlab.interop.pytorch.CourseGRU` for ``GRU(reset="before")``)
  and models (:mod:`rnnlab.interop.torch_models`), and the course's corrected ``myRNN`` (TD).
  torch is imported by :mod:`rnnlab.interop._torch`, which these modules and the training's
  torch backends (:mod:`rnnlab.backends`, :mod:`rnnlab.training.torch_bridge`) share; nothing
  here imports it before first use, so ``import rnnlab.interop`` works without torch.
* :mod:`rnnlab.interop.keras` — Keras LSTM / GRU / SimpleRNN arrays (pure NumPy).
* :mod:`rnnlab.interop.charrnn` — char-rnn's (Lua) LSTM arrays, gate order i, f, o, g (pure NumPy).
"""

from __future__ import annotations

import importlib

from ..errors import TorchNotInstalledError
from .charrnn import from_charrnn, state_dict_from_charrnn, state_dict_to_charrnn, to_charrnn
from .keras import from_keras, params_from_keras, params_to_keras, to_keras

_TORCH_NAMES = ("to_torch", "from_torch", "load_from_torch", "load_into_torch", "CourseGRU", "MyRNN", "myRNN")
_TORCH_MODEL_NAMES = ("TorchCharLM", "TorchSequenceModel")


def __getattr__(name):
    if name in _TORCH_NAMES or name == "pytorch":
        module = importlib.import_module(".pytorch", __name__)
        return module if name == "pytorch" else getattr(module, name)
    if name in _TORCH_MODEL_NAMES:
        return getattr(importlib.import_module(".torch_models", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "from_keras", "to_keras", "params_from_keras", "params_to_keras",
    "from_charrnn", "to_charrnn", "state_dict_from_charrnn", "state_dict_to_charrnn",
    "TorchNotInstalledError", *_TORCH_NAMES, *_TORCH_MODEL_NAMES,
]
