"""The layers' interface without PyTorch: shapes, batch_first, unbatched input, lengths,
state dicts, initialisation, dropout, and the errors that nonsense input raises (each one an
rnnlab error that says what was expected and what was got)."""

import re

import numpy as np
import pytest

import rnnlab
from rnnlab.errors import ConfigError, RnnlabError, ShapeError, ValueRangeError

LAYERS = {"rnn": rnnlab.RNN, "lstm": rnnlab.LSTM, "gru": rnnlab.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _finals(final):
    return final if isinstance(final, tuple) else (final,)


# --- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(LAYERS))
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, False), (1, True), (3, True)])
def test_output_and_state_shapes_are_pytorchs(mode, num_layers, bidirectional):
    T, B, D, H = 5, 3, 2, 4
    dirs = 2 if bidirectional else 1
    layer = LAYERS[mode](D, H, num_layers=num_layers, bidirectional=bidirectional, seed=0)
    out, final = layer.forward(np.ones((T, B, D)))
    assert out.shape == (T, B, dirs * H) and out.dtype == np.float32
    for f in _finals(final):
        assert f.shape == (num_layers * dirs, B, H) and f.dtype == np.float32
    assert isinstance(final, tuple) == (mode == "lstm")
    d_x = layer.backward(np.ones_like(out))
    assert d_x.shape == (T, B, D)
    assert set(layer.grads) == set(layer.state_dict())
    for name, g in layer.grads.items():
        assert g.shape == layer.params[name].shape and g.dtype == np.float32
    for d in _finals(layer.d_hx):
        assert d.shape == (num_layers * dirs, B, H)


@pytest.mark.parametrize("mode", list(LAYERS))
def test_batch_first_is_the_same_computation_transposed(mode):
    rng = np.random.default_rng(0)
    x, hx = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 5))  # hx is (L·dirs, B, H) either way
    hx = (hx, hx * 0.5) if mode == "lstm" else hx
    time_major = LAYERS[mode](2, 5, num_layers=2, bidirectional=True, dtype=np.float64, seed=1)
    batch_major = LAYERS[mode](2, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64, seed=1)
    out_t, fin_t = time_major.forward(x, hx)
    out_b, fin_b = batch_major.forward(x.swapaxes(0, 1), hx)
    assert out_b.shape == (3, 4, 10)
    np.testing.assert_array_equal(out_b, out_t.swapaxes(0, 1))
    for a, b in zip(_finals(fin_t), _finals(fin_b)):
        np.testing.assert_array_equal(a, b)
    g = rng.normal(size=out_t.shape)
    np.testing.assert_array_equal(batch_major.backward(g.swapaxes(0, 1)), time_major.backward(g).swapaxes(0, 1))
    for k in time_major.grads:
        np.testing.assert_array_equal(batch_major.grads[k], time_major.grads[k])


@pytest.mark.parametrize("mode", list(LAYERS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_is_a_batch_of_one(mode, batch_first):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    h0 = rng.normal(size=(4, 2))
    hx = (h0, -h0) if mode == "lstm" else h0
    layer = LAYERS[mode](3, 2, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=np.float64, seed=3)
    out, final = layer.forward(x, hx)
    assert out.shape == (6, 4) and all(f.shape == (4, 2) for f in _finals(final))
    d_x = layer.backward(np.ones_like(out), *[np.ones_like(f) for f in _finals(final)])
    grads, d_hx = {k: v.copy() for k, v in layer.grads.items()}, layer.d_hx
    assert d_x.shape == (6, 3) and all(d.shape == (4, 2) for d in _finals(d_hx))

    batched_x = x[None] if batch_first else x[:, None]
    batched_hx = tuple(h[:, None] for h in hx) if mode == "lstm" else hx[:, None]
    out1, final1 = layer.forward(batched_x, batched_hx)
    np.testing.assert_array_equal(out, out1[0] if batch_first else out1[:, 0])
    for a, b in zip(_finals(final), _finals(final1)):
        np.testing.assert_array_equal(a, b[:, 0])
    d_x1 = layer.backward(np.ones_like(out1), *[np.ones_like(f) for f in _finals(final1)])
    np.testing.assert_array_equal(d_x, d_x1[0] if batch_first else d_x1[:, 0])
    for k in grads:
        np.testing.assert_array_equal(grads[k], layer.grads[k])
    for a, b in zip(_finals(d_hx), _finals(layer.d_hx)):
        np.testing.assert_array_equal(a, b[:, 0])


@pytest.mark.parametrize("mode", list(LAYERS))
def test_lengths_equal_running_each_sequence_alone(mode):
    """A padded batch with lengths gives, per sequence, what that sequence alone (cut to its
    length) gives: the reverse direction starts at the sequence's own last element, the output
    is zero past the length, h_n is the state at the length."""
    rng = np.random.default_rng(4)
    T, lengths = 6, np.array([6, 2, 4, 1])
    x = rng.normal(size=(T, 4, 3))
    x[np.arange(T)[:, None] >= lengths[None, :]] = 1e3  # padding holds garbage: it must not matter
    layer = LAYERS[mode](3, 2, num_layers=2, bidirectional=True, dtype=np.float64, seed=5)
    out, final = layer.forward(x, lengths=lengths)
    for b, n in enumerate(lengths):
        alone_out, alone_final = layer.forward(x[:n, b : b + 1])
        np.testing.assert_allclose(out[:n, b], alone_out[:, 0], rtol=1e-13, atol=1e-15)
        assert np.all(out[n:, b] == 0.0)
        for f, a in zip(_finals(final), _finals(alone_final)):
            np.testing.assert_allclose(f[:, b], a[:, 0], rtol=1e-13, atol=1e-15)


def test_lengths_all_equal_to_T_change_nothing(monkeypatch):
    """Bit for bit through the same per-step code; and to float64 rounding when the unmasked run
    takes the LSTM's whole-sequence loop (rnnlab.kernels, used at this small size)."""
    from rnnlab.cells import lstm as lstm_cell

    rng = np.random.default_rng(6)
    layer = rnnlab.LSTM(3, 4, bidirectional=True, dtype=np.float64, seed=7)
    x = rng.normal(size=(5, 2, 3))
    out_l, (h_l, c_l) = layer.forward(x, lengths=[5, 5])
    out_loop, (h_loop, c_loop) = layer.forward(x)
    with monkeypatch.context() as m:
        m.setattr(lstm_cell, "COMPILED_MAX_WORK", -1)  # the per-step path, as the masked run
        out, (h, c) = layer.forward(x)
    np.testing.assert_array_equal(out, out_l)
    np.testing.assert_array_equal(h, h_l)
    np.testing.assert_array_equal(c, c_l)
    for a, b in ((out_loop, out_l), (h_loop, h_l), (c_loop, c_l)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


# --- state dicts ------------------------------------------------------------------------------


def test_state_dict_names_order_and_shapes_are_pytorchs():
    lstm = rnnlab.LSTM(3, 5, num_layers=2, bidirectional=True, seed=0)
    expected = []
    for layer, in_size in ((0, 3), (1, 10)):
        for suffix in (f"_l{layer}", f"_l{layer}_reverse"):
            expected += [(f"weight_ih{suffix}", (20, in_size)), (f"weight_hh{suffix}", (20, 5)),
                         (f"bias_ih{suffix}", (20,)), (f"bias_hh{suffix}", (20,))]
    assert [(k, v.shape) for k, v in lstm.state_dict().items()] == expected
    gru = rnnlab.GRU(3, 5, num_layers=2, bias=False, seed=0)
    assert [(k, v.shape) for k, v in gru.state_dict().items()] == [
        ("weight_ih_l0", (15, 3)), ("weight_hh_l0", (15, 5)), ("weight_ih_l1", (15, 5)), ("weight_hh_l1", (15, 5))]


def test_state_dict_is_a_copy_and_load_state_dict_copies():
    layer = rnnlab.RNN(2, 3, seed=0)
    sd = layer.state_dict()
    sd["weight_hh_l0"][...] = 7.0
    assert not np.any(layer.params["weight_hh_l0"] == 7.0)
    layer.load_state_dict(sd)
    np.testing.assert_array_equal(layer.params["weight_hh_l0"], 7.0)
    sd["weight_hh_l0"][...] = 8.0  # the caller's arrays stay theirs
    np.testing.assert_array_equal(layer.params["weight_hh_l0"], 7.0)


def test_load_state_dict_converts_to_the_layers_dtype():
    src = rnnlab.GRU(2, 3, dtype=np.float64, seed=1)
    dst = rnnlab.GRU(2, 3, seed=2)
    dst.load_state_dict(src.state_dict())
    for k, v in dst.params.items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, src.params[k].astype(np.float32))


def _corrupt(kind, sd):
    """Every value set to 0.25 (it would show if anything were loaded), then one thing broken."""
    sd = {k: np.full_like(v, 0.25) for k, v in sd.items()}
    if kind == "missing":
        del sd["bias_hh_l1_reverse"]
    elif kind == "unexpected":
        sd["weight_ih_l2"] = np.zeros((16, 8))
    elif kind == "wrong_shape":
        sd["weight_hh_l1_reverse"] = np.zeros((16, 5))
    elif kind == "non_finite":
        sd["bias_ih_l1_reverse"][3] = np.nan
    return sd


@pytest.mark.parametrize("kind, error, pattern", [
    ("missing", ShapeError, r"missing keys \['bias_hh_l1_reverse'\]"),
    ("unexpected", ShapeError, r"unexpected keys \['weight_ih_l2'\]"),
    ("wrong_shape", ShapeError, r"weight_hh_l1_reverse: expected shape \(16, 4\), got \(16, 5\)"),
    ("non_finite", ValueRangeError, r"bias_ih_l1_reverse: expected finite values, got 1 NaN"),
])
def test_a_failed_load_names_the_key_and_changes_nothing(kind, error, pattern):
    layer = rnnlab.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0)
    before = layer.state_dict()
    bad = _corrupt(kind, before)
    with pytest.raises(error, match=pattern):
        layer.load_state_dict(bad)
    for k, v in layer.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_non_strict_load_takes_what_is_there():
    layer = rnnlab.RNN(2, 3, seed=0)
    before = layer.state_dict()
    layer.load_state_dict({"bias_ih_l0": np.ones(3), "something_else": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(layer.params["bias_ih_l0"], 1.0)
    np.testing.assert_array_equal(layer.params["weight_hh_l0"], before["weight_hh_l0"])


def test_zero_grad_train_eval_and_repr():
    layer = rnnlab.GRU(2, 3, num_layers=2, dropout=0.2, reset="before", seed=0)
    layer.forward(np.ones((3, 1, 2)))
    layer.backward(np.ones((3, 1, 3)))
    assert any(np.any(g) for g in layer.grads.values())
    layer.zero_grad()
    assert not any(np.any(g) for g in layer.grads.values())
    assert layer.training and layer.eval() is layer and not layer.training
    assert layer.train() is layer and layer.training
    text = repr(layer)
    assert text.startswith("GRU(2, 3, num_layers=2") and "reset='before'" in text and "dropout=0.2" in text


# --- initialisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(LAYERS))
@pytest.mark.parametrize("H", [1, 7, 64])
def test_init_is_uniform_within_sqrt_k(mode, H):
    layer = LAYERS[mode](5, H, num_layers=2, bidirectional=True, seed=0)
    bound = np.sqrt(1.0 / H)
    values = np.concatenate([p.ravel() for p in layer.params.values()]).astype(np.float64)
    assert np.all(np.abs(values) <= bound * (1 + 1e-7))
    if H == 64:  # enough draws to see the whole interval and a flat density
        assert values.max() > 0.99 * bound and values.min() < -0.99 * bound
        assert abs(values.mean()) < 0.01 * bound
        assert values.var() == pytest.approx(bound**2 / 3, rel=0.02)
        counts, _ = np.histogram(values, bins=10, range=(-bound, bound))
        assert counts.min() > 0.9 * counts.mean()


def test_init_is_reproducible_from_a_seed_or_an_explicit_rng():
    def params(**kw):
        return rnnlab.LSTM(3, 4, num_layers=2, **kw).state_dict()

    a, b, c = params(seed=11), params(seed=11), params(seed=12)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not any(np.array_equal(a[k], c[k]) for k in a)
    from_rng = params(rng=np.random.default_rng(11))
    assert all(np.array_equal(a[k], from_rng[k]) for k in a)
    rng = np.random.default_rng(11)
    first, second = rnnlab.GRU(3, 4, rng=rng), rnnlab.GRU(3, 4, rng=rng)  # one stream, two draws
    assert first.rng is rng and second.rng is rng
    assert not np.array_equal(first.params["weight_ih_l0"], second.params["weight_ih_l0"])


def test_nothing_touches_the_global_numpy_rng():
    np.random.seed(123)
    state = np.random.get_state()
    layer = rnnlab.LSTM(3, 4, num_layers=2, dropout=0.5)  # no seed: fresh entropy, not np.random
    out, _ = layer.forward(np.ones((4, 2, 3)))
    layer.backward(np.ones_like(out))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_float64_layers():
    layer = rnnlab.RNN(2, 3, dtype=np.float64, seed=0)
    assert all(p.dtype == np.float64 for p in layer.params.values())
    out, h = layer.forward(np.ones((2, 1, 2), dtype=np.float32))
    assert out.dtype == np.float64 and h.dtype == np.float64


# --- dropout ----------------------------------------------------------------------------------


def test_dropout_is_inverted_dropout_between_layers_from_the_layers_rng():
    """Layer 2 is made the identity on positive inputs (ReLU, W_ih = I, W_hh = 0, no bias), so the
    output shows layer 1's output after dropout: each unit either 0 or scaled by 1/(1 − p)."""
    p, T, B, H = 0.3, 20, 10, 8
    layer = rnnlab.RNN(3, H, num_layers=2, nonlinearity="relu", bias=False, dropout=p, dtype=np.float64, seed=0)
    layer.params["weight_ih_l0"][...] = np.abs(layer.params["weight_ih_l0"]) + 0.1  # layer 1 outputs > 0
    layer.params["weight_hh_l0"][...] = np.abs(layer.params["weight_hh_l0"])
    layer.params["weight_ih_l1"][...] = np.eye(H)
    layer.params["weight_hh_l1"][...] = 0.0
    x = np.abs(np.random.default_rng(1).normal(size=(T, B, 3))) + 0.1
    clean, _ = layer.eval().forward(x)
    assert np.all(clean > 0)
    layer.train()
    layer.rng = np.random.default_rng(2)
    dropped, _ = layer.forward(x)
    ratio = dropped / clean
    kept = ratio > 0
    np.testing.assert_allclose(ratio[kept], 1.0 / (1.0 - p), rtol=1e-12)
    np.testing.assert_array_equal(ratio[~kept], 0.0)
    assert abs((~kept).mean() - p) < 0.05  # 1600 draws: the dropped fraction is p ± 3σ
    layer.rng = np.random.default_rng(2)
    np.testing.assert_array_equal(layer.forward(x)[0], dropped)  # the masks come from layer.rng
    assert not np.array_equal(layer.forward(x)[0], dropped)  # and the stream moves on


@pytest.mark.parametrize("mode", list(LAYERS))
def test_dropout_never_touches_the_last_layer_or_eval_mode(mode):
    x = np.random.default_rng(3).normal(size=(4, 2, 3))
    one = LAYERS[mode](3, 4, dropout=0.5, dtype=np.float64, seed=0)  # a single layer: nothing between layers
    np.testing.assert_array_equal(one.forward(x)[0], one.eval().forward(x)[0])
    two = LAYERS[mode](3, 4, num_layers=2, dropout=0.5, dtype=np.float64, seed=0).eval()
    np.testing.assert_array_equal(two.forward(x)[0], two.forward(x)[0])
    plain = LAYERS[mode](3, 4, num_layers=2, dtype=np.float64, seed=0)
    np.testing.assert_array_equal(two.forward(x)[0], plain.forward(x)[0])


# --- errors: nonsense input raises an rnnlab error naming what was expected and what was got ----


def _message_check(exc_info, *fragments):
    text = str(exc_info.value)
    assert isinstance(exc_info.value, RnnlabError)
    assert "expected" in text and "got" in text, text
    for f in fragments:
        assert re.search(f, text), f"{f!r} not in {text!r}"


LSTM_2 = dict(input_size=3, hidden_size=4, num_layers=2)


@pytest.mark.parametrize("label, call, error, fragments", [
    ("wrong feature size", lambda l: l.forward(np.zeros((5, 2, 4))), ShapeError,
     [r"input_size.* 3", r"got 4", r"\(5, 2, 4\)"]),
    ("wrong number of dimensions", lambda l: l.forward(np.zeros((5, 2, 3, 1))), ShapeError, [r"\(5, 2, 3, 1\)"]),
    ("no time steps", lambda l: l.forward(np.zeros((0, 2, 3))), ShapeError, [r"at least one time step", r"\(0, 2, 3\)"]),
    ("text input", lambda l: l.forward(np.full((2, 1, 3), "a")), ShapeError, [r"numeric", r"<U1"]),
    ("hx not a tuple", lambda l: l.forward(np.zeros((5, 2, 3)), np.zeros((2, 2, 4))), ShapeError,
     [r"tuple \(h_0, c_0\)", r"got ndarray"]),
    ("hx a 1-tuple", lambda l: l.forward(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)),)), ShapeError,
     [r"tuple \(h_0, c_0\)", r"length 1"]),
    ("wrong h_0 shape", lambda l: l.forward(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4)))),
     ShapeError, [r"h_0", r"\(2, 2, 4\)", r"got \(1, 2, 4\)"]),
    ("wrong c_0 batch", lambda l: l.forward(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)), np.zeros((2, 3, 4)))),
     ShapeError, [r"c_0", r"\(2, 2, 4\)", r"got \(2, 3, 4\)"]),
    ("NaN in x", lambda l: l.forward(np.where(np.arange(30).reshape(5, 2, 3) == 7, np.nan, 0.0)), ValueRangeError,
     [r"input", r"finite", r"got 1 NaN"]),
    ("inf in x", lambda l: l.forward(np.full((5, 2, 3), -np.inf)), ValueRangeError, [r"input", r"got 30 NaN or inf"]),
    ("inf in c_0", lambda l: l.forward(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)), np.full((2, 2, 4), np.inf))),
     ValueRangeError, [r"c_0", r"finite"]),
    ("length longer than T", lambda l: l.forward(np.zeros((5, 2, 3)), lengths=[6, 2]), ValueRangeError,
     [r"1\.\.5", r"max 6"]),
    ("length zero", lambda l: l.forward(np.zeros((5, 2, 3)), lengths=[0, 2]), ValueRangeError, [r"1\.\.5", r"min 0"]),
    ("too many lengths", lambda l: l.forward(np.zeros((5, 2, 3)), lengths=[1, 2, 3]), ShapeError,
     [r"expected 2 integers", r"\(3,\)"]),
    ("too few lengths", lambda l: l.forward(np.zeros((5, 2, 3)), lengths=[1]), ShapeError, [r"expected 2", r"\(1,\)"]),
    ("float lengths", lambda l: l.forward(np.zeros((5, 2, 3)), lengths=[1.0, 2.0]), ShapeError, [r"integers", r"float64"]),
])
def test_nonsense_input_to_an_lstm_raises_a_clear_error(label, call, error, fragments):
    layer = rnnlab.LSTM(**LSTM_2, seed=0)
    with pytest.raises(error) as info:
        call(layer)
    _message_check(info, "LSTM", *fragments)


@pytest.mark.parametrize("mode", ["rnn", "gru"])
def test_nonsense_hx_for_single_state_cells(mode):
    layer = LAYERS[mode](3, 4, bidirectional=True, seed=0)
    x = np.zeros((5, 2, 3))
    with pytest.raises(ShapeError) as info:
        layer.forward(x, np.zeros((1, 2, 4)))
    _message_check(info, r"h_0", r"\(2, 2, 4\)", r"got \(1, 2, 4\)")
    with pytest.raises(ShapeError) as info:  # a (h, c) tuple given to a cell without c
        layer.forward(x, (np.zeros((2, 2, 4)), np.zeros((2, 2, 4))))
    _message_check(info, r"h_0", r"\(2, 2, 4\)")
    with pytest.raises(ShapeError) as info:  # unbatched input wants an unbatched state
        layer.forward(np.zeros((5, 3)), np.zeros((2, 1, 4)))
    _message_check(info, r"\(2, 4\)", r"got \(2, 1, 4\)")
    with pytest.raises(ValueRangeError) as info:
        layer.forward(x, np.full((2, 2, 4), np.nan))
    _message_check(info, r"h_0", r"got 16 NaN")


def test_backward_before_forward_is_refused():
    with pytest.raises(ConfigError, match="call forward first"):
        rnnlab.LSTM(3, 4, seed=0).backward(np.zeros((5, 2, 4)))


def test_backward_rejects_gradients_of_the_wrong_shape():
    layer = rnnlab.LSTM(3, 4, num_layers=2, batch_first=True, seed=0)
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ShapeError) as info:
        layer.backward(np.zeros((5, 2, 4)))  # time-major given to a batch_first layer
    _message_check(info, r"d_output", r"\(2, 5, 4\)", r"got \(5, 2, 4\)")
    with pytest.raises(ShapeError) as info:
        layer.backward(None, np.zeros((2, 2, 4)), np.zeros((1, 2, 4)))
    _message_check(info, r"d_c_n", r"\(2, 2, 4\)", r"got \(1, 2, 4\)")


@pytest.mark.parametrize("make, fragments", [
    (lambda: rnnlab.RNN(3, 0), [r"hidden_size", r"positive integer", r"got 0"]),
    (lambda: rnnlab.LSTM(0, 4), [r"input_size", r"got 0"]),
    (lambda: rnnlab.GRU(3, 4, num_layers=0), [r"num_layers", r"got 0"]),
    (lambda: rnnlab.GRU(3, 4.0), [r"hidden_size", r"got 4\.0"]),
    (lambda: rnnlab.GRU(3, True), [r"hidden_size", r"got True"]),
    (lambda: rnnlab.LSTM(3, 4, dropout=1.5), [r"dropout", r"\[0, 1\)", r"got 1\.5"]),
    (lambda: rnnlab.LSTM(3, 4, dropout=-0.1), [r"dropout", r"got -0\.1"]),
    (lambda: rnnlab.LSTM(3, 4, dropout=1.0), [r"dropout", r"got 1\.0"]),
    (lambda: rnnlab.LSTM(3, 4, dropout="0.5"), [r"dropout", r"got '0\.5'"]),
    (lambda: rnnlab.LSTM(3, 4, dropout=float("nan")), [r"dropout", r"got nan"]),
    (lambda: rnnlab.RNN(3, 4, nonlinearity="sigmoid"), [r"nonlinearity", r"'tanh' or 'relu'", r"got 'sigmoid'"]),
    (lambda: rnnlab.GRU(3, 4, reset="middle"), [r"reset", r"'after'", r"'before'", r"got 'middle'"]),
    (lambda: rnnlab.make_cell("elman"), [r"'gru', 'lnlstm', 'lstm', 'rnn'", r"got 'elman'"]),
    (lambda: rnnlab.make_cell("lstm", reset="after"), [r"lstm", r"got \['reset'\]"]),
    (lambda: rnnlab.make_cell("rnn", foo=1), [r"rnn", r"\[.nonlinearity.\]", r"got \[.foo.\]"]),
])
def test_bad_constructor_arguments_raise_config_errors(make, fragments):
    with pytest.raises(ConfigError) as info:
        make()
    _message_check(info, *fragments)


def test_rng_and_seed_together_are_refused():
    with pytest.raises(ConfigError, match="rng or seed"):
        rnnlab.RNN(2, 3, rng=np.random.default_rng(0), seed=0)


def test_errors_are_value_errors_too():
    """Callers that catch ValueError (as with PyTorch) keep working."""
    for cls in (rnnlab.ShapeError, rnnlab.ValueRangeError, rnnlab.ConfigError, rnnlab.DataError, rnnlab.CheckpointError):
        assert issubclass(cls, rnnlab.RnnlabError) and issubclass(cls, ValueError)


# --- no aliasing: what the caller gives or gets is never changed behind their back ------------


@pytest.mark.parametrize("mode, opts", [("rnn", {}), ("rnn", {"nonlinearity": "relu"}), ("lstm", {}),
                                        ("gru", {"reset": "after"}), ("gru", {"reset": "before"})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_are_not_modified_and_results_survive_the_next_call(mode, opts, dtype):
    rng = np.random.default_rng(9)
    layer = LAYERS[mode](3, 4, num_layers=2, bidirectional=True, dropout=0.3, dtype=dtype, seed=0, **opts)
    x1, x2 = rng.normal(size=(5, 2, 3)).astype(dtype), rng.normal(size=(5, 2, 3)).astype(dtype)
    hx = tuple(rng.normal(size=(4, 2, 4)).astype(dtype) for _ in layer.cell.state_names)
    hx = hx if len(hx) == 2 else hx[0]
    given = [x1.copy(), x2.copy()] + [h.copy() for h in _finals(hx)]
    g_out = rng.normal(size=(5, 2, 8)).astype(dtype)
    g_fin = [rng.normal(size=(4, 2, 4)).astype(dtype) for _ in layer.cell.state_names]
    upstream = [g_out.copy()] + [g.copy() for g in g_fin]

    layer.rng = np.random.default_rng(1)
    out1, fin1 = layer.forward(x1, hx, lengths=[5, 3])
    kept = [out1.copy()] + [f.copy() for f in _finals(fin1)]
    d_x1 = layer.backward(g_out, *g_fin)
    grads1 = {k: v.copy() for k, v in layer.grads.items()}
    kept_d = [d_x1.copy()] + [d.copy() for d in _finals(layer.d_hx)]
    d_x1_again = layer.backward(g_out, *g_fin)  # a second backward through the same forward
    np.testing.assert_array_equal(d_x1_again, kept_d[0])
    for k in grads1:
        np.testing.assert_array_equal(layer.grads[k], grads1[k])

    out2, fin2 = layer.forward(x2, hx)
    layer.backward(np.ones_like(out2))
    for a, b in zip([out1] + list(_finals(fin1)), kept):
        np.testing.assert_array_equal(a, b)  # results of the first call untouched by the second
    for a, b in zip([d_x1], kept_d[:1]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip([x1, x2] + list(_finals(hx)), given):
        np.testing.assert_array_equal(a, b)  # inputs untouched
    for a, b in zip([g_out] + g_fin, upstream):
        np.testing.assert_array_equal(a, b)  # upstream gradients untouched
    assert not np.shares_memory(out1, out2)
