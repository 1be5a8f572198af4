"""PyTorch as the oracle, float64, identical weights: outputs, final states, ∂L/∂input, every
parameter gradient and ∂L/∂h_0 (and ∂L/∂c_0) agree with torch autograd within 1e-9, for RNN
(tanh, relu), LSTM and GRU (reset="after") over every layer option, with ``lengths`` against
``pack_padded_sequence``. GRU reset="before" has no torch counterpart: it is checked against
a straight transcription of the course's formula, differentiated by torch autograd.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab

from helpers import layer_case

TOL = 1e-9

CELLS = {
    "rnn_tanh": (rnnlab.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnnlab.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnnlab.LSTM, {}),
    "gru": (rnnlab.GRU, {"reset": "after"}),
}

T, B, D, H = 5, 3, 3, 4

OPTIONS = {
    "one_layer": ({}, {}),
    "two_layers": ({"num_layers": 2}, {}),
    "three_layers_bidirectional": ({"num_layers": 3, "bidirectional": True}, {}),
    "bidirectional": ({"bidirectional": True}, {}),
    "batch_first": ({"batch_first": True, "num_layers": 2}, {}),
    "no_bias": ({"bias": False, "bidirectional": True}, {}),
    "given_hx": ({"num_layers": 2}, {"hx": True}),
    "lengths": ({}, {"lengths": [5, 1, 3]}),
    "lengths_all_short": ({"num_layers": 2}, {"lengths": [3, 1, 2]}),  # padded beyond the longest too
    "lengths_bidirectional_batch_first": ({"bidirectional": True, "batch_first": True}, {"lengths": [2, 5, 4], "hx": True}),
    "unbatched": ({"num_layers": 2, "bidirectional": True}, {"unbatched": True, "hx": True}),
    "everything": ({"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False},
                   {"lengths": [4, 5, 1], "hx": True}),
    "dropout_eval": ({"num_layers": 3, "dropout": 0.5, "eval": True}, {"hx": True}),
}


# --- the helper that runs both and compares everything ----------------------------------------


def torch_twin(torch, layer):
    """``torch.nn.RNN/LSTM/GRU`` with the layer's options and (via its state dict) its weights."""
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[layer.mode]
    extra = {"nonlinearity": layer.cell.options.get("nonlinearity", "tanh")} if layer.mode == "rnn" else {}
    if getattr(layer, "proj_size", 0):
        extra["proj_size"] = layer.proj_size
    module = cls(layer.input_size, layer.hidden_size, num_layers=layer.num_layers, bias=layer.bias,
                 batch_first=layer.batch_first, dropout=layer.dropout, bidirectional=layer.bidirectional,
                 dtype=torch.float64, **extra)
    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layer.state_dict().items()}, strict=True)
    module.train(layer.training)
    return module


def assert_close(name, mine, ref, tol=TOL):
    """max |mine − ref| ≤ tol · max(1, max |ref|), with a 'mine vs reference' dump on failure."""
    mine, ref = np.asarray(mine, np.float64), np.asarray(ref, np.float64)
    assert mine.shape == ref.shape, f"{name}: shape {mine.shape} vs torch {ref.shape}"
    err = float(np.max(np.abs(mine - ref), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    assert err <= tol * scale, f"{name}: max abs difference {err:.3e}\nrnnlab:\n{mine}\ntorch:\n{ref}"


def compare_with_torch(torch, layer, x, hx=None, lengths=None, seed=0):
    """Forward and backward through ``layer`` and its torch twin on L = Σ out⊙G + Σ h_n⊙G_h
    (+ Σ c_n⊙G_c); compare values and all gradients."""
    module = torch_twin(torch, layer)
    out, final = layer.forward(x, hx, lengths)
    finals = final if isinstance(final, tuple) else (final,)
    rng = np.random.default_rng(seed)
    g_out = rng.normal(size=out.shape)
    g_finals = [rng.normal(size=f.shape) for f in finals]
    d_x = layer.backward(g_out, *g_finals)
    d_hx = layer.d_hx if isinstance(layer.d_hx, tuple) else (layer.d_hx,)

    # torch, always with an explicit initial state (zeros when hx is None) to get its gradient
    x_t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    n_states = len(finals)
    states = (hx if isinstance(hx, tuple) else (hx,)) if hx is not None else [np.zeros(f.shape) for f in finals]
    states_t = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in states]
    h0_t = tuple(states_t) if n_states == 2 else states_t[0]
    if lengths is not None:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        packed = pack_padded_sequence(x_t, torch.as_tensor(np.asarray(lengths)), batch_first=layer.batch_first,
                                      enforce_sorted=False)
        out_packed, final_t = module(packed, h0_t)
        T_in = x.shape[1 if layer.batch_first else 0]
        out_t, _ = pad_packed_sequence(out_packed, batch_first=layer.batch_first, total_length=T_in)
    else:
        out_t, final_t = module(x_t, h0_t)
    finals_t = final_t if isinstance(final_t, tuple) else (final_t,)
    loss = (out_t * torch.from_numpy(g_out)).sum()
    for f, g in zip(finals_t, g_finals):
        loss = loss + (f * torch.from_numpy(g)).sum()
    loss.backward()

    assert_close("output", out, out_t.detach().numpy())
    for name, f, f_t in zip(layer.cell.state_names, finals, finals_t):
        assert_close(f"{name}_n", f, f_t.detach().numpy())
    assert_close("d_input", d_x, x_t.grad.numpy())
    named = dict(module.named_parameters())
    assert set(layer.grads) == set(named)
    for name, p in named.items():
        assert_close(f"grad {name}", layer.grads[name], p.grad.numpy())
    for name, d, s_t in zip(layer.cell.state_names, d_hx, states_t):
        assert_close(f"d_{name}_0", d, s_t.grad.numpy())


def _case(cell, option, seed=0, T=T, B=B, D=D, H=H):
    option = OPTIONS[option] if isinstance(option, str) else option
    return layer_case(CELLS[cell], option, seed=seed, data_seed=seed + 1, T=T, B=B, D=D, H=H)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("cell", list(CELLS))
def test_values_and_every_gradient_match_torch(torch, cell, option):
    layer, x, hx, lengths = _case(cell, option)
    compare_with_torch(torch, layer, x, hx, lengths)


@pytest.mark.parametrize("cell", list(CELLS))
def test_backward_with_only_some_upstream_gradients(torch, cell):
    """``d_output=None`` (many-to-one: only h_n feeds the loss) and ``d_h_n=None`` (only the
    outputs do) mean zeros, as torch sees them."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    layer, x, hx, lengths = _case(cell, "lengths_bidirectional_batch_first")
    module = torch_twin(torch, layer)
    h0 = tuple(torch.from_numpy(h) for h in hx) if isinstance(hx, tuple) else torch.from_numpy(hx)

    def torch_run():
        x_t = torch.tensor(x, requires_grad=True)
        module.zero_grad()
        out_packed, final_t = module(pack_padded_sequence(x_t, torch.as_tensor(lengths), batch_first=True,
                                                          enforce_sorted=False), h0)
        out_t = pad_packed_sequence(out_packed, batch_first=True, total_length=T)[0]
        return x_t, out_t, (final_t[0] if isinstance(final_t, tuple) else final_t)

    out, final = layer.forward(x, hx, lengths)
    h_n = final[0] if isinstance(final, tuple) else final
    d_x = layer.backward(None, np.ones_like(h_n))
    x_t, _, h_n_t = torch_run()
    h_n_t.sum().backward()
    assert_close("d_input (h_n only)", d_x, x_t.grad.numpy())
    for name, p in module.named_parameters():
        assert_close(f"grad {name} (h_n only)", layer.grads[name], p.grad.numpy())

    d_x = layer.backward(np.ones_like(out))
    x_t, out_t, _ = torch_run()
    out_t.sum().backward()
    assert_close("d_input (output only)", d_x, x_t.grad.numpy())
    for name, p in module.named_parameters():
        assert_close(f"grad {name} (output only)", layer.grads[name], p.grad.numpy())


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("case", ["all_zero", "saturated"])
def test_edge_values_match_torch(torch, cell, case):
    """All-zero weights and input (ReLU'(0) = 0, as torch) and inputs of ±1e4 (saturated gates,
    ReLU states of order 1e4): same values and gradients, and no floating-point warning."""
    layer, x, hx, lengths = _case(cell, "lengths_bidirectional_batch_first")
    if case == "all_zero":
        for p in layer.params.values():
            p[...] = 0.0
        x = np.zeros_like(x)
        hx = tuple(np.zeros_like(h) for h in hx) if isinstance(hx, tuple) else np.zeros_like(hx)
    else:
        x = np.sign(x) * 1e4
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        compare_with_torch(torch, layer, x, hx, lengths)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(list(CELLS)), T=st.integers(1, 6), B=st.integers(1, 4), D=st.integers(1, 4),
       H=st.integers(1, 5), num_layers=st.integers(1, 3), bidirectional=st.booleans(), batch_first=st.booleans(),
       bias=st.booleans(), use_lengths=st.booleans(), use_hx=st.booleans(), seed=st.integers(0, 2**16))
def test_random_shapes_and_weights_match_torch(torch, cell, T, B, D, H, num_layers, bidirectional, batch_first, bias,
                                               use_lengths, use_hx, seed):
    option = ({"num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first, "bias": bias},
              {"hx": use_hx})
    layer, x, hx, _ = _case(cell, option, seed=seed, T=T, B=B, D=D, H=H)
    rng = np.random.default_rng(seed + 2)
    for p in layer.params.values():  # wider than the init: saturated gates, dead ReLUs
        p[...] = rng.uniform(-2, 2, size=p.shape)
    lengths = rng.integers(1, T + 1, size=B) if use_lengths else None
    compare_with_torch(torch, layer, x, hx, lengths, seed=seed)


# --- state dicts both ways ----------------------------------------------------------------------


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_torch_state_dict_loads_unchanged_and_back(torch, cell, dtype):
    cls, cell_opts = CELLS[cell]
    torch_cls = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch.manual_seed(0)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch_opts = {"nonlinearity": cell_opts["nonlinearity"]} if "nonlinearity" in cell_opts else {}
    module = torch_cls(3, 4, num_layers=2, bidirectional=True, dtype=tdtype, **torch_opts)
    layer = cls(3, 4, num_layers=2, bidirectional=True, dtype=dtype, seed=1, **cell_opts)
    torch_sd = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    assert list(layer.state_dict()) == list(torch_sd)  # same names, same order
    layer.load_state_dict(torch_sd)
    for k, v in torch_sd.items():
        assert layer.params[k].dtype == dtype
        np.testing.assert_array_equal(layer.params[k], v)  # no arithmetic on the way in
    x = np.random.default_rng(2).normal(size=(5, 2, 3)).astype(dtype)
    out, _ = layer.forward(x)
    out_t, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)

    # and back: rnnlab's weights into a fresh torch module
    other = cls(3, 4, num_layers=2, bidirectional=True, dtype=dtype, seed=7, **cell_opts)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in other.state_dict().items()}, strict=True)
    for k, v in module.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), other.params[k])


@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_layer_matches_torch_float32(torch, cell):
    layer, x, hx, lengths = _case(cell, "lengths_bidirectional_batch_first")
    layer32 = CELLS[cell][0](D, H, bidirectional=True, batch_first=True, seed=0, **CELLS[cell][1])
    layer32.load_state_dict(layer.state_dict())
    out, _ = layer32.forward(x.astype(np.float32))
    assert out.dtype == np.float32
    module = torch_twin(torch, layer).float()
    out_t, _ = module(torch.from_numpy(x.astype(np.float32)))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=2e-6)


# --- GRU reset="before": the course's formula, differentiated by torch autograd --------------


def course_gru(torch, x, h0, layers):
    """A straight transcription of the course (Cho 2014), one matrix per gate over [h, x]::

        z_t = σ(W_z [h_{t-1}, x_t] + b_z);   r_t = σ(W_r [h_{t-1}, x_t] + b_r)
        h̃_t = tanh(W [r_t ⊙ h_{t-1}, x_t] + b);   h_t = (1 − z_t) h_{t-1} + z_t h̃_t

    ``x (T, B, D)``, ``h0 (L, B, H)``, ``layers``: one dict of course tensors per layer.
    Returns ``output (T, B, H)`` and ``h_n (L, B, H)``.
    """
    seq, finals = list(x), []
    for layer, c in enumerate(layers):
        h, out = h0[layer], []
        for x_t in seq:
            hx = torch.cat([h, x_t], dim=1)
            z = torch.sigmoid(hx @ c["W_z"].T + c["b_z"])
            r = torch.sigmoid(hx @ c["W_r"].T + c["b_r"])
            h_tilde = torch.tanh(torch.cat([r * h, x_t], dim=1) @ c["W"].T + c["b"])
            h = (1 - z) * h + z * h_tilde
            out.append(h)
        seq, finals = out, finals + [h]
    return torch.stack(seq), torch.stack(finals)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_gru_reset_before_matches_the_course_formula_and_its_autograd(torch, num_layers):
    rng = np.random.default_rng(3)
    Tn, Bn, Dn, Hn = 4, 2, 3, 3
    layers_np = []
    for layer in range(num_layers):
        cols = Hn + (Dn if layer == 0 else Hn)
        layers_np.append({k: rng.normal(size=(Hn, cols)) * 0.8 for k in ("W_z", "W_r", "W")}
                         | {k: rng.normal(size=Hn) * 0.3 for k in ("b_z", "b_r", "b")})
    params = {}
    for layer, c in enumerate(layers_np):
        params |= rnnlab.gru_params_from_course(**c, suffix=f"_l{layer}")
    gru = rnnlab.GRU(Dn, Hn, num_layers=num_layers, reset="before", dtype=np.float64, seed=0)
    gru.load_state_dict(params)
    x, h0 = rng.normal(size=(Tn, Bn, Dn)), rng.normal(size=(num_layers, Bn, Hn))
    out, h_n = gru.forward(x, h0)
    g_out, g_h = rng.normal(size=out.shape), rng.normal(size=h_n.shape)
    d_x = gru.backward(g_out, g_h)

    course_t = [{k: torch.tensor(v, requires_grad=True) for k, v in c.items()} for c in layers_np]
    x_t, h0_t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out_t, h_n_t = course_gru(torch, x_t, h0_t, course_t)
    ((out_t * torch.from_numpy(g_out)).sum() + (h_n_t * torch.from_numpy(g_h)).sum()).backward()

    assert_close("output", out, out_t.detach().numpy())
    assert_close("h_n", h_n, h_n_t.detach().numpy())
    assert_close("d_input", d_x, x_t.grad.numpy())
    assert_close("d_h_0", gru.d_hx, h0_t.grad.numpy())
    # the fused gradients seen through the course's view (the chain rule of params_from_course:
    # W_z = −[W_hh_z | W_ih_z], b_z = −b_ih_z, W_r = [W_hh_r | W_ih_r], W = [W_hh_n | W_ih_n])
    for layer, c in enumerate(course_t):
        s = f"_l{layer}"
        g_ih, g_hh, g_b = gru.grads[f"weight_ih{s}"], gru.grads[f"weight_hh{s}"], gru.grads[f"bias_ih{s}"]
        rows = {"r": slice(0, Hn), "z": slice(Hn, 2 * Hn), "n": slice(2 * Hn, 3 * Hn)}
        for gate, W_name, b_name, sign in (("r", "W_r", "b_r", 1), ("z", "W_z", "b_z", -1), ("n", "W", "b", 1)):
            rr = rows[gate]
            assert_close(f"grad {W_name}{s}", sign * np.concatenate([g_hh[rr], g_ih[rr]], axis=1), c[W_name].grad.numpy())
            assert_close(f"grad {b_name}{s}", sign * g_b[rr], c[b_name].grad.numpy())
        # bias_hh enters exactly where bias_ih does for reset="before"
        np.testing.assert_allclose(gru.grads[f"bias_hh{s}"], g_b, rtol=1e-13, atol=1e-15)
