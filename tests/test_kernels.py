"""The fused numba kernels (rnnlab.kernels) and the cells' NumPy code compute the same numbers.

Every layer option runs twice, kernels on and off (``kernels.disabled()``), and outputs, final
states, input gradients and every parameter gradient must agree to the last bits of float64
(float32: to its own rounding); the parallel versions are held to the same. Without numba the
comparison would be NumPy against NumPy, so these tests skip.
"""

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab import kernels
from rnnlab.cells import lstm as lstm_cell
from rnnlab.cells import rnn as rnn_cell

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not kernels.ENABLED, reason="kernels disabled (RNNLAB_NO_NUMBA=1)")

LAYERS = {
    "rnn": lambda **kw: rnnlab.RNN(**kw),
    "rnn-relu": lambda **kw: rnnlab.RNN(nonlinearity="relu", **kw),
    "lstm": lambda **kw: rnnlab.LSTM(**kw),
    "gru": lambda **kw: rnnlab.GRU(**kw),
    "gru-before": lambda **kw: rnnlab.GRU(reset="before", **kw),
}


def run_both(name, T, B, D, H, dtype, lengths=None, num_layers=1, bidirectional=False, seed=0):
    """Forward + backward with the kernels and without; returns the two lists of arrays."""
    layer = LAYERS[name](input_size=D, hidden_size=H, num_layers=num_layers, bidirectional=bidirectional,
                         dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=(T, B, D)).astype(dtype)
    dirs = 2 if bidirectional else 1
    d_out = rng.normal(size=(T, B, dirs * H)).astype(dtype)
    d_h_n = rng.normal(size=(num_layers * dirs, B, H)).astype(dtype)
    results = []
    for context in (contextlib.nullcontext(), kernels.disabled()):
        with context:
            out, final = layer.forward(x, lengths=lengths)
            finals = final if isinstance(final, tuple) else (final,)
            d_x = layer.backward(d_out, d_h_n, *([d_h_n] if name == "lstm" else []))
            results.append([out, *finals, d_x] + [layer.grads[k].copy() for k in sorted(layer.grads)])
    return results


def assert_same(fused, plain, dtype):
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    for a, b in zip(fused, plain):
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_match_numpy(name, dtype):
    fused, plain = run_both(name, T=4, B=3, D=5, H=6, dtype=dtype, num_layers=2, bidirectional=True)
    assert_same(fused, plain, dtype)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_kernels_match_numpy_with_lengths(name):
    fused, plain = run_both(name, T=5, B=3, D=4, H=5, dtype=np.float64, lengths=np.array([5, 2, 4]),
                            bidirectional=True)
    assert_same(fused, plain, np.float64)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_parallel_kernels_match_numpy(name, monkeypatch):
    monkeypatch.setattr(kernels, "PARALLEL_MIN_SIZE", 0)  # every batch of B > 1 takes the parallel version
    for cell in (rnn_cell, lstm_cell):  # the per-step path, not the whole-sequence loops
        monkeypatch.setattr(cell, "COMPILED_MAX_WORK", -1)
    calls = []
    for kernel, (serial, parallel) in list((kernels._KERNELS or kernels._compile()).items()):
        counted = lambda *args, parallel=parallel: calls.append(1) or parallel(*args)  # noqa: E731
        monkeypatch.setitem(kernels._KERNELS, kernel, (serial, counted))
    with rnnlab.threads.limit_threads(2):  # the parallel versions run only on more than one thread
        fused, plain = run_both(name, T=3, B=5, D=4, H=7, dtype=np.float64)
    assert_same(fused, plain, np.float64)
    assert calls or name == "rnn"  # the RNN has no kernel


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(["rnn", "lstm", "gru"]), T=st.integers(1, 5), B=st.integers(1, 4),
       D=st.integers(1, 5), H=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_kernels_match_numpy_any_shape(name, T, B, D, H, seed):
    fused, plain = run_both(name, T, B, D, H, np.float64, seed=seed)
    assert_same(fused, plain, np.float64)


def test_cell_step_takes_numpy_path_for_mixed_dtypes():
    """A float32 state with float64 weights is outside the kernels' contract: NumPy runs it."""
    assert not kernels.usable(np.zeros((1, 2), np.float32), np.zeros((1, 2), np.float64))
    assert kernels.usable(np.zeros((1, 2)), np.zeros((3, 4)))
    cell = rnnlab.cells.make_cell("lstm")
    rng = np.random.default_rng(0)
    h, c = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 3)).astype(np.float32)
    xw, W_hh = rng.normal(size=(2, 12)), rng.normal(size=(12, 3))
    (h1, c1), _ = cell.step(xw, (h, c), W_hh)
    with kernels.disabled():
        (h2, c2), _ = cell.step(xw, (h, c), W_hh)
    np.testing.assert_array_equal(h1, h2)
    assert h1.dtype == np.float64


def test_environment_variable_disables_kernels():
    env = dict(os.environ, RNNLAB_NO_NUMBA="1")
    code = "import rnnlab.kernels as k; print(k.ENABLED, k.describe())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("False NumPy")


def _count_calls(monkeypatch, names):
    """Count the calls of the serial kernels ``names`` (their parallel versions are left as they are)."""
    table = kernels._KERNELS or kernels._compile()
    calls = dict.fromkeys(names, 0)
    for name in calls:
        serial, parallel = table[name]

        def counted(*args, serial=serial, name=name):
            calls[name] += 1
            return serial(*args)

        monkeypatch.setitem(kernels._KERNELS, name, (counted, parallel))
    return calls


def _count_sequence_calls(monkeypatch):
    """Count the calls of the whole-sequence loops (forward, backward) of the RNN and the LSTM."""
    return _count_calls(monkeypatch, ("rnn_sequence", "rnn_sequence_backward", "lstm_sequence",
                                      "lstm_sequence_backward"))


@pytest.mark.parametrize("name", ["rnn", "lstm"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_whole_sequence_loop_matches_numpy_at_min_char_rnn_size(name, dtype, monkeypatch):
    calls = _count_sequence_calls(monkeypatch)
    fused, plain = run_both(name, T=25, B=1, D=65, H=100, dtype=dtype, bidirectional=True)
    want = {f"{name}_sequence": 2, f"{name}_sequence_backward": 2}  # both directions, once each
    assert {k: v for k, v in calls.items() if v} == want
    assert_same(fused, plain, dtype)


@pytest.mark.parametrize("name", ["rnn", "lstm"])
@pytest.mark.parametrize("reverse", [False, True])
def test_whole_sequence_loop_caches_are_the_steps_caches(name, reverse, monkeypatch):
    """The caches of the compiled loop (built when read) hold what the per-step path's hold,
    step by step, in both directions; negative indices and slices read as a list's."""
    from rnnlab.sequence import StepCaches

    calls = _count_sequence_calls(monkeypatch)
    layer = LAYERS[name](input_size=4, hidden_size=6, bidirectional=True, dtype=np.float64, seed=3)
    x = np.random.default_rng(4).normal(size=(5, 1, 4))
    direction = int(reverse)
    layer.forward(x)
    assert calls[f"{name}_sequence"] == 2
    lazy = layer._tapes[0][direction].caches
    assert isinstance(lazy, StepCaches) and len(lazy) == 5
    compiled = [{k: v.copy() for k, v in c.items()} for c in layer.step_caches(0, direction)]
    assert [sorted(c) for c in lazy[-2:]] == [sorted(c) for c in compiled[-2:]]
    np.testing.assert_array_equal(lazy[-1]["h"], compiled[4]["h"])
    with pytest.raises(IndexError):
        lazy[5]
    with kernels.disabled():
        layer.forward(x)
        stepped = layer.step_caches(0, direction)
    assert not isinstance(layer._tapes[0][direction].caches, StepCaches)
    for t, (a, b) in enumerate(zip(compiled, stepped)):
        assert a.keys() == b.keys(), t
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-14, atol=1e-15, err_msg=f"step {t} {key}")


@pytest.mark.parametrize("layer, B, H, lengths", [
    (LAYERS["rnn"], 32, 256, None),  # B·H² far above COMPILED_MAX_WORK: BLAS's GEMM per step
    (LAYERS["lstm"], 32, 256, None),
    (LAYERS["rnn-relu"], 1, 20, None),  # the RNN's loop is tanh only
    (LAYERS["rnn"], 2, 20, np.array([3, 1])),  # a mask: the per-step path
    (LAYERS["lstm"], 2, 20, np.array([3, 1])),
    (lambda **kw: rnnlab.LSTM(proj_size=3, **kw), 1, 20, None),  # a projection: the per-step path
    (lambda **kw: rnnlab.LSTM(recurrent_dropout=0.5, **kw), 1, 20, None),
])
def test_whole_sequence_loop_runs_only_where_it_applies(layer, B, H, lengths, monkeypatch):
    calls = _count_sequence_calls(monkeypatch)
    model = layer(input_size=3, hidden_size=H, dtype=np.float64, seed=0)
    out, _ = model.forward(np.ones((3, B, 3)), lengths=lengths)
    model.backward(np.ones_like(out))
    assert not any(calls.values()), calls


# --- the optimisers' one-pass updates -------------------------------------------------------------

OPTIMISER_CASES = [
    ("adam", {}), ("adam", {"weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.95)}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.3, "eps": 1e-6, "amsgrad": True}),
    ("adagrad", {}), ("adagrad", {"lr_decay": 0.01, "weight_decay": 0.02, "initial_accumulator_value": 0.1}),
    ("adagrad", {"eps": 1e-8, "eps_inside_sqrt": True}),  # min-char-rnn's update
]


def _optimiser_run(name, kwargs, dtype, steps=5):
    """Parameters after ``steps`` updates, and the optimiser's state, from fixed gradients (one of
    them 0 in places, one huge: the division and the square root see their edge values)."""
    from rnnlab.optim import make_optimizer

    rng = np.random.default_rng(7)
    params = {"w": rng.standard_normal((33, 17)).astype(dtype), "b": rng.standard_normal(33).astype(dtype)}
    opt = make_optimizer(name, params, lr=0.05, **kwargs)
    for t in range(steps):
        grads = {k: (rng.standard_normal(p.shape) * 10.0 ** (t - 2)).astype(dtype) for k, p in params.items()}
        grads["b"][:5] = 0.0
        opt.step(grads)
    return params, opt.state_dict()["state"]


def _count_update_calls(monkeypatch):
    return _count_calls(monkeypatch, ("adam_update", "adagrad_update"))


@pytest.mark.parametrize("name, kwargs", OPTIMISER_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_pass_updates_match_numpy_bit_for_bit(name, kwargs, dtype, monkeypatch):
    calls = _count_update_calls(monkeypatch)
    fused, fused_state = _optimiser_run(name, kwargs, dtype)
    assert calls[f"{'adagrad' if name == 'adagrad' else 'adam'}_update"] == 5 * 2  # 5 steps, 2 parameters
    with kernels.disabled():
        plain, plain_state = _optimiser_run(name, kwargs, dtype)
    for key in plain:
        assert fused[key].dtype == dtype
        np.testing.assert_array_equal(fused[key], plain[key], err_msg=key)
    for state_name, table in plain_state.items():
        for key, array in table.items():
            np.testing.assert_array_equal(fused_state[state_name][key], array, err_msg=f"{state_name} {key}")


def test_one_pass_update_takes_numpy_path_for_strided_or_mixed_arrays(monkeypatch):
    from rnnlab.optim import Adam

    calls = _count_update_calls(monkeypatch)
    base = np.ones((4, 6))
    params = {"strided": base[:, ::2], "f32": np.ones(3, np.float32)}  # a view; float32 with float64 grads
    Adam(params, lr=0.1).step({"strided": np.ones((4, 3)), "f32": np.ones(3)})
    assert calls["adam_update"] == 1  # only the float32 one (its gradient is cast to float32 first)
    assert np.allclose(base[:, ::2], 0.9) and np.all(base[:, 1::2] == 1.0)  # updated in place, view kept


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), vocab=st.integers(1, 9), seed=st.integers(0, 10**6))
def test_embedding_backward_matches_numpy(dtype, n, vocab, seed):
    """Repeated ids sum row after row in order (bit for bit a loop of row additions), and agree
    with NumPy's sort and reduceat to rounding."""
    from rnnlab.models import Embedding

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(n, 2)).astype(rng.choice([np.int64, np.int32, np.uint8]))
    d_e = (rng.standard_normal((n, 2, 5)) * 10.0 ** rng.integers(-3, 4, size=(n, 2, 1))).astype(dtype)
    in_order = np.zeros((vocab, 5), dtype)
    for row, d in zip(ids.reshape(-1), d_e.reshape(-1, 5)):
        in_order[row] += d
    grads = []
    for context in (contextlib.nullcontext(), kernels.disabled()):
        layer = Embedding(vocab, 5, dtype=dtype, seed=0)
        with context:
            layer.forward(ids)
            layer.backward(d_e)
        grads.append(layer.grads["weight"])
    np.testing.assert_array_equal(grads[0], in_order)
    assert grads[0].dtype == dtype
    scale = float(np.abs(d_e).sum())
    np.testing.assert_allclose(grads[1], in_order, rtol=0, atol=4 * np.finfo(dtype).eps * scale)
