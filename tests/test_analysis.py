"""Gradient-flow analysis: exact Jacobians against finite differences, ex. 1.2 computed again
here by other means, the LSTM/GRU direct paths, seed 001's sigmoid chain, the cell comparison."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.analysis import (_make_layer, _new_readout, _recall_loss, compare_cells, first_input_task,
                             linearised_flow, matrix_norm, recurrent_matrix, rnn_with_spectral_radius, sigmoid_chain,
                             state_jacobians, train_first_input)
from rnnlab.course import exercise_1_2
from rnnlab.errors import ConfigError, ShapeError
from rnnlab.gradcheck import check_gradients

LAYERS = {
    "rnn": lambda **k: rnnlab.RNN(**k),
    "lstm": lambda **k: rnnlab.LSTM(**k),
    "gru": lambda **k: rnnlab.GRU(**k),
    "gru_before": lambda **k: rnnlab.GRU(reset="before", **k),
    "lnlstm": lambda **k: rnnlab.LSTM(layer_norm=True, **k),
}


def final_state(layer, x, state):
    """s_T (flattened h, or [h, c]) after running ``x (T, D)`` from ``state`` (a flat vector)."""
    H = layer.hidden_size
    if len(layer.cell.state_names) == 2:
        hx = (state[:H].reshape(1, H), state[H:].reshape(1, H))
    else:
        hx = state.reshape(1, H)
    _, fin = layer.forward(x, hx)
    return np.concatenate([f.ravel() for f in fin]) if isinstance(fin, tuple) else fin.ravel()


def fd_jacobian(layer, x, state, eps=1e-6):
    """Central differences with Richardson's extrapolation, (4 D(ε/2) − D(ε)) / 3: error O(ε⁴).
    The layer-normalised LSTM over two units curves so sharply that plain central differences
    (error O(ε²)) miss the exact Jacobian by 6e-5 relative (seed 0, T = 6, H = 2)."""
    def central(h):
        cols = []
        for k in range(state.size):
            e = np.zeros_like(state)
            e[k] = h
            cols.append((final_state(layer, x, state + e) - final_state(layer, x, state - e)) / (2 * h))
        return np.stack(cols, axis=1)

    return (4 * central(eps / 2) - central(eps)) / 3


@pytest.mark.parametrize("mode", sorted(LAYERS))
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 6), H=st.integers(1, 4))
def test_jacobians_match_finite_differences(mode, seed, T, H):
    rng = np.random.default_rng(seed)
    layer = LAYERS[mode](input_size=2, hidden_size=H, dtype=np.float64, rng=rng)
    x = rng.normal(size=(T, 2))
    n_states = len(layer.cell.state_names)
    s0 = rng.normal(scale=0.5, size=n_states * H)
    hx = (s0[:H].reshape(1, H), s0[H:].reshape(1, H)) if n_states == 2 else s0.reshape(1, H)
    J = state_jacobians(layer, x, hx)
    assert J.jacobians.shape == (1, T + 1, n_states * H, n_states * H)
    np.testing.assert_array_equal(J.jacobians[0, 0], np.eye(n_states * H))
    # the state at time T − d, reached by running the first T − d steps, perturbed, then the rest
    for d in range(T + 1):
        if T - d > 0:
            s_mid = final_state(layer, x[: T - d], s0)
        else:
            s_mid = s0
        if d == 0:
            continue
        fd = fd_jacobian(layer, x[T - d:], s_mid)
        np.testing.assert_allclose(J.jacobians[0, d], fd, rtol=1e-6, atol=1e-8)


def test_jacobians_of_a_batch_and_of_the_reverse_direction():
    rng = np.random.default_rng(3)
    layer = rnnlab.GRU(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=rng)
    x = rng.normal(size=(5, 2, 2))
    J = state_jacobians(layer, x, level=1, direction=1)
    assert J.jacobians.shape == (2, 6, 3, 3)
    # one sequence alone gives the same matrices as inside the batch
    J1 = state_jacobians(layer, x[:, 1], level=1, direction=1)
    np.testing.assert_allclose(J1.jacobians[0], J.jacobians[1], rtol=1e-12, atol=1e-15)
    # the reverse direction of a one-level layer, over the whole sequence: perturb its initial
    # state (it reads x_{T−1} first) and watch its final state h_n[1]
    single = rnnlab.GRU(2, 3, bidirectional=True, dtype=np.float64, rng=rng)
    seq = rng.normal(size=(5, 2))
    h0 = rng.normal(scale=0.3, size=(2, 3))
    Jr = state_jacobians(single, seq, h0, direction=1)
    fd = np.empty((3, 3))
    for k in range(3):
        plus, minus = h0.copy(), h0.copy()
        plus[1, k] += 1e-6
        minus[1, k] -= 1e-6
        fd[:, k] = (single.forward(seq, plus)[1][1] - single.forward(seq, minus)[1][1]) / 2e-6
    np.testing.assert_allclose(Jr.jacobians[0, 5], fd, rtol=1e-6, atol=1e-9)
    with pytest.raises(ConfigError, match="level"):
        state_jacobians(layer, x, level=2)
    with pytest.raises(ShapeError, match="input_size"):
        state_jacobians(layer, rng.normal(size=(5, 3)))


def test_upper_level_jacobian_matches_a_single_layer_on_the_lower_output():
    rng = np.random.default_rng(4)
    stack = rnnlab.LSTM(2, 3, num_layers=2, dtype=np.float64, rng=rng)
    x = rng.normal(size=(6, 2))
    lower = rnnlab.LSTM(2, 3, dtype=np.float64)
    lower.load_state_dict({k.replace("_l0", "_l0"): v for k, v in stack.params.items() if k.endswith("_l0")})
    upper = rnnlab.LSTM(3, 3, dtype=np.float64)
    upper.load_state_dict({k.replace("_l1", "_l0"): v for k, v in stack.params.items() if k.endswith("_l1")})
    h_lower, _ = lower.forward(x)
    np.testing.assert_allclose(state_jacobians(stack, x, level=1).jacobians,
                               state_jacobians(upper, h_lower).jacobians, rtol=1e-12, atol=1e-15)


def test_rnn_jacobian_is_the_product_of_diag_slope_times_W():
    rng = np.random.default_rng(5)
    layer = rnnlab.RNN(1, 3, dtype=np.float64, rng=rng)
    x = rng.normal(size=(7, 1))
    J = state_jacobians(layer, x)
    out, _ = layer.forward(x)
    W = layer.params["weight_hh_l0"]
    P = np.eye(3)
    for d in range(1, 8):
        t = 7 - d  # step index producing h_{t+1}
        P = P @ (np.diag(1 - out[t] ** 2) @ W)
        np.testing.assert_allclose(J.jacobians[0, d], P, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(J.slopes[0], 1 - out**2, rtol=1e-14)


def test_lstm_cell_path_is_the_product_of_forget_gates_and_equals_the_direct_block():
    rng = np.random.default_rng(6)
    layer = rnnlab.LSTM(2, 3, dtype=np.float64, rng=rng)
    layer.params["weight_hh_l0"][:] = 0.0  # no h → gate feedback: ∂C_T/∂C_t is exactly Π f
    x = rng.normal(size=(8, 2))
    J = state_jacobians(layer, x)
    p = layer.params
    fs = []
    for t in range(8):
        z = x[t] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + p["bias_hh_l0"]
        fs.append(1 / (1 + np.exp(-z[3:6])))  # f_t: rows H … 2H (order i, f, g, o)
    for d in range(9):
        prod = np.prod(fs[8 - d:], axis=0) if d else np.ones(3)
        np.testing.assert_allclose(J.direct_path[0, d], prod, rtol=1e-12)
        np.testing.assert_allclose(J.block("c", "c")[0, d], np.diag(prod), rtol=1e-12, atol=1e-15)
    with pytest.raises(ConfigError, match="state"):
        J.block("n")


def test_gru_direct_path_is_the_product_of_update_gates():
    rng = np.random.default_rng(7)
    layer = rnnlab.GRU(1, 2, dtype=np.float64, rng=rng)
    layer.params["weight_hh_l0"][:] = 0.0  # then ∂h_t/∂h_{t−1} = diag(z_t) exactly
    x = rng.normal(size=(5, 1))
    J = state_jacobians(layer, x)
    p = layer.params
    zs = [1 / (1 + np.exp(-(x[t] @ p["weight_ih_l0"][2:4].T + p["bias_ih_l0"][2:4] + p["bias_hh_l0"][2:4])))
          for t in range(5)]
    for d in range(1, 6):
        prod = np.prod(zs[5 - d:], axis=0)
        np.testing.assert_allclose(J.direct_path[0, d], prod, rtol=1e-12)
        np.testing.assert_allclose(J.jacobians[0, d], np.diag(prod), rtol=1e-12, atol=1e-15)


# --- ex. 1.2 ------------------------------------------------------------------------------------


def test_exercise_1_2_against_an_independent_computation():
    ex = exercise_1_2()
    # W_hh = 0.8 I + 0.1 [[0, 1], [−1, 0]] = √0.65 × (a rotation by θ), θ = atan(0.1 / 0.8):
    # so (0.9 W)^n = (0.9 √0.65)^n R(nθ), whose spectral norm is (0.9 √0.65)^n exactly.
    r = 0.9 * math.sqrt(0.65)
    theta = math.atan2(0.1, 0.8)
    assert sorted(ex.flow.W_eigenvalues, key=lambda z: z.imag) == pytest.approx([0.8 - 0.1j, 0.8 + 0.1j], abs=1e-15)
    assert ex.flow.spectral_radius == pytest.approx(r, rel=1e-14)
    assert ex.flow.spectral_norm == pytest.approx(r, rel=1e-14)
    for n, spec, fro, mx in zip(ex.steps, ex.norms["2"], ex.norms["fro"], ex.norms["max"]):
        assert spec == pytest.approx(r**n, rel=1e-12)
        assert fro == pytest.approx(math.sqrt(2) * r**n, rel=1e-12)
        assert mx == pytest.approx(r**n * max(abs(math.cos(n * theta)), abs(math.sin(n * theta))), rel=1e-12)
    assert ex.steps == (3, 5, 10)
    assert ex.norms["2"] == pytest.approx([0.382030, 0.201139, 0.040457], abs=1e-6)  # what a student finds
    # steps until < 0.01: smallest n with r^n < 0.01, resp. √2 r^n < 0.01
    assert ex.steps_below["2"] == math.ceil(math.log(0.01) / math.log(r)) == 15
    assert ex.steps_below["fro"] == math.ceil(math.log(0.01 / math.sqrt(2)) / math.log(r)) == 16
    n_max = next(n for n in range(100) if r**n * max(abs(math.cos(n * theta)), abs(math.sin(n * theta))) < 0.01)
    assert ex.steps_below["max"] == n_max
    # question 3: eigenvalue modulus 1.05 still vanishes (0.945 < 1), 1.2 and 1.5 explode
    assert ex.larger[1.05].spectral_radius == pytest.approx(0.9 * 1.05, rel=1e-12)
    assert ex.larger[1.05].steps_above(100.0) is None and ex.larger[1.05].steps_below(0.01) is not None
    assert ex.larger[1.2].spectral_radius == pytest.approx(1.08, rel=1e-12)
    assert ex.larger[1.2].steps_above(100.0) == math.ceil(math.log(100) / math.log(1.08))
    assert ex.larger[1.5].steps_below(0.01) is None


def test_linearised_flow_with_per_unit_slopes_and_bad_input():
    W = np.array([[0.5, 0.2], [0.1, 0.9]])
    flow = linearised_flow(W, [0.5, 1.0])
    np.testing.assert_allclose(flow.J, np.diag([0.5, 1.0]) @ W)
    np.testing.assert_allclose(flow.power(4), np.linalg.matrix_power(np.diag([0.5, 1.0]) @ W, 4))
    assert flow.norms(3, "fro")[0] == pytest.approx(math.sqrt(2))
    with pytest.raises(ShapeError, match="square"):
        linearised_flow(np.ones((2, 3)))
    with pytest.raises(ConfigError, match="norm"):
        matrix_norm(W, "nuc")


def test_recurrent_matrix_has_the_requested_spectral_radius_and_the_jacobian_follows():
    rng = np.random.default_rng(8)
    for radius in (0.5, 1.0, 1.5):
        W = recurrent_matrix(6, radius, rng)
        assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(radius, rel=1e-12)
    # small inputs keep tanh' ≈ 1: the exact Jacobian decays like ρ^d for ρ < 1
    layer = rnn_with_spectral_radius(6, 0.7, np.random.default_rng(9))
    J = state_jacobians(layer, 1e-4 * np.random.default_rng(10).normal(size=(60, 1)))
    norms = J.mean_norms()
    rate = (norms[60] / norms[30]) ** (1 / 30)
    assert rate == pytest.approx(0.7, rel=0.02)


# --- seed 001's sigmoid chain ---------------------------------------------------------------------


def test_sigmoid_chain_gradients_are_products_of_slopes_below_the_quarter_bound():
    chain = sigmoid_chain(layers=8, x=0.0, weight=1.0)
    a = [0.0]
    for _ in range(8):
        a.append(1 / (1 + math.exp(-a[-1])))
    np.testing.assert_allclose(chain.activations, a, rtol=1e-15)
    slopes = [s * (1 - s) for s in a[1:]]
    for l in range(9):
        assert chain.gradients[l] == pytest.approx(np.prod(slopes[l:]), rel=1e-13)
        assert chain.gradients[l] <= chain.bound[l] + 1e-15
    assert chain.bound[0] == 0.25**8
    assert chain.slopes[0] == 0.25  # σ'(0) = 1/4, the maximum
    with pytest.raises(ConfigError):
        sigmoid_chain(0)


# --- RNN vs LSTM vs GRU ---------------------------------------------------------------------------


def test_first_input_task_marks_one_early_bit_among_distractors():
    x, y = first_input_task(np.random.default_rng(3), steps=12, batch=50, window=4)
    assert x.shape == (12, 50, 2) and y.shape == (50,)
    assert set(np.unique(x[:, :, 0])) == {-1.0, 1.0}  # every step carries a bit of the same size
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=0) == 1) and np.all(markers[4:] == 0)  # one marked step, t* < window
    marked = markers.argmax(axis=0)
    assert np.array_equal(y, x[marked, np.arange(50), 0])
    assert len(set(marked)) > 1 and set(y) == {-1.0, 1.0}
    with pytest.raises(ConfigError, match="window"):
        first_input_task(np.random.default_rng(0), steps=3, batch=2, window=4)


@pytest.mark.parametrize("mode", ["rnn", "lstm", "gru"])
def test_recall_loss_gradients_match_finite_differences(mode):
    """The gradient that training follows (layer and readout) is the gradient of the task's loss."""
    rng = np.random.default_rng(7)
    layer = _make_layer(mode, 4, rng)
    readout = _new_readout(4, rng)
    readout["readout_c"][0] = 0.3
    x, y = first_input_task(rng, steps=7, batch=3, window=3)
    _, d_h_n, d_v, d_c = _recall_loss(layer, readout, x, y)
    layer.backward(None, d_h_n)
    report = check_gradients(lambda: _recall_loss(layer, readout, x, y)[0], {**layer.params, **readout},
                             {**layer.grads, "readout_v": d_v, "readout_c": d_c})
    assert report.passed, str(report)


def test_training_on_a_short_recall_reduces_the_loss():
    rng = np.random.default_rng(0)
    layer = rnnlab.LSTM(2, 8, dtype=np.float64, rng=rng)
    weights = layer.params["weight_hh_l0"].copy()
    losses = train_first_input(layer, rng, steps=6, train_steps=60, batch=16, lr=0.05, window=2)
    assert losses.shape == (60,)
    assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10])
    assert not np.allclose(weights, layer.params["weight_hh_l0"])  # the optimiser updated the live arrays


@pytest.fixture(scope="module")
def default_comparison():
    return compare_cells()  # the figure's settings: T = 20, H = 16, 300 Adam steps, seed 0


def test_gated_cells_learn_the_recall_and_the_rnn_does_not(default_comparison):
    cmp = default_comparison
    assert set(cmp.losses) == set(cmp.curves) == {"rnn", "lstm", "gru"}
    for mode, (before, _) in cmp.losses.items():
        assert 0.8 < before < 1.5  # untrained: about the loss of guessing 0, i.e. E[y²] = 1
        assert cmp.curves[mode].shape == (300,)
    rnn_after = cmp.losses["rnn"][1]
    assert rnn_after > 0.7  # the plain RNN has not found the marked bit
    for mode in ("lstm", "gru"):
        assert cmp.losses[mode][1] < 0.05 < 0.1 * rnn_after


def test_gradient_reaches_further_back_in_the_lstm_at_initialisation(default_comparison):
    cmp = default_comparison
    T = cmp.steps
    rnn_before, rnn_after = cmp.profiles["rnn"]
    lstm_before, _ = cmp.profiles["lstm"]
    _, gru_after = cmp.profiles["gru"]
    for mode, (before, after) in cmp.profiles.items():
        assert before.shape == after.shape == (T + 1,)
        assert before[0] == pytest.approx(1.0) and after[0] == pytest.approx(1.0)  # ‖I‖₂
        assert np.all(np.isfinite(before)) and np.all(np.isfinite(after))
    assert lstm_before[T] > 100 * rnn_before[T]  # open cell path Π f_k against Π diag(tanh') W_hh
    assert rnn_before[T] < 1e-2 * rnn_before[1]  # the RNN's gradient vanishes with distance
    assert gru_after[T] > 100 * rnn_after[T]  # training opened the GRU's path, not the RNN's


def test_compare_cells_small_and_bad_settings():
    cmp = compare_cells(modes=("gru",), hidden=3, steps=6, train_steps=3, batch=2, probes=1, seed=1)
    assert set(cmp.profiles) == {"gru"} and cmp.lstm_forget_bias == 0.0 and cmp.distance[-1] == 6
    with pytest.raises(ConfigError, match="cells"):
        compare_cells(modes=("transformer",), train_steps=1)
    with pytest.raises(ConfigError, match="window"):
        compare_cells(steps=3, train_steps=1)


# --- rnnlab gradients ---------------------------------------------------------------------------


def test_cli_gradients_exercise_answers_each_question(capsys):
    from rnnlab import cli

    assert cli.main(["gradients", "--exercise"]) == 0
    out = capsys.readouterr().out
    assert "0.8 + 0.1i" in out and "0.806226" in out  # eigenvalues and their modulus
    assert "0.382030" in out and "0.201139" in out and "0.040457" in out  # Q1, spectral norm
    assert "n = 15" in out and "n = 16" in out  # Q2, spectral and Frobenius
    assert "1.0800" in out  # Q3: |λ| = 1.2 gives 1.08 > 1
    assert cli.main(["--lang", "fr", "gradients", "--exercise"]) == 0
    assert "valeurs propres" in capsys.readouterr().out


def test_cli_gradients_matrix_and_layer(tmp_path, capsys):
    from rnnlab import cli

    assert cli.main(["gradients", "--matrix", "0.8,0.1;-0.1,0.8", "--slope", "0.9", "--steps", "12"]) == 0
    out = capsys.readouterr().out
    assert "0.725603" in out and "4.0457e-02" in out
    plot = tmp_path / "g.png"
    assert cli.main(["gradients", "--cell", "lstm", "--hidden", "3", "--steps", "12", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "‖∂C_T/∂C_t‖" in out and "Π f" in out
    assert plot.stat().st_size > 20_000
    assert cli.main(["gradients", "--spectral-radius", "0.5", "--hidden", "4", "--steps", "20"]) == 0
    assert "spectral radius 0.5" in capsys.readouterr().out
    assert cli.main(["gradients", "--cell", "gru", "--spectral-radius", "0.5"]) == 2
    assert "--cell rnn" in capsys.readouterr().err
    assert cli.main(["gradients", "--matrix", "1,2;3"]) == 2
    assert "square" in capsys.readouterr().err


def test_cli_gradients_reads_npz_and_safetensors_and_refuses_pickles(tmp_path, capsys):
    from safetensors.numpy import save_file

    from rnnlab import cli
    from rnnlab.weights import layer_from_weights, load_weights

    gru = rnnlab.GRU(2, 3, num_layers=2, dtype=np.float64, seed=1)
    np.savez(tmp_path / "w.npz", **{f"model.rnn.{k}": v for k, v in gru.params.items()})
    save_file({k: np.ascontiguousarray(v) for k, v in gru.params.items()}, str(tmp_path / "w.safetensors"))
    for name in ("w.npz", "w.safetensors"):
        layer = layer_from_weights(load_weights(tmp_path / name), name)
        assert layer.mode == "gru" and layer.num_layers == 2 and layer.input_size == 2
        for k, v in gru.params.items():
            np.testing.assert_array_equal(layer.params[k], v)
        assert cli.main(["gradients", "--weights", str(tmp_path / name), "--steps", "6", "--level", "1"]) == 0
        assert "GRU, H = 3" in capsys.readouterr().out
    ln = rnnlab.LSTM(2, 3, bidirectional=True, layer_norm=True, dtype=np.float64, seed=2)
    save_file({f"rnn.{k}": np.ascontiguousarray(v) for k, v in ln.params.items()}, str(tmp_path / "ln.safetensors"))
    layer = layer_from_weights(load_weights(tmp_path / "ln.safetensors"), "ln.safetensors")
    assert layer.layer_norm and layer.bidirectional and sorted(layer.params) == sorted(ln.params)
    assert cli.main(["gradients", "--weights", str(tmp_path / "ln.safetensors"), "--steps", "6"]) == 0
    out = capsys.readouterr().out
    assert "LN-LSTM, H = 3" in out and "‖∂C_T/∂C_t‖" in out
    assert cli.main(["gradients", "--weights", str(tmp_path / "w.npz"), "--cell", "lstm"]) == 2
    err = capsys.readouterr().err
    assert "weight_hh_l0 has 9 rows" in err and "12" in err
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "pickled.npz", weight_hh_l0=np.array([{"a": 1}], dtype=object))
    assert cli.main(["gradients", "--weights", str(tmp_path / "pickled.npz")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert cli.main(["gradients", "--weights", str(tmp_path / "obj.npy")]) == 2
    assert "expected .safetensors or .npz" in capsys.readouterr().err
    assert cli.main(["gradients", "--weights", str(tmp_path / "none.npz")]) == 2
    assert "not found" in capsys.readouterr().err
