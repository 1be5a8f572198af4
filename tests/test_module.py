"""The one module base (:mod:`rnnlab.module`): a parent's ``params`` is a live view of its
children's arrays, and ``load_state_dict`` copies in place, through any sub-module."""

import numpy as np
import pytest

from rnnlab.errors import ShapeError
from rnnlab.layers import LSTM
from rnnlab.models import CharLM
from rnnlab.optim import make_optimizer
from rnnlab.seqmodels import SeqModelConfig, build_model


def test_sub_module_load_is_seen_by_the_parent_the_optimiser_and_the_state_dict():
    model = CharLM(12, "lstm", hidden_size=8, seed=0)
    optimizer = make_optimizer("sgd", model.params, lr=0.1)
    sd = {k: np.full_like(v, 0.25) for k, v in model.rnn.state_dict().items()}
    model.rnn.load_state_dict(sd)
    # the bug this base fixes: a layer that rebound its arrays left the parent's dict stale
    assert model.params["rnn.weight_hh_l0"] is model.rnn.params["weight_hh_l0"]
    assert np.all(model.state_dict()["rnn.weight_hh_l0"] == 0.25)
    assert optimizer.params["rnn.weight_hh_l0"] is model.rnn.params["weight_hh_l0"]
    # the optimiser's update lands in the layer the model runs
    ids = np.zeros((3, 2), dtype=np.int64)
    model.loss(ids, ids)
    grads = model.backward()
    optimizer.step(grads)
    assert not np.all(model.rnn.params["weight_ih_l0"] == 0.25)


@pytest.mark.parametrize("kind", ["classifier", "generator"])
def test_sequence_models_share_the_base(kind):
    model = build_model(SeqModelConfig(kind, 3, 4, 2, cell="gru"), seed=1)
    before = {k: id(v) for k, v in model.params.items()}
    model.load_state_dict({k: np.ones_like(v) for k, v in model.state_dict().items()})
    assert {k: id(v) for k, v in model.params.items()} == before  # in place
    assert all(np.all(v == 1) for v in model.params.values())
    assert list(model.params)[0].startswith("init." if kind == "generator" else "rnn.")
    assert set(model.grads) == set(model.params)
    model.eval()
    assert not model.rnn.training and not model.head.training


def test_load_checks_everything_before_changing_anything():
    layer = LSTM(2, 3, seed=0)
    before = layer.state_dict()
    bad = dict(before, weight_hh_l0=np.ones((12, 4)))
    with pytest.raises(ShapeError, match=r"weight_hh_l0: expected shape \(12, 3\)"):
        layer.load_state_dict(bad)
    nan = dict(before, bias_ih_l0=np.full(12, np.nan))
    with pytest.raises(Exception, match="bias_ih_l0"):
        layer.load_state_dict(nan)
    flags = dict(before, bias_hh_l0=np.ones(12, dtype=bool))
    with pytest.raises(ShapeError, match="bias_hh_l0: expected real numbers, got dtype bool"):
        layer.load_state_dict(flags)
    with pytest.raises(ShapeError, match="unexpected keys"):
        layer.load_state_dict(dict(before, extra=np.ones(1)))
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    layer.load_state_dict({"bias_ih_l0": np.zeros(12), "extra": np.ones(1)}, strict=False)
    assert np.all(layer.params["bias_ih_l0"] == 0)
