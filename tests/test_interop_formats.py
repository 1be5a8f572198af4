"""Keras and char-rnn weight layouts (rnnlab.interop.keras, rnnlab.interop.charrnn), no Keras
or Lua needed: the arrays are built here from per-gate blocks we choose, the reference forward
is an independent transcription of each framework's equations, and rnnlab must agree."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab import cells
from rnnlab.errors import ConfigError, RnnlabError, ShapeError
from rnnlab.interop import (from_charrnn, from_keras, params_from_keras, state_dict_from_charrnn,
                            state_dict_to_charrnn, to_charrnn, to_keras)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# --- independent transcriptions of Keras's cells (keras/src/layers/rnn/{lstm,gru,simple_rnn}.py) --


def keras_lstm(x, kernel, recurrent_kernel, bias):
    """x (B, T, D) -> outputs (B, T, H), h, c. Columns of kernel: i, f, c, o."""
    H = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], H))
    c = np.zeros_like(h)
    outs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + (0 if bias is None else bias)
        z0, z1, z2, z3 = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        i, f, o = sigmoid(z0), sigmoid(z1), sigmoid(z3)
        c = f * c + i * np.tanh(z2)
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def keras_gru(x, kernel, recurrent_kernel, bias, reset_after):
    """x (B, T, D) -> outputs (B, T, H), h. Columns: z, r, h; h = z h_prev + (1 − z) hh."""
    H = recurrent_kernel.shape[0]
    if bias is None:
        input_bias, recurrent_bias = 0.0, 0.0
    elif reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        input_bias, recurrent_bias = bias, 0.0
    h = np.zeros((x.shape[0], H))
    outs = []
    for t in range(x.shape[1]):
        matrix_x = x[:, t] @ kernel + input_bias
        x_z, x_r, x_h = matrix_x[:, :H], matrix_x[:, H:2 * H], matrix_x[:, 2 * H:]
        if reset_after:
            matrix_inner = h @ recurrent_kernel + recurrent_bias
        else:
            matrix_inner = h @ recurrent_kernel[:, :2 * H]
        recurrent_z, recurrent_r = matrix_inner[:, :H], matrix_inner[:, H:2 * H]
        z = sigmoid(x_z + recurrent_z)
        r = sigmoid(x_r + recurrent_r)
        if reset_after:
            recurrent_h = r * matrix_inner[:, 2 * H:]
        else:
            recurrent_h = (r * h) @ recurrent_kernel[:, 2 * H:]
        hh = np.tanh(x_h + recurrent_h)
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1), h


def keras_simple_rnn(x, kernel, recurrent_kernel, bias):
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    outs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + (0 if bias is None else bias) + h @ recurrent_kernel)
        outs.append(h)
    return np.stack(outs, axis=1), h


def keras_stack(cell, x, groups, bidirectional):
    """A stack of Keras layers (return_sequences=True), each optionally Bidirectional
    (merge_mode="concat": the backward layer reads the reversed input; its outputs are reversed
    back). Returns the top outputs and the final h of every layer/direction, in order."""
    finals = []
    dirs = 2 if bidirectional else 1
    for layer in range(len(groups) // dirs):
        fwd, *_ = out_f = cell(x, *groups[layer * dirs])
        finals.append(out_f[1])
        if bidirectional:
            out_b = cell(x[:, ::-1], *groups[layer * dirs + 1])
            finals.append(out_b[1])
            x = np.concatenate([fwd, out_b[0][:, ::-1]], axis=-1)
        else:
            x = fwd
    return x, finals


def gate_blocks(rng, rows, H, names):
    """Distinct per-gate blocks (rows, H): block g is offset by its index so that a gate put
    in the wrong place changes the numbers."""
    return {g: rng.normal(0, 0.5, size=(rows, H)) + 0.1 * k for k, g in enumerate(names)}


def keras_arrays(rng, mode, D, H, bias=True, reset_after=True):
    names = {"lstm": "ifco", "gru": "zrh", "rnn": "h"}[mode]
    kb, rb = gate_blocks(rng, D, H, names), gate_blocks(rng, H, H, names)
    kernel = np.concatenate([kb[g] for g in names], axis=1)
    recurrent = np.concatenate([rb[g] for g in names], axis=1)
    out = [kernel, recurrent]
    if bias:
        b = rng.normal(size=(2, len(names) * H) if (mode == "gru" and reset_after) else (len(names) * H,))
        out.append(b)
    return out, kb, rb


# --- Keras ---------------------------------------------------------------------------------------


def test_keras_lstm_gate_blocks_land_in_pytorch_rows():
    rng = np.random.default_rng(0)
    D, H = 3, 4
    (kernel, recurrent, bias), kb, rb = keras_arrays(rng, "lstm", D, H)
    params, reset = params_from_keras("lstm", kernel, recurrent, bias)
    assert reset is None
    for k, g in enumerate("ifco"):  # Keras's c is PyTorch's g: same position, no reordering
        np.testing.assert_array_equal(params["weight_ih_l0"][k * H:(k + 1) * H], kb[g].T)
        np.testing.assert_array_equal(params["weight_hh_l0"][k * H:(k + 1) * H], rb[g].T)
    np.testing.assert_array_equal(params["bias_ih_l0"], bias)
    np.testing.assert_array_equal(params["bias_hh_l0"], np.zeros(4 * H))


def test_keras_gru_gate_blocks_land_in_pytorch_rows():
    rng = np.random.default_rng(1)
    D, H = 3, 2
    (kernel, recurrent, bias), kb, rb = keras_arrays(rng, "gru", D, H, reset_after=True)
    params, reset = params_from_keras("gru", kernel, recurrent, bias)
    assert reset == "after"
    for k, g in enumerate("rzh"):  # rnnlab order r, z, n; Keras's h is n
        np.testing.assert_array_equal(params["weight_ih_l0"][k * H:(k + 1) * H], kb[g].T)
        np.testing.assert_array_equal(params["weight_hh_l0"][k * H:(k + 1) * H], rb[g].T)
    keras_pos = {"z": 0, "r": 1, "h": 2}
    for k, g in enumerate("rzh"):
        np.testing.assert_array_equal(params["bias_ih_l0"][k * H:(k + 1) * H], bias[0, keras_pos[g] * H:(keras_pos[g] + 1) * H])
        np.testing.assert_array_equal(params["bias_hh_l0"][k * H:(k + 1) * H], bias[1, keras_pos[g] * H:(keras_pos[g] + 1) * H])


CASES = [("lstm", True, None), ("lstm", False, None), ("gru", True, True), ("gru", True, False),
         ("gru", False, True), ("gru", False, False), ("rnn", True, None), ("rnn", False, None)]
CELLS = {"lstm": lambda x, k, r, b=None: keras_lstm(x, k, r, b)[:2],
         "rnn": lambda x, k, r, b=None: keras_simple_rnn(x, k, r, b)}


@pytest.mark.parametrize("mode,bias,reset_after", CASES)
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), num_layers=st.integers(1, 2), bidirectional=st.booleans(),
       D=st.integers(1, 4), H=st.integers(1, 4), B=st.integers(1, 3), T=st.integers(1, 5))
def test_keras_stack_forward_equals_keras_equations(mode, bias, reset_after, seed, num_layers, bidirectional, D, H, B, T):
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    weights, groups = [], []
    for k in range(num_layers * dirs):
        in_size = D if k < dirs else H * dirs
        arrays, _, _ = keras_arrays(rng, mode, in_size, H, bias=bias, reset_after=reset_after)
        weights += arrays
        groups.append(tuple(arrays) + ((None,) if not bias else ()))
    x = rng.normal(size=(B, T, D))
    if mode == "gru":
        cell = lambda x, k, r, b: keras_gru(x, k, r, b, reset_after)  # noqa: E731
    else:
        cell = CELLS[mode]
    want_out, want_finals = keras_stack(cell, x, groups, bidirectional)

    layer = from_keras(mode, weights, bias=bias, bidirectional=bidirectional,
                       reset_after=None if bias else reset_after)
    assert layer.dtype == np.float64 and layer.batch_first and layer.num_layers == num_layers
    if mode == "gru":
        assert layer.cell.options["reset"] == ("after" if reset_after else "before")
    out, state = layer.forward(x)
    h_n = state[0] if mode == "lstm" else state
    np.testing.assert_allclose(out, want_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n, np.stack(want_finals), rtol=0, atol=1e-12)

    # Keras -> rnnlab -> Keras: the same arrays, bit for bit
    back = to_keras(layer)
    assert len(back) == len(weights)
    for a, b in zip(back, weights):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


# every registered cell Keras has (its file's KERAS), both GRU resets, the RNN's other nonlinearity
KERAS_CASES = [(name, cells.get(name).default_options()) for name in cells.names(variants=True)
               if cells.get(name).keras]
KERAS_CASES += [("gru", {"reset": "before"}), ("rnn", {"nonlinearity": "relu"})]


@pytest.mark.parametrize("mode,opts", KERAS_CASES)
def test_rnnlab_to_keras_and_back_computes_the_same(mode, opts):
    rng = np.random.default_rng(7)
    layer = rnnlab.layers.make_layer(mode, 3, 4, num_layers=2, bidirectional=True, batch_first=True,
                                     dtype=np.float64, rng=rng, **opts)
    back = from_keras(mode, to_keras(layer), bidirectional=True, nonlinearity=opts.get("nonlinearity", "tanh"))
    x = rng.normal(size=(2, 5, 3))
    out_a, st_a = layer(x)
    out_b, st_b = back(x)
    np.testing.assert_allclose(out_b, out_a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(st_b), np.asarray(st_a), rtol=0, atol=1e-12)
    for name in layer.params:  # the weights move exactly; single-bias formats sum bias_ih + bias_hh
        if name.startswith("weight") or (mode == "gru" and opts["reset"] == "after"):
            np.testing.assert_array_equal(back.params[name], layer.params[name])


@pytest.mark.parametrize("name", [name for name in cells.names(variants=True) if not cells.get(name).keras])
def test_every_cell_keras_lacks_is_refused_clearly(name):
    layer = rnnlab.layers.make_layer(cells.get(name).base, 2, 3, layer_norm=cells.get(name).layer_norm)
    with pytest.raises(ConfigError, match=f"got '{name}': .* has no Keras counterpart"):
        to_keras(layer)


def test_keras_float32_stays_float32():
    rng = np.random.default_rng(2)
    arrays = [a.astype(np.float32) for a in keras_arrays(rng, "lstm", 3, 2)[0]]
    assert from_keras("lstm", arrays).dtype == np.float32
    assert from_keras("lstm", arrays, dtype=np.float64).dtype == np.float64


def test_keras_errors_name_the_array_and_shapes():
    rng = np.random.default_rng(3)
    (kernel, recurrent, bias), _, _ = keras_arrays(rng, "lstm", 3, 4)
    with pytest.raises(ShapeError, match=r"recurrent_kernel: expected shape \(4, 16\).*got \(3, 16\)"):
        params_from_keras("lstm", kernel, recurrent[:3], bias)
    with pytest.raises(ShapeError, match=r"bias: expected shape \(16,\), got \(12,\)"):
        params_from_keras("lstm", kernel, recurrent, bias[:12])
    with pytest.raises(ShapeError, match=r"kernel: expected shape \(input_size, 4·units\).*got \(3, 15\)"):
        params_from_keras("lstm", kernel[:, :15], recurrent, bias)
    with pytest.raises(ShapeError, match=r"kernel: expected 2 dimension"):
        params_from_keras("lstm", kernel[0], recurrent, bias)
    (gk, gr, gb), _, _ = keras_arrays(rng, "gru", 3, 4, reset_after=True)
    with pytest.raises(ShapeError, match=r"bias: expected shape \(12,\) \(reset_after=False\) or \(2, 12\)"):
        params_from_keras("gru", gk, gr, gb[:, :8])
    with pytest.raises(ShapeError, match=r"reset_after=False expects shape \(12,\), got \(2, 12\)"):
        params_from_keras("gru", gk, gr, gb, reset_after=False)
    with pytest.raises(ConfigError, match="reset_after"):
        params_from_keras("gru", gk, gr, None)
    with pytest.raises(ConfigError, match="'rnn'.*'lstm'.*'gru'.*got 'conv'"):
        params_from_keras("conv", gk, gr, gb)
    with pytest.raises(ShapeError, match=r"expected a multiple of 3 arrays.*got 2"):
        from_keras("lstm", [kernel, recurrent])
    with pytest.raises(ShapeError, match=r"layer 1\): expected input size 4 and units 4, got input size 3"):
        from_keras("lstm", [kernel, recurrent, bias, kernel, recurrent, bias])
    bad = np.array(kernel)
    bad[0, 0] = np.nan
    with pytest.raises(RnnlabError, match="weight_ih_l0"):
        from_keras("lstm", [bad, recurrent, bias])


# --- char-rnn ------------------------------------------------------------------------------------


def charrnn_forward(weights, tokens, V):
    """char-rnn's LSTM.lua, transcribed: one-hot input, per layer i2h(x) + h2h(prev_h) cut into
    n1..n4 = in_gate, forget_gate, out_gate, in_transform; decoder + log-softmax on top.
    tokens (B, T) -> log-probabilities (B, T, V)."""
    L = sum(1 for k in weights if k.endswith(".weight") and k.startswith("i2h_"))
    H = weights["h2h_1.weight"].shape[1]
    B, T = tokens.shape
    prev_c = [np.zeros((B, H)) for _ in range(L)]
    prev_h = [np.zeros((B, H)) for _ in range(L)]
    logp = []
    for t in range(T):
        x = np.eye(V)[tokens[:, t]]
        for layer in range(1, L + 1):
            i2h = x @ weights[f"i2h_{layer}.weight"].T + weights[f"i2h_{layer}.bias"]
            h2h = prev_h[layer - 1] @ weights[f"h2h_{layer}.weight"].T + weights[f"h2h_{layer}.bias"]
            n1, n2, n3, n4 = np.split(i2h + h2h, 4, axis=1)
            in_gate, forget_gate, out_gate, in_transform = sigmoid(n1), sigmoid(n2), sigmoid(n3), np.tanh(n4)
            next_c = forget_gate * prev_c[layer - 1] + in_gate * in_transform
            next_h = out_gate * np.tanh(next_c)
            prev_c[layer - 1], prev_h[layer - 1] = next_c, next_h
            x = next_h
        a = x @ weights["decoder.weight"].T + weights["decoder.bias"]
        logp.append(a - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)) - a.max(1, keepdims=True))
    return np.stack(logp, axis=1)


def charrnn_weights(rng, V, H, L):
    w = {}
    for layer in range(1, L + 1):
        D = V if layer == 1 else H
        for part, cols in (("i2h", D), ("h2h", H)):
            blocks = gate_blocks(rng, H, cols, "ifog")  # (H, cols) per gate, in char-rnn's order
            w[f"{part}_{layer}.weight"] = np.concatenate([blocks[g] for g in "ifog"])
            w[f"{part}_{layer}.bias"] = rng.normal(size=4 * H)
    w["decoder.weight"] = rng.normal(size=(V, H))
    w["decoder.bias"] = rng.normal(size=V)
    return w


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), V=st.integers(2, 6), H=st.integers(1, 4), L=st.integers(1, 3),
       B=st.integers(1, 3), T=st.integers(1, 6))
def test_charrnn_lstm_equals_charrnn_equations(seed, V, H, L, B, T):
    rng = np.random.default_rng(seed)
    weights = charrnn_weights(rng, V, H, L)
    tokens = rng.integers(0, V, size=(B, T))
    lstm, decoder = from_charrnn(weights, batch_first=True)
    assert lstm.num_layers == L and lstm.input_size == V and lstm.hidden_size == H
    out, _ = lstm(np.eye(V)[tokens])  # (B, T, H): char-rnn reads one-hot vectors
    logits = out @ decoder["weight"].T + decoder["bias"]
    np.testing.assert_allclose(rnnlab.functional.log_softmax(logits), charrnn_forward(weights, tokens, V),
                               rtol=0, atol=1e-12)
    back = to_charrnn(lstm, decoder)
    assert sorted(back) == sorted(weights)
    for k in weights:
        np.testing.assert_array_equal(back[k], weights[k])


def test_charrnn_gate_order_i_f_o_g():
    rng = np.random.default_rng(4)
    H = 2
    w = charrnn_weights(rng, 3, H, 1)
    sd = state_dict_from_charrnn(w)
    i2h = w["i2h_1.weight"]
    blocks = {g: i2h[k * H:(k + 1) * H] for k, g in enumerate("ifog")}
    np.testing.assert_array_equal(sd["weight_ih_l0"], np.concatenate([blocks[g] for g in "ifgo"]))
    assert sorted(state_dict_to_charrnn(sd)) == sorted(w)


def test_charrnn_errors_name_the_key():
    rng = np.random.default_rng(5)
    w = charrnn_weights(rng, 4, 3, 2)
    bad = dict(w, **{"h2h_2.weight": w["h2h_2.weight"][:, :2]})
    with pytest.raises(ShapeError, match=r"h2h_2.weight: expected shape \(12, 3\), got \(12, 2\)"):
        state_dict_from_charrnn(bad)
    missing = {k: v for k, v in w.items() if k != "i2h_2.bias"}
    with pytest.raises(ShapeError, match="layer 2 has no i2h_2.bias"):
        state_dict_from_charrnn(missing)
    gap = {k.replace("_2.", "_3."): v for k, v in w.items()}
    with pytest.raises(ShapeError, match=r"expected layers 1..L, got layers \[1, 3\]"):
        state_dict_from_charrnn(gap)
    with pytest.raises(ShapeError, match=r"decoder.bias: expected shape \(4,\), got \(3,\)"):
        state_dict_from_charrnn(dict(w, **{"decoder.bias": w["decoder.bias"][:3]}))
    with pytest.raises(ShapeError, match=r"decoder.weight: expected shape \(vocabulary, 3\), got \(4, 2\)"):
        state_dict_from_charrnn(dict(w, **{"decoder.weight": w["decoder.weight"][:, :2]}))
    with pytest.raises(ShapeError, match="unexpected key 'embedding.weight'"):
        state_dict_from_charrnn(dict(w, **{"embedding.weight": w["decoder.weight"]}))
    with pytest.raises(ShapeError, match="bidirectional"):
        to_charrnn(rnnlab.LSTM(3, 2, bidirectional=True))
    with pytest.raises(ShapeError, match="LSTM, got a GRU"):
        to_charrnn(rnnlab.GRU(3, 2))
