"""rnnlab: recurrent neural networks from scratch on NumPy, with hand-written BPTT.

The public API, re-exported: the layers (:class:`RNN`, :class:`LSTM`, :class:`GRU`), the
course-notation views, the gradient checker and the errors.
"""

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
from .layers import GRU, LSTM, RNN, Recurrent

__version__ = "0.1.0"

__all__ = [
    "RNN", "LSTM", "GRU", "Recurrent", "make_cell", "functional",
    "rnn_params_from_course", "rnn_params_to_course",
    "lstm_params_from_course", "lstm_params_to_course",
    "gru_params_from_course", "gru_params_to_course",
    "RnnlabError", "ShapeError", "ValueRangeError", "ConfigError", "DataError", "CheckpointError",
]
