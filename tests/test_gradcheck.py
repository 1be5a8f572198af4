"""rnnlab.gradcheck itself: central differences are accurate, and the checker REJECTS wrong
gradients (overwritten instead of accumulated over time, one perturbed entry, a missing
initial-state gradient), so a passing check in the other test files means something."""

import numpy as np
import pytest

import rnnlab
from rnnlab.errors import ConfigError
from rnnlab.gradcheck import GradcheckReport, check_gradients, check_layer, numerical_gradient, relative_error


def test_numerical_gradient_is_accurate_and_leaves_x_unchanged():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    numeric = numerical_gradient(lambda: np.sum(x**3) + np.sin(x).prod(), x)
    analytic = 3 * x**2 + np.sin(x).prod() / np.tan(x)
    np.testing.assert_allclose(numeric, analytic, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # every perturbation undone, bit for bit


def test_numerical_gradient_needs_float64():
    with pytest.raises(ConfigError, match="expected a float64 array, got float32"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))


def test_relative_error():
    a = np.array([3.0, 4.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(a, np.zeros(2)) == 1.0
    assert relative_error(a, a * 1.001) == pytest.approx(relative_error(a * 1.001, a))
    expected = 5e-3 / np.hypot(3.0, 4.005)  # divided by the larger norm
    assert relative_error(a, a + [0.0, 5e-3]) == pytest.approx(expected, rel=1e-12)
    assert relative_error(1e-20 * a, 1e-20 * (a + [0.0, 5e-3])) == pytest.approx(expected, rel=1e-9)  # scale-free


def test_report_verdict_and_text():
    report = GradcheckReport({"W": 1e-9, "b": 3e-4}, tol=1e-6)
    assert not report.passed and report.worst == ("b", 3e-4)
    text = str(report)
    assert "FAIL" in text and "FAILED" in text and "b" in text
    ok = GradcheckReport({"W": 1e-9}, tol=1e-6)
    assert ok.passed and "passed" in str(ok)


# --- a hand-written Elman RNN whose BPTT can be made wrong the way early tinygrad was --------


def _elman(T=5, B=2, D=3, H=4, seed=1):
    rng = np.random.default_rng(seed)
    p = {"W_xh": rng.normal(size=(H, D)) * 0.5, "W_hh": rng.normal(size=(H, H)) * 0.5, "b": rng.normal(size=H) * 0.1}
    x = rng.normal(size=(T, B, D))
    g = rng.normal(size=(T, B, H))

    def forward():
        h, hs = np.zeros((B, H)), [np.zeros((B, H))]
        for t in range(T):
            h = np.tanh(x[t] @ p["W_xh"].T + hs[-1] @ p["W_hh"].T + p["b"])
            hs.append(h)
        return hs

    def loss():
        return float(np.sum(np.stack(forward()[1:]) * g))

    def backward(accumulate=True):
        hs = forward()
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        d_next = np.zeros((B, H))
        for t in range(T - 1, -1, -1):
            d_z = (g[t] + d_next) * (1 - hs[t + 1] ** 2)
            step = {"W_xh": d_z.T @ x[t], "W_hh": d_z.T @ hs[t], "b": d_z.sum(0)}
            for k in grads:
                if accumulate:
                    grads[k] += step[k]
                else:  # the bug: the last write (t = 0) wins
                    grads[k] = step[k]
            d_next = d_z @ p["W_hh"]
        return grads

    return p, loss, backward


def test_correct_bptt_passes():
    p, loss, backward = _elman()
    report = check_gradients(loss, p, backward(accumulate=True))
    assert report.passed, str(report)
    assert report.worst[1] < 1e-7


def test_overwritten_instead_of_accumulated_gradient_is_rejected():
    p, loss, backward = _elman()
    report = check_gradients(loss, p, backward(accumulate=False))
    assert not report.passed
    assert all(report.errors[k] > 1e-2 for k in ("W_xh", "W_hh", "b")), str(report)


def _layer_and_grads():
    layer = rnnlab.LSTM(3, 4, num_layers=2, dtype=np.float64, seed=3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 2, 3))
    g = rng.normal(size=(5, 2, 4))
    loss = lambda: float(np.sum(layer.forward(x)[0] * g))  # noqa: E731
    loss()
    d_x = layer.backward(g)
    return layer, x, loss, {**layer.grads, "input": d_x}


def test_one_perturbed_entry_is_rejected_and_named():
    layer, x, loss, analytic = _layer_and_grads()
    arrays = {**layer.params, "input": x}
    assert check_gradients(loss, arrays, analytic).passed
    wrong = {k: v.copy() for k, v in analytic.items()}
    wrong["weight_hh_l1"][5, 2] += 1e-4 * np.linalg.norm(wrong["weight_hh_l1"])
    report = check_gradients(loss, arrays, wrong)
    assert not report.passed
    assert report.worst[0] == "weight_hh_l1"
    assert report.errors["weight_hh_l0"] <= 1e-6  # the others still pass


def test_gradient_of_another_input_is_rejected():
    layer, x, loss, analytic = _layer_and_grads()
    layer.forward(x + 0.01)
    layer.backward(np.random.default_rng(4).normal(size=(5, 2, 4)))
    report = check_gradients(loss, dict(layer.params), dict(layer.grads))
    assert not report.passed


def test_check_layer_rejects_a_layer_whose_backward_is_sabotaged():
    rng = np.random.default_rng(5)
    layer = rnnlab.GRU(2, 3, dtype=np.float64, seed=6)
    x, h0 = rng.normal(size=(4, 2, 2)), rng.normal(size=(1, 2, 3))
    assert check_layer(layer, x, h0).passed
    honest = layer.backward

    def backward_dropping_the_first_step(*args, **kwargs):
        d_x = honest(*args, **kwargs)
        d_x[0] = 0.0  # as if the gradient never reached x_1
        return d_x

    layer.backward = backward_dropping_the_first_step
    report = check_layer(layer, x, h0)
    assert not report.passed and report.worst[0] == "input"

    def backward_losing_d_hx(*args, **kwargs):
        d_x = honest(*args, **kwargs)
        layer.d_hx = layer.d_hx * 0.5
        return d_x

    layer.backward = backward_losing_d_hx
    report = check_layer(layer, x, h0)
    assert not report.passed and report.worst[0] == "h_0"


def test_check_layer_leaves_parameters_unchanged_and_covers_both_lstm_states():
    layer = rnnlab.LSTM(2, 3, dtype=np.float64, seed=7)
    before = layer.state_dict()
    rng = np.random.default_rng(8)
    report = check_layer(layer, rng.normal(size=(3, 2, 2)), (rng.normal(size=(1, 2, 3)), rng.normal(size=(1, 2, 3))))
    assert report.passed, str(report)
    assert {"h_0", "c_0", "input", "weight_ih_l0", "bias_hh_l0"} <= set(report.errors)
    for k, v in layer.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_check_layer_needs_a_float64_layer():
    with pytest.raises(ConfigError, match="expected a float64 layer, got float32"):
        check_layer(rnnlab.RNN(2, 3, seed=0), np.zeros((3, 1, 2)))


def test_check_layer_holds_the_dropout_masks_fixed_in_training_mode():
    """Between-layer and recurrent dropout draw from layer.rng: check_layer replays the same
    state for every evaluation, so the loss is a function of the parameters only."""
    layer = rnnlab.LSTM(2, 3, num_layers=2, dropout=0.5, recurrent_dropout=0.3, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).normal(size=(3, 2, 2))
    report = check_layer(layer, x)
    assert report.passed, str(report)
    masked, _ = layer.forward(x)
    assert not np.allclose(masked, layer.eval().forward(x)[0])  # the masks were really there
    assert check_layer(layer, x).passed


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_check_layer_passes_on_a_non_contiguous_input(layout):
    """The central differences perturb x by index, so a transposed (Fortran-ordered) or strided
    input is checked like a contiguous one; through a flat view they used to perturb a copy and
    report a false error of 1 on the input."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 5)).T if layout == "transposed" else rng.normal(size=(5, 4, 3))[:, ::2]
    assert not x.flags.c_contiguous
    layer = rnnlab.LSTM(3, 4, dtype=np.float64, seed=0)
    report = check_layer(layer, x)
    assert report.passed, str(report)
    np.testing.assert_allclose(numerical_gradient(lambda: np.sum(x ** 3), x), 3 * x ** 2, rtol=1e-6)
