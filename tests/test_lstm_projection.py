"""The LSTM with projections (Sak et al. 2014), ``LSTM(proj_size=P)`` as ``torch.nn.LSTM``:
h_t = W_hr (o_t ⊙ tanh(C_t)). Every layer option of the torch oracle and of the gradient check,
combined with a projection: values and every gradient agree with torch autograd (float64,
≤ 1e-9) and with central differences; the other sides without projections refuse it clearly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.errors import ConfigError, RnnlabError, ShapeError
from rnnlab.gradcheck import check_layer

import test_layers_gradcheck as gradcheck_cases
import test_torch_oracle as oracle_cases
from helpers import layer_case

PROJ = (rnnlab.LSTM, {"proj_size": 2})  # H = 4 in both modules' cases


@pytest.mark.parametrize("option", list(oracle_cases.OPTIONS))
def test_every_option_with_a_projection_matches_torch(torch, option):
    T, B, D, H = oracle_cases.T, oracle_cases.B, oracle_cases.D, oracle_cases.H
    layer, x, hx, lengths = layer_case(PROJ, oracle_cases.OPTIONS[option], seed=0, data_seed=1, T=T, B=B, D=D,
                                       H=H)
    assert {k: v.shape for k, v in layer.params.items() if k.startswith("weight_hr")} == {
        f"weight_hr{s}": (2, H) for s in (f"_l{k}{r}" for k in range(layer.num_layers)
                                          for r in ([""] + ["_reverse"] * layer.bidirectional))}
    oracle_cases.compare_with_torch(torch, layer, x, hx, lengths)


@pytest.mark.parametrize("option", list(gradcheck_cases.OPTIONS))
def test_every_option_with_a_projection_passes_the_gradient_check(option):
    g = gradcheck_cases
    layer, x, hx, lengths = layer_case(PROJ, g.OPTIONS[option], seed=0, data_seed=100, T=g.T, B=g.B, D=g.D,
                                       H=g.H, hx_scale=0.5)
    report = check_layer(layer, x, hx, lengths, tol=g.TOL)
    assert report.passed, f"{option}\n{report}"
    expected = set(layer.params) | {"input"} | ({"h_0", "c_0"} if hx is not None else set())
    assert set(report.errors) == expected and any(k.startswith("weight_hr") for k in expected)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(H=st.integers(2, 4), data=st.data(), T=st.integers(3, 5), B=st.integers(1, 3), num_layers=st.integers(1, 2),
       bidirectional=st.booleans(), batch_first=st.booleans(), use_lengths=st.booleans(), use_hx=st.booleans())
def test_random_projections_pass_the_gradient_check(H, data, T, B, num_layers, bidirectional, batch_first,
                                                    use_lengths, use_hx):
    P = data.draw(st.integers(1, H - 1), label="proj_size")
    option = ({"num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first,
               "proj_size": P}, {"hx": use_hx})
    layer, x, hx, _ = layer_case((rnnlab.LSTM, {}), option, seed=H + T, data_seed=B, T=T, B=B, D=2, H=H,
                                 hx_scale=0.5)
    lengths = np.random.default_rng(T).integers(1, T + 1, size=B) if use_lengths else None
    report = check_layer(layer, x, hx, lengths)
    assert report.passed, str(report)


def test_shapes_and_names_are_torchs(torch):
    layer = rnnlab.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, seed=0)
    module = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert list(layer.state_dict()) == list(module.state_dict())
    out, (h_n, c_n) = layer(np.zeros((6, 4, 3)))
    assert out.shape == (6, 4, 4) and h_n.shape == (4, 4, 2) and c_n.shape == (4, 4, 5)
    assert repr(layer) == "LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)"
    assert all(np.all(np.abs(p) <= np.sqrt(1 / 5)) for p in layer.parameters())  # U(−√k, √k), k = 1/H


def test_to_torch_and_back_keep_the_projection(torch):
    layer = rnnlab.LSTM(3, 5, num_layers=2, proj_size=3, batch_first=True, dtype=np.float64, seed=1)
    module = rnnlab.interop.to_torch(layer)
    assert module.proj_size == 3 and module.batch_first
    back = rnnlab.interop.from_torch(module)
    assert repr(back) == repr(layer)
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(back.params[k], v)
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    np.testing.assert_allclose(layer(x)[0], module(torch.from_numpy(x))[0].detach().numpy(), rtol=0, atol=1e-12)


def test_the_course_view_shows_the_projection():
    layer = rnnlab.LSTM(3, 4, proj_size=2, dtype=np.float64, seed=2)
    view = rnnlab.lstm_params_to_course(layer.params)
    assert view["W_f"].shape == (4, 2 + 3) and view["W_hr"].shape == (2, 4)
    back = rnnlab.lstm_params_from_course(**view)
    fresh = rnnlab.LSTM(3, 4, proj_size=2, dtype=np.float64, seed=3)
    fresh.load_state_dict(back)
    x = np.random.default_rng(4).normal(size=(5, 1, 3))
    np.testing.assert_allclose(fresh(x)[0], layer(x)[0], rtol=0, atol=1e-13)
    with pytest.raises(ShapeError, match=r"expected W_hr of shape \(P, 4\) with P < 4"):
        rnnlab.lstm_params_from_course(**dict(view, W_hr=np.ones((2, 3))))


@pytest.mark.parametrize("make, match", [
    (lambda: rnnlab.LSTM(3, 4, proj_size=4), "proj_size: expected an integer smaller than hidden_size=4"),
    (lambda: rnnlab.LSTM(3, 4, proj_size=-1), "proj_size: expected a non-negative integer, got -1"),
    (lambda: rnnlab.LSTM(3, 4, proj_size=1.5), "proj_size: expected a non-negative integer, got 1.5"),
    (lambda: rnnlab.Recurrent("gru", 3, 4, proj_size=2), r"the GRU cell \('gru'\) has no projection"),
    (lambda: rnnlab.LSTM(3, 4, proj_size=2, layer_norm=True), "layer-normalised LSTM .* has no projection"),
    (lambda: rnnlab.LSTM(3, 4, proj_size=2)(np.ones((2, 1, 3)), (np.ones((1, 1, 4)), np.ones((1, 1, 4)))),
     r"h_0: expected shape \(1, 1, 2\) \(num_layers × num_directions, batch, proj_size\), got \(1, 1, 4\)"),
])
def test_what_cannot_be_projected_is_refused(make, match):
    with pytest.raises(RnnlabError, match=match):
        make()


def test_sides_without_projections_refuse_it():
    layer = rnnlab.LSTM(3, 4, proj_size=2, seed=0)
    with pytest.raises(ConfigError, match="to_keras: an LSTM with projections .* has no Keras counterpart"):
        rnnlab.interop.to_keras(layer)
    with pytest.raises(ShapeError, match="char-rnn's LSTM has no projection, got key weight_hr_l0"):
        rnnlab.interop.to_charrnn(layer)
    with pytest.raises(ConfigError, match="state_jacobians: expected a layer without projections"):
        rnnlab.analysis.state_jacobians(layer, np.ones((3, 3)))
    from rnnlab.trace.record import trace_forward

    with pytest.raises(ConfigError, match=r"trace: an LSTM with projections \(weight_hr_l0: h_t = W_hr"):
        trace_forward("lstm", {k: v.astype(np.float64) for k, v in layer.params.items()}, np.ones((2, 3)))
