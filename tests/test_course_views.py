"""The course's notation as a view of the fused parameters: exact round trips, and layers built
from the course's matrices computing exactly what the course's equations say (seed 000
ex. 1.1 and ex. 2.1 by plain-Python transcriptions; random sizes by NumPy transcriptions)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.errors import RnnlabError, ShapeError


def _sigma(a):
    return 1.0 / (1.0 + math.exp(-a))


# --- seed 000, ex. 1.1 (Elman RNN, H = 2, D = 1) ----------------------------------------------


def test_rnn_exercise_1_1_equals_the_course_equations():
    W_xh, W_hh, b_h = [[0.3], [0.4]], [[0.2, 0.1], [-0.1, 0.3]], [0.1, 0.0]
    xs = [0.5, 0.8, 0.2]
    # the course, by hand: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), h_0 = 0
    h, course = [0.0, 0.0], []
    for x in xs:
        h = [math.tanh(W_xh[j][0] * x + W_hh[j][0] * h[0] + W_hh[j][1] * h[1] + b_h[j]) for j in range(2)]
        course.append(h)
    layer = rnnlab.RNN(1, 2, dtype=np.float64, seed=0)
    layer.load_state_dict(rnnlab.rnn_params_from_course(W_xh, W_hh, b_h))
    out, h_n = layer.forward(np.array(xs).reshape(3, 1))  # unbatched (T, D)
    np.testing.assert_allclose(out, course, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n[0], course[-1], rtol=0, atol=1e-12)
    assert out[0] == pytest.approx([math.tanh(0.25), math.tanh(0.2)], abs=1e-15)  # h_1 = tanh(0.3·0.5 + 0.1)


# --- seed 000, ex. 2.1 (mini-LSTM, one neuron) -------------------------------------------------


EX_2_1 = dict(W_f=[0.1, 0.2], b_f=0.0, W_i=[0.3, -0.1], b_i=0.1, W_C=[0.2, 0.4], b_C=0.0, W_o=[0.1, 0.3], b_o=0.0)


def _course_lstm_1d(p, xs):
    """Seed 000 §2.1 by hand: every W over [h_{t-1}, x_t]; returns [(h_t, C_t)]."""
    h, C, steps = 0.0, 0.0, []
    for x in xs:
        f = _sigma(p["W_f"][0] * h + p["W_f"][1] * x + p["b_f"])
        i = _sigma(p["W_i"][0] * h + p["W_i"][1] * x + p["b_i"])
        C_tilde = math.tanh(p["W_C"][0] * h + p["W_C"][1] * x + p["b_C"])
        o = _sigma(p["W_o"][0] * h + p["W_o"][1] * x + p["b_o"])
        C = f * C + i * C_tilde
        h = o * math.tanh(C)
        steps.append((h, C))
    return steps


def test_lstm_exercise_2_1_equals_the_course_equations():
    xs = [1.0, 0.5, -0.3]
    course = _course_lstm_1d(EX_2_1, xs)
    layer = rnnlab.LSTM(1, 1, dtype=np.float64, seed=0)
    layer.load_state_dict(rnnlab.lstm_params_from_course(**EX_2_1))
    out, _ = layer.forward(np.array(xs).reshape(3, 1, 1))
    for t, (h_t, C_t) in enumerate(course, start=1):
        assert out[t - 1, 0, 0] == pytest.approx(h_t, abs=1e-12), f"h_{t}"
        _, (h_n, c_n) = layer.forward(np.array(xs[:t]).reshape(t, 1, 1))  # C_t is the final cell of x_1..x_t
        assert h_n[0, 0, 0] == pytest.approx(h_t, abs=1e-12), f"h_{t}"
        assert c_n[0, 0, 0] == pytest.approx(C_t, abs=1e-12), f"C_{t}"
    # the first step can be read off the exercise: f_1 = σ(0.2), i_1 = σ(0.0), C̃_1 = tanh(0.4), o_1 = σ(0.3)
    C_1 = _sigma(0.0) * math.tanh(0.4)
    assert course[0][1] == pytest.approx(C_1, abs=1e-15)
    assert course[0][0] == pytest.approx(_sigma(0.3) * math.tanh(C_1), abs=1e-15)


# --- NumPy transcriptions of the course at random sizes --------------------------------------


def _course_lstm(c, x, h, C):
    for x_t in x:  # x (T, B, D), h and C (B, H)
        hx = np.concatenate([h, x_t], axis=1)
        f = 1 / (1 + np.exp(-(hx @ c["W_f"].T + c["b_f"])))
        i = 1 / (1 + np.exp(-(hx @ c["W_i"].T + c["b_i"])))
        C_tilde = np.tanh(hx @ c["W_C"].T + c["b_C"])
        o = 1 / (1 + np.exp(-(hx @ c["W_o"].T + c["b_o"])))
        C = f * C + i * C_tilde
        h = o * np.tanh(C)
    return h, C


def _course_gru(c, x, h):
    for x_t in x:
        hx = np.concatenate([h, x_t], axis=1)
        z = 1 / (1 + np.exp(-(hx @ c["W_z"].T + c["b_z"])))
        r = 1 / (1 + np.exp(-(hx @ c["W_r"].T + c["b_r"])))
        h_tilde = np.tanh(np.concatenate([r * h, x_t], axis=1) @ c["W"].T + c["b"])
        h = (1 - z) * h + z * h_tilde
    return h


def _course_rnn(c, x, h):
    for x_t in x:
        h = np.tanh(x_t @ c["W_xh"].T + h @ c["W_hh"].T + c["b_h"])
    return h


def _random_course(mode, H, D, rng):
    if mode == "rnn":
        return {"W_xh": rng.normal(size=(H, D)), "W_hh": rng.normal(size=(H, H)), "b_h": rng.normal(size=H)}
    gates = ("f", "i", "C", "o") if mode == "lstm" else ("z", "r", "")
    out = {}
    for g in gates:
        suffix = f"_{g}" if g else ""
        out[f"W{suffix}"] = rng.normal(size=(H, H + D))
        out[f"b{suffix}"] = rng.normal(size=H)
    return out


VIEWS = {
    "rnn": (rnnlab.rnn_params_from_course, rnnlab.rnn_params_to_course, lambda D, H: rnnlab.RNN(D, H, dtype=np.float64)),
    "lstm": (rnnlab.lstm_params_from_course, rnnlab.lstm_params_to_course, lambda D, H: rnnlab.LSTM(D, H, dtype=np.float64)),
    "gru": (rnnlab.gru_params_from_course, rnnlab.gru_params_to_course,
            lambda D, H: rnnlab.GRU(D, H, reset="before", dtype=np.float64)),
}


@settings(max_examples=15, deadline=None)
@given(mode=st.sampled_from(list(VIEWS)), H=st.integers(1, 4), D=st.integers(1, 4), B=st.integers(1, 3),
       T=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_a_layer_from_course_matrices_computes_the_course_equations(mode, H, D, B, T, seed):
    rng = np.random.default_rng(seed)
    course = _random_course(mode, H, D, rng)
    layer = VIEWS[mode][2](D, H)
    layer.load_state_dict(VIEWS[mode][0](**course))
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(1, B, H))
    if mode == "lstm":
        C0 = rng.normal(size=(1, B, H))
        _, (h_n, c_n) = layer.forward(x, (h0, C0))
        h_ref, C_ref = _course_lstm(course, x, h0[0], C0[0])
        np.testing.assert_allclose(c_n[0], C_ref, rtol=0, atol=1e-12)
    else:
        _, h_n = layer.forward(x, h0)
        h_ref = (_course_rnn if mode == "rnn" else _course_gru)(course, x, h0[0])
    np.testing.assert_allclose(h_n[0], h_ref, rtol=0, atol=1e-12)


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(mode=st.sampled_from(list(VIEWS)), H=st.integers(1, 5), D=st.integers(1, 5), seed=st.integers(0, 2**16),
       suffix=st.sampled_from(["_l0", "_l1", "_l2_reverse"]))
def test_course_to_fused_to_course_is_exact(mode, H, D, seed, suffix):
    from_course, to_course, _ = VIEWS[mode]
    course = _random_course(mode, H, D, np.random.default_rng(seed))
    fused = from_course(**course, suffix=suffix)
    assert all(k.endswith(suffix) for k in fused)
    back = to_course(fused, suffix=suffix)
    assert set(back) == set(course)
    for k, v in course.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)  # bit for bit


@settings(max_examples=20, deadline=None)
@given(mode=st.sampled_from(list(VIEWS)), H=st.integers(1, 5), D=st.integers(1, 5), seed=st.integers(0, 2**16),
       bias=st.booleans())
def test_fused_to_course_to_fused_is_exact_up_to_the_bias_split(mode, H, D, seed, bias):
    layer = VIEWS[mode][2](D, H)
    layer = type(layer)(D, H, num_layers=2, bidirectional=True, bias=bias, dtype=np.float64, seed=seed,
                        **layer.cell.options)
    x = np.random.default_rng(seed).normal(size=(3, 2, D))
    for suffix in ("_l0", "_l1_reverse"):
        params = layer.state_dict()
        from_course, to_course, _ = VIEWS[mode]
        again = from_course(**to_course(params, suffix=suffix), suffix=suffix)
        for w in ("weight_ih", "weight_hh"):
            np.testing.assert_array_equal(again[w + suffix], params[w + suffix])
        bias_sum = (params[f"bias_ih{suffix}"] + params[f"bias_hh{suffix}"]) if bias else 0.0
        np.testing.assert_array_equal(again[f"bias_ih{suffix}"], bias_sum)  # the sum is what the view keeps
        np.testing.assert_array_equal(again[f"bias_hh{suffix}"], 0.0)
        if bias:  # the same function: only b_ih + b_hh enters (for GRU, with reset="before")
            before, _ = layer.forward(x)
            rebuilt = type(layer)(D, H, num_layers=2, bidirectional=True, dtype=np.float64, seed=0, **layer.cell.options)
            rebuilt.load_state_dict({**params, **again})
            np.testing.assert_allclose(rebuilt.forward(x)[0], before, rtol=0, atol=1e-14)


def test_course_gates_land_in_pytorchs_order():
    H, D = 2, 1
    mats = {g: np.full((H, H + D), float(k)) for k, g in enumerate(("f", "i", "C", "o"), start=1)}
    fused = rnnlab.lstm_params_from_course(W_f=mats["f"], b_f=[1, 1], W_i=mats["i"], b_i=[2, 2], W_C=mats["C"],
                                           b_C=[3, 3], W_o=mats["o"], b_o=[4, 4])
    # PyTorch's order is i, f, g (= C̃), o
    np.testing.assert_array_equal(fused["weight_ih_l0"][:, 0], [2, 2, 1, 1, 3, 3, 4, 4])
    np.testing.assert_array_equal(fused["bias_ih_l0"], [2, 2, 1, 1, 3, 3, 4, 4])
    # the first H columns of a course matrix multiply h_{t-1}
    W_f = np.array([[1.0, 2.0, 9.0], [3.0, 4.0, 8.0]])
    f = rnnlab.lstm_params_from_course(W_f=W_f, b_f=[0, 0], W_i=W_f, b_i=[0, 0], W_C=W_f, b_C=[0, 0], W_o=W_f, b_o=[0, 0])
    np.testing.assert_array_equal(f["weight_hh_l0"][H : 2 * H], W_f[:, :H])
    np.testing.assert_array_equal(f["weight_ih_l0"][H : 2 * H], W_f[:, H:])


def test_gru_view_turns_the_course_z_into_pytorchs_one_minus_z():
    """With b_z → +∞ the course's z_t = 1, so h_t = h̃_t: in PyTorch's convention z = 0."""
    H, D = 1, 1
    course = {"W_z": [[0.0, 0.0]], "b_z": [50.0], "W_r": [[0.0, 0.0]], "b_r": [50.0], "W": [[0.5, 1.0]], "b": [0.1]}
    gru = rnnlab.GRU(D, H, reset="before", dtype=np.float64, seed=0)
    gru.load_state_dict(rnnlab.gru_params_from_course(**course))
    _, h_n = gru.forward(np.array([[2.0]]), np.array([[0.4]]))
    assert h_n[0, 0] == pytest.approx(math.tanh(0.5 * 0.4 + 1.0 * 2.0 + 0.1), abs=1e-12)
    assert gru.params["bias_ih_l0"][1] == -50.0  # the z row of the fused bias is negated


@pytest.mark.parametrize("make", [
    lambda: rnnlab.lstm_params_from_course(W_f=np.zeros((2, 3)), b_f=[0, 0], W_i=np.zeros((2, 4)), b_i=[0, 0],
                                           W_C=np.zeros((2, 3)), b_C=[0, 0], W_o=np.zeros((2, 3)), b_o=[0, 0]),
    lambda: rnnlab.lstm_params_from_course(W_f=np.zeros((2, 2)), b_f=[0, 0], W_i=np.zeros((2, 2)), b_i=[0, 0],
                                           W_C=np.zeros((2, 2)), b_C=[0, 0], W_o=np.zeros((2, 2)), b_o=[0, 0]),
    lambda: rnnlab.gru_params_from_course(W_z=np.zeros((2, 3)), b_z=[0, 0], W_r=np.zeros((2, 3)), b_r=[0, 0],
                                          W=np.zeros((2, 5)), b=[0, 0]),
])
def test_course_matrices_of_the_wrong_width_are_refused(make):
    """Every W_* must be (H, H + D) with D ≥ 1."""
    with pytest.raises(ShapeError) as info:
        make()
    text = str(info.value)
    assert isinstance(info.value, RnnlabError) and "expected" in text and "got" in text and "(2, 2 + input_size)" in text
