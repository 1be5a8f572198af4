"""rnnlab: recurrent neural networks from scratch on NumPy, with hand-written BPTT.

The public API, re-exported: the layers (:class:`RNN`, :class:`LSTM`, :class:`GRU`), the
one-step cells (:class:`RNNCell`, :class:`LSTMCell`, :class:`GRUCell`), the course-notation
views and the errors. The other modules load on first use, so
``import rnnlab`` stays light (no matplotlib, no torch): ``rnnlab.trace``, ``rnnlab.analysis``,
``rnnlab.course``, ``rnnlab.autodiff``, ``rnnlab.tape``, ``rnnlab.plots``, ``rnnlab.models``,
``rnnlab.train``, ``rnnlab.sample``, ``rnnlab.data``, ``rnnlab.optim``, ``rnnlab.checkpoint``,
``rnnlab.seqmodels``, ``rnnlab.tasks``, ``rnnlab.forecast``, ``rnnlab.gradcheck``, ``rnnlab.interop``.
"""

import importlib

from . import functional
from .cells import make_cell
from .cells.gru import params_from_course as gru_params_from_course
from .cells.gru import params_to_course as gru_params_to_course
from .cells.lstm import params_from_course as lstm_params_from_course
from .cells.lstm import params_to_course as lstm_params_to_course
from .cells.rnn import params_from_course as rnn_params_from_course
from .cells.rnn import params_to_course as rnn_params_to_course
from .errors import (CheckpointError, ConfigError, DataError, RnnlabError, ShapeError,
                     ValueRangeError)
from .cell_modules import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .layers import GRU, LSTM, RNN, Recurrent

__version__ = "0.1.0"

_LAZY_MODULES = ("analysis", "autodiff", "checkpoint", "course", "data", "forecast", "gradcheck", "interop",
                 "models", "module", "optim", "plots", "sample", "seqmodels", "tape", "tasks", "trace",
                 "train", "training", "weights")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")

__all__ = [
    "RNN", "LSTM", "GRU", "Recurrent", "RNNCell", "LSTMCell", "GRUCell", "RecurrentCell", "make_cell",
    "functional",
    "rnn_params_from_course", "rnn_params_to_course",
    "lstm_params_from_course", "lstm_params_to_course",
    "gru_params_from_course", "gru_params_to_course",
    "RnnlabError", "ShapeError", "ValueRangeError", "ConfigError", "DataError", "CheckpointError",
]
