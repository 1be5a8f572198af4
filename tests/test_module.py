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


# --- the protocol a PyTorch user reaches for ---------------------------------------------------


def test_parameters_and_named_parameters_are_the_live_arrays_in_state_dict_order():
    model = CharLM(7, "gru", hidden_size=5, num_layers=2, seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names == list(model.state_dict())
    assert all(p is model.params[name] for p, name in zip(model.parameters(), names))
    assert model.num_parameters() == sum(p.size for p in model.parameters())


def test_calling_a_module_is_its_forward_for_every_kind():
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    layer = LSTM(3, 5, seed=0)
    out, (h, c) = layer(x)
    np.testing.assert_array_equal(out, layer.forward(x)[0])
    model = build_model(SeqModelConfig("tagger", 3, 5, 2, cell="rnn"), seed=1)
    np.testing.assert_array_equal(model(x), model.forward(x))
    assert "__call__" not in vars(type(layer)) and "__call__" not in vars(type(model))  # one base behaviour


@pytest.mark.parametrize("kwargs, text", [
    ({}, "LSTM(10, 20)"),
    ({"num_layers": 2, "batch_first": True}, "LSTM(10, 20, num_layers=2, batch_first=True)"),
    ({"bias": False, "dropout": 0.5, "bidirectional": True, "dtype": np.float64},
     "LSTM(10, 20, bias=False, dropout=0.5, bidirectional=True, dtype=float64)"),
    ({"layer_norm": True, "recurrent_dropout": 0.25}, "LSTM(10, 20, recurrent_dropout=0.25, layer_norm=True)"),
])
def test_repr_names_only_the_options_that_differ_from_pytorchs_defaults(kwargs, text):
    assert repr(LSTM(10, 20, **kwargs)) == text


def test_repr_of_a_model_nests_its_children_as_pytorch_does():
    model = build_model(SeqModelConfig("classifier", 3, 4, 2, cell="gru", bidirectional=True), seed=0)
    assert repr(model) == ("SequenceClassifier(\n  (rnn): GRU(3, 4, bidirectional=True)\n"
                           "  (head): Linear(in_features=8, out_features=2, bias=True)\n)")


def test_torch_tensors_and_nested_lists_are_accepted_as_input(torch):
    layer = LSTM(2, 3, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).normal(size=(4, 1, 2))
    h0 = (np.zeros((1, 1, 3)), np.ones((1, 1, 3)))
    want, (h_n, _) = layer(x, h0)
    as_tensor = torch.tensor(x, requires_grad=True)  # autograd tensors are read detached
    got, (h_t, _) = layer(as_tensor, tuple(torch.tensor(h) for h in h0))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(h_t, h_n)
    np.testing.assert_array_equal(layer(x.tolist(), h0)[0], want)
    # the dtype rule: the input is cast to the parameters' dtype
    assert layer(torch.tensor(x, dtype=torch.float32))[0].dtype == np.float64
    assert LSTM(2, 3, seed=0)(x)[0].dtype == np.float32
    d_x = layer.backward(torch.ones(4, 1, 3))
    assert d_x.shape == x.shape and d_x.dtype == np.float64


def test_backward_overwrites_by_default_and_accumulates_when_asked():
    x = np.random.default_rng(2).normal(size=(3, 2, 2))
    layer = LSTM(2, 3, dtype=np.float64, seed=0)
    layer(x)
    layer.backward(np.ones((3, 2, 3)))
    once = {k: g.copy() for k, g in layer.grads.items()}
    layer(x)
    layer.backward(np.ones((3, 2, 3)))
    for k, g in layer.grads.items():
        np.testing.assert_array_equal(g, once[k])  # overwritten: the same as after one backward
    assert layer.accumulate_grads() is layer and layer.accumulating_grads
    arrays = {k: id(g) for k, g in layer.grads.items()}
    layer(x)
    layer.backward(np.ones((3, 2, 3)))
    assert {k: id(g) for k, g in layer.grads.items()} == arrays  # added in place
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-14, atol=1e-15)
    layer.zero_grad()
    layer(x)
    layer.backward(np.ones((3, 2, 3)))
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, once[k], rtol=1e-14, atol=1e-15)


def test_accumulation_passes_to_the_children_of_a_model():
    model = CharLM(6, "lstm", hidden_size=4, dtype=np.float64, seed=0).accumulate_grads()
    assert all(child.accumulating_grads for child in model.named_modules().values())
    ids = np.array([[0, 1], [2, 3], [4, 5]])
    model.loss(ids, ids)
    once = {k: g.copy() for k, g in model.backward().items()}
    model.loss(ids, ids)
    twice = model.backward()
    for k in once:
        np.testing.assert_allclose(twice[k], 2 * once[k], rtol=1e-13, atol=1e-15, err_msg=k)
    model.accumulate_grads(False)
    model.loss(ids, ids)
    for k, g in model.backward().items():
        np.testing.assert_allclose(g, once[k], rtol=1e-13, atol=1e-15, err_msg=k)
