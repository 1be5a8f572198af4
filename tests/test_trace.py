"""The trace runs the core and records more: it equals the fused layers (forward) and the fused
BPTT (backward) to 1e-12, and every substituted arithmetic line evaluates to its value."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.cells import make_cell
from rnnlab.sequence import unroll, unroll_backward
from rnnlab.trace import trace_backward, trace_forward

CASES = [("rnn", {}), ("rnn", {"nonlinearity": "relu"}), ("lstm", {}), ("gru", {"reset": "before"}), ("gru", {"reset": "after"})]


def _layer(cell, options, D, H, seed):
    kwargs = {"dtype": np.float64, "seed": seed}
    if cell == "gru":
        kwargs["reset"] = options["reset"]
    if cell == "rnn" and options:
        kwargs["nonlinearity"] = options["nonlinearity"]
    return {"rnn": rnnlab.RNN, "lstm": rnnlab.LSTM, "gru": rnnlab.GRU}[cell](D, H, **kwargs)


@settings(max_examples=8, deadline=None)
@given(case=st.sampled_from(CASES), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_trace_equals_fused_layer(case, T, D, H, seed):
    cell, options = case
    rng = np.random.default_rng(seed)
    layer = _layer(cell, options, D, H, seed)
    x = rng.standard_normal((T, D))
    h0 = rng.standard_normal(H) * 0.5
    if cell == "lstm":
        c0 = rng.standard_normal(H) * 0.5
        out, (h_n, c_n) = layer.forward(x, (h0[None, :], c0[None, :]))
        trace = trace_forward(cell, layer.params, x, (h0, c0), options=options)
        np.testing.assert_allclose(trace.series("C")[-1], c_n[0], rtol=0, atol=1e-12)
    else:
        out, h_n = layer.forward(x, h0[None, :])
        trace = trace_forward(cell, layer.params, x, (h0,), options=options)
    np.testing.assert_allclose(trace.series("h"), out, rtol=0, atol=1e-12)
    assert [s.t for s in trace.steps] == list(range(1, T + 1))


def _course_grads(cell, options, grads, H):
    """The fused BPTT's gradients in the course's names (an independent conversion)."""
    dW = np.concatenate([grads["W_hh"], grads["W_ih"]], axis=1)  # [∂/∂W_hh | ∂/∂W_ih] per row
    db = grads["b_ih"]
    rows = lambda k: slice(k * H, (k + 1) * H)  # noqa: E731
    if cell == "rnn":
        return {"W_xh": grads["W_ih"], "W_hh": grads["W_hh"], "b_h": db}
    if cell == "lstm":
        return {f"{w}_{g}": (dW if w == "W" else db)[rows(k)] for k, g in enumerate("ifCo") for w in ("W", "b")}
    out = {"W_r": dW[rows(0)], "b_r": db[rows(0)], "W_z": -dW[rows(1)], "b_z": -db[rows(1)]}
    if options["reset"] == "before":
        out.update(W=dW[rows(2)], b=db[rows(2)])
    else:
        out.update(W_in=grads["W_ih"][rows(2)], b_in=db[rows(2)], W_hn=grads["W_hh"][rows(2)], b_hn=grads["b_hh"][rows(2)])
    return out


@settings(max_examples=8, deadline=None)
@given(case=st.sampled_from(CASES), T=st.integers(1, 5), D=st.integers(1, 3), H=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_backward_trace_equals_fused_bptt(case, T, D, H, seed):
    cell, options = case
    rng = np.random.default_rng(seed)
    layer = _layer(cell, options, D, H, seed)
    x = rng.standard_normal((T, D))
    state0 = tuple(rng.standard_normal(H) * 0.5 for _ in (range(2) if cell == "lstm" else range(1)))
    steps = sorted(set(rng.integers(1, T + 1, size=2).tolist()))
    d_h = {t: rng.standard_normal(H) for t in steps}
    trace = trace_forward(cell, layer.params, x, state0, options=options)
    back = trace_backward(trace, d_h=d_h)
    # the fused reference: one unroll, one unroll_backward with ∂L/∂output = the upstream gradients
    p = layer.params
    core = make_cell(cell, **options)
    _, _, tape = unroll(core, x[:, None, :], tuple(s[None, :] for s in state0), p["weight_ih_l0"], p["weight_hh_l0"],
                        p["bias_ih_l0"], p["bias_hh_l0"])
    d_out = np.zeros((T, 1, H))
    for t, g in d_h.items():
        d_out[t - 1, 0] = g
    _, d_state0, grads = unroll_backward(tape, d_out)
    expected = _course_grads(cell, options, grads, H)
    assert set(back.grads) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(back.grads[name], value, rtol=0, atol=1e-12, err_msg=name)
    for mine, ref in zip(back.d_state0, d_state0):
        np.testing.assert_allclose(mine, ref[0], rtol=0, atol=1e-12)


def _evaluate(expr):
    """Evaluate a line's tokens independently of the renderers."""
    names = {"σ(": "sig(", "tanh(": "tanh(", "exp(": "exp(", "ReLU(": "relu(", "×": "*", "−": "-", "²": "**2"}
    text = " ".join(f"({tok!r})" if not isinstance(tok, str) else names.get(tok, tok) for tok in expr)
    env = {"sig": lambda z: 1.0 / (1.0 + math.exp(-z)), "tanh": math.tanh, "exp": math.exp, "relu": lambda z: max(z, 0.0)}
    return eval(text, env)  # noqa: S307 - tokens made of floats and the operators above


@pytest.mark.parametrize("cell,options", CASES)
def test_every_arithmetic_line_evaluates_to_its_value(cell, options):
    rng = np.random.default_rng(3)
    D, H, T = 2, 2, 3
    layer = _layer(cell, options, D, H, 5)
    output = {"W_hy": rng.standard_normal((3, H)), "b_y": rng.standard_normal(3), "softmax": True} if cell == "rnn" else None
    trace = trace_forward(cell, layer.params, rng.standard_normal((T, D)), options=options, output_layer=output)
    d_y = {2: rng.standard_normal(3)} if cell == "rnn" else None
    trace_backward(trace, d_h={3: rng.standard_normal(H), 1: rng.standard_normal(H)}, d_y=d_y)
    lines = [line for s in trace.steps for line in s.lines] + [line for s in trace.backward.steps for line in s.lines]
    assert len(lines) > 20
    keys = {line.key for line in lines}
    assert "h" in keys and "d_h_prev" in keys or cell == "gru" and options["reset"] == "after"
    for line in lines:
        if line.expr is not None:
            assert _evaluate(line.expr) == pytest.approx(line.value, abs=1e-12), (line.key, line.t, line.unit)


def test_issue_example_line_and_course_names():
    from rnnlab.trace.layout import format_expr

    p = rnnlab.lstm_params_from_course(W_f=[0.1, 0.2], b_f=0.0, W_i=[0.3, -0.1], b_i=0.1, W_C=[0.2, 0.4], b_C=0.0,
                                       W_o=[0.1, 0.3], b_o=0.0)
    trace = trace_forward("lstm", p, [[1.0]])
    assert list(trace.steps[0].values) == ["z_f", "f", "z_i", "i", "z_C", "C_tilde", "C", "z_o", "o", "tanh_C", "h"]
    z_f = next(line for line in trace.steps[0].lines if line.key == "z_f")
    assert format_expr(z_f.expr) + f" = {z_f.value:.4f}" == "0.1×0.0 + 0.2×1.0 + 0.0 = 0.2000"
    f = next(line for line in trace.steps[0].lines if line.key == "f")
    assert format_expr(f.expr) == "σ(0.2)" and f"{f.value:.4f}" == "0.5498"


def test_bad_inputs_raise_clear_errors():
    p = rnnlab.rnn_params_from_course([[0.3]], [[0.2]], [0.1])
    with pytest.raises(rnnlab.ShapeError, match="non-empty"):
        trace_forward("rnn", p, np.zeros((0, 1)))
    with pytest.raises(rnnlab.ShapeError, match="input_size"):
        trace_forward("rnn", p, np.zeros((2, 3)))
    trace = trace_forward("rnn", p, [[1.0], [2.0]])
    with pytest.raises(rnnlab.ConfigError, match="between 1 and 2"):
        trace_backward(trace, d_h={3: [1.0]})


@pytest.mark.parametrize("kind", ["mse", "cross_entropy"])
def test_backward_from_a_loss_on_outputs_matches_finite_differences(kind):
    """RNN with an output layer and a loss on y_t: the traced ∂L/∂W against central differences of a
    forward pass written here with NumPy only."""
    rng = np.random.default_rng(11)
    D, H, K, T = 2, 3, 3, 4
    W_xh, W_hh, b_h = rng.standard_normal((H, D)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H) * 0.1
    W_hy, b_y = rng.standard_normal((K, H)) * 0.5, rng.standard_normal(K) * 0.1
    x = rng.standard_normal((T, D))
    targets = {2: rng.standard_normal(K), 4: rng.standard_normal(K)} if kind == "mse" else {2: 1, 4: 0}

    def loss_of(W_xh, W_hh, b_h, W_hy, b_y):
        h, total = np.zeros(H), 0.0
        for t in range(1, T + 1):
            h = np.tanh(W_xh @ x[t - 1] + W_hh @ h + b_h)
            y = W_hy @ h + b_y
            if t in targets:
                if kind == "mse":
                    total += np.sum((y - targets[t]) ** 2)
                else:
                    total += -(y[targets[t]] - np.log(np.sum(np.exp(y))))
        return total

    trace = trace_forward("rnn", rnnlab.rnn_params_from_course(W_xh, W_hh, b_h), x, output_layer={"W_hy": W_hy, "b_y": b_y})
    back = trace_backward(trace, loss={"type": kind, "targets": targets})
    arrays = {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h, "W_hy": W_hy, "b_y": b_y}
    assert back.loss["value"] == pytest.approx(loss_of(**arrays), abs=1e-12)
    eps = 1e-6
    for name, arr in arrays.items():
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            plus = loss_of(**arrays)
            arr[idx] = old - eps
            minus = loss_of(**arrays)
            arr[idx] = old
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(back.grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    d_y_lines = [line for s in back.steps for line in s.lines if line.key == "d_y"]
    assert len(d_y_lines) == 2 * K and all(_evaluate(line.expr) == pytest.approx(line.value, abs=1e-12) for line in d_y_lines)
