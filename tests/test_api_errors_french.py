"""The Python API refuses in the user's language: under French, a representative refusal of each
kind (optimiser options and states, layer and cell shapes and dtypes, model configs, interchange
files of Keras, char-rnn and PyTorch, automatic differentiation and its tape) reads as French by
the rules of ``french_rules`` and is not the English message.

``test_messages_bilingual`` proves statically that every ``raise`` goes through ``say(en, fr)``
and ``test_cli_french`` checks the French literals; this test raises the errors for real, so the
pieces a message is built from at run time (a cell's description, an array's name, a condition
of an optimiser) are French too.
"""

from __future__ import annotations

import numpy as np
import pytest
from french_rules import terminal_problems
from helpers import torch_or_none

import rnnlab
from rnnlab import autodiff, cell_modules, cells, errors, gradcheck, i18n, layers, models, optim, tape
from rnnlab.functional import cross_entropy
from rnnlab.interop import charrnn, keras
from rnnlab.seqmodels import SeqModelConfig

E, R, S = errors.ConfigError, errors.ValueRangeError, errors.ShapeError
P = {"w": np.zeros(2)}
X = np.ones((3, 2, 2))  # (T, B, D)


def _backward_before_forward(cell):
    cell.backward(np.zeros(3))


def _charlm_backward_before_loss():
    models.CharLM(5, hidden_size=4).backward()


CASES = [
    # optimisers: options, gradients, saved states, clipping, schedules
    ("adam lr < 0", lambda: optim.Adam(P, lr=-1.0), E),
    ("nesterov without momentum", lambda: optim.SGD(P, nesterov=True), E),
    ("adam betas", lambda: optim.Adam(P, betas=(0.9, 1.5)), E),
    ("sgd unknown option", lambda: optim.make_optimizer("sgd", P, betas=(0.9, 0.99)), E),
    ("gradient of the wrong shape", lambda: optim.SGD(P).step({"w": np.zeros(3)}), S),
    ("gradient keys", lambda: optim.SGD(P).step({"v": np.zeros(2)}), E),
    ("state of another optimiser", lambda: optim.Adam(P).load_state_dict({"name": "sgd"}), E),
    ("cosine schedule without total", lambda: optim.Schedule(0.1, decay="cosine"), E),
    ("schedule decay", lambda: optim.Schedule(0.1, decay="linear"), E),
    ("clip_grad_norm 0", lambda: optim.clip_grad_norm({}, 0.0), E),
    # layers and cells: shapes, dtypes, options
    ("LSTM input width", lambda: rnnlab.LSTM(2, 3)(np.ones((3, 2, 5))), S),
    ("LSTM four dimensions", lambda: rnnlab.LSTM(2, 3)(np.ones((3, 2, 2, 1))), S),
    ("LSTM no time step", lambda: rnnlab.LSTM(2, 3)(np.ones((0, 2, 2))), S),
    ("GRU lengths out of range", lambda: rnnlab.GRU(2, 3)(X, lengths=np.array([0, 1])), R),
    ("GRU lengths float", lambda: rnnlab.GRU(2, 3)(X, lengths=np.array([1.0, 1.0])), S),
    ("LSTM hx not a pair", lambda: rnnlab.LSTM(2, 3)(X, np.zeros((1, 2, 3))), S),
    ("RNN h_0 shape", lambda: rnnlab.RNN(2, 3)(X, np.zeros((1, 2, 4))), S),
    ("LSTM d_output shape", lambda: _backward_wrong_shape(), S),
    ("LSTM backward before forward", lambda: rnnlab.LSTM(2, 3).backward(None), E),
    ("LSTM proj_size too big", lambda: rnnlab.LSTM(2, 3, proj_size=3), E),
    ("GRU with a projection", lambda: layers.Recurrent("gru", 2, 3, proj_size=1), E),
    ("dropout 1", lambda: rnnlab.GRU(2, 3, dropout=1.0), E),
    ("rng and seed", lambda: rnnlab.RNN(2, 3, rng=np.random.default_rng(0), seed=0), E),
    ("GRU reset", lambda: rnnlab.GRU(2, 3, reset="middle"), E),
    ("RNN nonlinearity", lambda: rnnlab.RNN(2, 3, nonlinearity="sigmoid"), E),
    ("cell options", lambda: cells.make_cell("lstm", reset="after"), E),
    ("unknown cell", lambda: cells.get("xyz"), E),
    ("gate rows", lambda: cells.get("lstm").gate_rows("z", 3), E),
    ("LSTMCell input shape", lambda: cell_modules.LSTMCell(2, 3)(np.ones((2, 2, 2))), S),
    ("GRUCell hidden shape", lambda: cell_modules.GRUCell(2, 3)(np.ones((2, 2)), np.ones((2, 4))), S),
    ("GRUCell backward before forward", lambda: _backward_before_forward(cell_modules.GRUCell(2, 3)), E),
    ("LN-LSTM cell module", lambda: cell_modules.RecurrentCell("lnlstm", 2, 3), E),
    ("Embedding float ids", lambda: models.Embedding(5, 3)(np.ones(2)), S),
    ("Embedding ids out of range", lambda: models.Embedding(5, 3)(np.array([7])), R),
    ("Linear input width", lambda: models.Linear(2, 2)(np.ones((3, 4))), S),
    ("cross_entropy targets", lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 5])), R),
    ("state dict missing keys", lambda: rnnlab.RNN(1, 2).load_state_dict({}), S),
    ("state dict shape", lambda: rnnlab.RNN(1, 2).load_state_dict(
        {k: np.zeros((7,)) for k in rnnlab.RNN(1, 2).state_dict()}), S),
    # model configs
    ("model kind", lambda: SeqModelConfig("bogus", 2, 2, 1), E),
    ("generator both ways", lambda: SeqModelConfig("generator", 2, 2, 1, bidirectional=True), E),
    ("hidden size 0", lambda: SeqModelConfig("regressor", 2, 0, 1), E),
    ("CharLM cell", lambda: models.CharLM(5, cell="xyz"), E),
    ("CharLM layer_norm", lambda: models.CharLM(5, layer_norm="yes"), E),
    ("CharLM ids shape", lambda: models.CharLM(5, hidden_size=4)(np.zeros(3, int)), S),
    ("CharLM backward before loss", _charlm_backward_before_loss, E),
    # interchange files: Keras, char-rnn
    ("Keras mode", lambda: keras.params_from_keras("lnlstm", np.ones((2, 8)), np.ones((2, 8))), E),
    ("Keras kernel of integers", lambda: keras.params_from_keras("lstm", np.ones((2, 8), int),
                                                                  np.ones((2, 8))), S),
    ("Keras recurrent kernel", lambda: keras.params_from_keras("lstm", np.ones((2, 8)), np.ones((3, 8))), S),
    ("Keras GRU bias", lambda: keras.params_from_keras("gru", np.ones((2, 6)), np.ones((2, 6)), np.ones(5)), S),
    ("Keras array count", lambda: keras.from_keras("lstm", [np.ones((2, 8))]), S),
    ("Keras projections", lambda: keras.to_keras(rnnlab.LSTM(2, 3, proj_size=2)), E),
    ("char-rnn key", lambda: charrnn.state_dict_from_charrnn({"foo": np.ones(2)}), S),
    ("char-rnn missing bias", lambda: charrnn.state_dict_from_charrnn({"i2h_1.weight": np.ones((8, 3))}), S),
    ("char-rnn from a GRU", lambda: charrnn.to_charrnn(rnnlab.GRU(2, 3)), S),
    ("char-rnn both ways", lambda: charrnn.to_charrnn(rnnlab.LSTM(2, 3, bidirectional=True)), S),
    # automatic differentiation and its tape
    ("division by 0", lambda: autodiff.Value(1.0) / 0.0, R),
    ("log of a negative", lambda: autodiff.Value(-1.0).log(), R),
    ("exp overflow", lambda: autodiff.Value(800.0).exp(), R),
    ("power of a Value", lambda: autodiff.Value(2.0) ** autodiff.Value(1.0), E),
    ("root of a negative", lambda: autodiff.Value(-2.0) ** 0.5, R),
    ("not a number", lambda: autodiff.as_value("a"), E),
    ("empty tape", lambda: tape.Tape().backward(), E),
    ("tape label", lambda: tape.expression_tape("a * b", {"a": 1.0, "b": 2.0})[0].node("zz"), E),
    ("Elman graph without input", lambda: tape.elman_scalar_graph([], 0.5, 0.5), E),
    ("numerical gradient float32", lambda: gradcheck.numerical_gradient(lambda: 0.0, np.zeros(2, np.float32)), E),
    ("gradient check float32", lambda: gradcheck.check_layer(rnnlab.RNN(2, 3), X), E),
]


def _backward_wrong_shape():
    lstm = rnnlab.LSTM(2, 3)
    lstm(X)
    lstm.backward(np.ones((1, 1, 1)))


def _torch_cases():
    torch = torch_or_none()
    if torch is None:
        return []
    from rnnlab.interop import pytorch, torch_models

    return [
        ("to_torch of a number", lambda: pytorch.to_torch(3), E),
        ("to_torch of the LN-LSTM", lambda: pytorch.to_torch(rnnlab.LSTM(2, 3, layer_norm=True)), E),
        ("state dict into torch", lambda: pytorch.load_into_torch(torch.nn.LSTM(2, 3), {}), S),
        ("torch GRU into an LSTM", lambda: pytorch.load_from_torch(rnnlab.LSTM(2, 3), torch.nn.GRU(2, 3)), E),
        ("CourseGRU input", lambda: pytorch.CourseGRU(2, 3)(torch.zeros(3, 2, 5)), S),
        ("TorchCharLM ids", lambda: torch_models.TorchCharLM(5, "lstm", 4)(torch.zeros(3, dtype=torch.long)), S),
    ]


def _message(call, error, lang):
    with i18n.language_kept():
        i18n.set_language(lang)
        with pytest.raises(error) as info:
            call()
    return str(info.value)


def _check(call, error):
    english, french = _message(call, error, "en"), _message(call, error, "fr")
    assert french != english, f"not translated: {english}"
    assert not terminal_problems(french), (french, terminal_problems(french))


@pytest.mark.parametrize("call, error", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_api_refusals_read_as_french(call, error):
    _check(call, error)


def test_torch_refusals_read_as_french():
    cases = _torch_cases()
    if not cases:
        pytest.skip("torch is not installed")
    for name, call, error in cases:
        try:
            _check(call, error)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def test_the_language_comes_back_after_a_refusal():
    before = i18n.language()
    _message(lambda: optim.Adam(P, lr=-1.0), E, "fr")
    assert i18n.language() == before
