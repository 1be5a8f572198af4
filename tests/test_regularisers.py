"""Variational (recurrent) dropout and the layer-normalised LSTM as options of the core layers:
``rnnlab.RNN/LSTM/GRU(..., recurrent_dropout=p)`` and ``rnnlab.LSTM(..., layer_norm=True)``.

Proof, as for every backward pass: finite differences in float64 (training mode, masks held
fixed), PyTorch autograd on the same weights and masks (each cell written step by step with
torch operations), and the equations checked directly where they are the point (one mask for
all steps; C never masked; the GRU's z ⊙ h_{t-1} path never masked)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.errors import ConfigError
from rnnlab.gradcheck import check_layer

# label -> (layer class, keyword options)
CASES = {
    "rnn": (rnnlab.RNN, {}),
    "lstm": (rnnlab.LSTM, {}),
    "gru": (rnnlab.GRU, {}),
    "gru-before": (rnnlab.GRU, {"reset": "before"}),
    "lnlstm": (rnnlab.LSTM, {"layer_norm": True}),
}


def _layer(label, D, H, rng, **opts):
    cls, extra = CASES[label]
    layer = cls(D, H, dtype=np.float64, seed=int(rng.integers(1 << 30)), **extra, **opts)
    if label == "lnlstm":  # move gains and shifts off their initial 1 / 0, so every term is exercised
        for v in layer.params.values():
            v += rng.normal(scale=0.3, size=v.shape)
    return layer


def _hx(label, L, B, H, rng):
    h0 = rng.normal(size=(L, B, H))
    return (h0, rng.normal(size=(L, B, H))) if "lstm" in label else h0


# --- the equations ---------------------------------------------------------------------------------


def test_one_mask_for_every_step_of_an_rnn():
    """h_t = tanh(W_ih x_t + b + W_hh (h_{t-1} ⊙ m)) with one m for all t (Gal & Ghahramani 2016)."""
    rng = np.random.default_rng(1)
    layer = rnnlab.RNN(2, 6, recurrent_dropout=0.5, dtype=np.float64, seed=2)
    x = rng.normal(size=(4, 3, 2))
    out, _ = layer(x)
    (m,) = layer.recurrent_masks
    assert m.shape == (3, 6) and set(np.unique(m)) <= {0.0, 2.0}
    p = layer.params
    h = np.zeros((3, 6))
    for t in range(4):
        h = np.tanh(x[t] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + p["bias_hh_l0"] + (h * m) @ p["weight_hh_l0"].T)
        np.testing.assert_allclose(out[t], h, atol=1e-14)
    out2, _ = layer(x)
    assert not np.allclose(out2, out)  # a new forward draws new masks


def test_masks_are_bernoulli_scaled_and_come_from_the_layer_rng():
    p, B, H = 0.3, 400, 8
    layer = rnnlab.LSTM(1, H, num_layers=2, bidirectional=True, recurrent_dropout=p, seed=0)
    x = np.zeros((2, B, 1), np.float32)
    layer.rng = np.random.default_rng(7)
    layer(x)
    masks = layer.recurrent_masks
    assert len(masks) == 4 and all(m.shape == (B, H) and m.dtype == np.float32 for m in masks)
    values = np.concatenate([m.ravel() for m in masks])
    assert set(np.unique(values)) <= {0.0, np.float32(1 / (1 - p))}
    assert abs((values == 0).mean() - p) < 0.03  # 12,800 draws: p ± 4σ
    assert not np.array_equal(masks[0], masks[1])  # one mask per layer and direction
    layer.rng = np.random.default_rng(7)
    layer(x)
    for a, b in zip(masks, layer.recurrent_masks):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("label", list(CASES))
def test_eval_mode_is_the_plain_layer(label):
    """Recurrent dropout acts only in training: in eval mode the layer is the plain one, and
    with p = 0 nothing is drawn in training either."""
    rng = np.random.default_rng(3)
    dropped = _layer(label, 3, 4, rng, num_layers=2, recurrent_dropout=0.4).eval()
    cls, extra = CASES[label]
    plain = cls(3, 4, num_layers=2, dtype=np.float64, seed=0, **extra)
    plain.load_state_dict(dropped.state_dict())
    x, lengths = rng.normal(size=(5, 3, 3)), np.array([5, 3, 1])
    np.testing.assert_array_equal(dropped(x, lengths=lengths)[0], plain(x, lengths=lengths)[0])
    assert dropped.recurrent_masks == [None, None]
    plain.train()(x)
    assert plain.recurrent_masks == [None, None]


def test_the_lstm_cell_state_and_the_gru_direct_path_are_never_masked():
    """With every unit dropped (m = 0 on all of h), an LSTM still carries C_{t-1} (f ⊙ C_{t-1})
    and a GRU still carries h_{t-1} through z ⊙ h_{t-1}; W_hh sees only zeros."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 2, 2))
    for label in ("lstm", "gru"):
        layer = _layer(label, 2, 3, rng, recurrent_dropout=0.5)
        h0 = rng.normal(size=(1, 2, 3))
        hx = (h0, rng.normal(size=(1, 2, 3))) if label == "lstm" else h0
        layer._draw_recurrent_masks = lambda B, layer=layer: [np.zeros((B, 3))]  # drop every unit
        out, _ = layer(x, hx)
        zero_hh = _layer(label, 2, 3, rng).eval()
        zero_hh.load_state_dict({**layer.state_dict(), "weight_hh_l0": np.zeros((zero_hh.cell.gates * 3, 3))})
        np.testing.assert_allclose(out, zero_hh(x, hx)[0], atol=1e-14)


# --- gradients: finite differences and PyTorch autograd ---------------------------------------------


@pytest.mark.parametrize("label", list(CASES))
def test_gradcheck_in_training_mode(label):
    """Two bidirectional layers, dropout between them and recurrent dropout, a padded batch and a
    given initial state; check_layer replays the layer's rng, so the masks are fixed."""
    rng = np.random.default_rng(5)
    layer = _layer(label, 3, 4, rng, num_layers=2, bidirectional=True, dropout=0.3, recurrent_dropout=0.3)
    x, lengths = rng.normal(size=(5, 3, 3)), np.array([5, 2, 4])
    report = check_layer(layer, x, _hx(label, 4, 3, 4, rng), lengths)
    assert report.passed, str(report)
    assert all(m is not None and (m == 0).any() for m in layer.recurrent_masks)
    if label == "lnlstm":
        assert {"ln_ih_gain_l1_reverse", "ln_hh_gain_l0", "ln_c_gain_l1", "ln_c_bias_l0_reverse"} <= set(report.errors)


def _torch_step(label, P, s, x_t, h, c, m, H):
    """One step of each cell in torch operations, with W_hh reading h ⊙ m."""
    import torch

    F = torch.nn.functional
    W_ih, W_hh, b_ih, b_hh = P[f"weight_ih{s}"], P[f"weight_hh{s}"], P[f"bias_ih{s}"], P[f"bias_hh{s}"]
    hm = h * m
    if label == "rnn":
        return torch.tanh(x_t @ W_ih.T + b_ih + hm @ W_hh.T + b_hh), None
    if label in ("lstm", "lnlstm"):
        if label == "lstm":
            a = x_t @ W_ih.T + b_ih + hm @ W_hh.T + b_hh
        else:
            a = (F.layer_norm(x_t @ W_ih.T, (4 * H,), P[f"ln_ih_gain{s}"], b_ih, 1e-5)
                 + F.layer_norm(hm @ W_hh.T, (4 * H,), P[f"ln_hh_gain{s}"], b_hh, 1e-5))
        i, f, g, o = (torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.tanh(a[:, 2 * H:3 * H]),
                      torch.sigmoid(a[:, 3 * H:]))
        c = f * c + i * g
        c_out = c if label == "lstm" else F.layer_norm(c, (H,), P[f"ln_c_gain{s}"], P[f"ln_c_bias{s}"], 1e-5)
        return o * torch.tanh(c_out), c
    xw = x_t @ W_ih.T + b_ih
    if label == "gru":
        hw = hm @ W_hh.T + b_hh
        r, z = torch.sigmoid(xw[:, :H] + hw[:, :H]), torch.sigmoid(xw[:, H:2 * H] + hw[:, H:2 * H])
        n = torch.tanh(xw[:, 2 * H:] + r * hw[:, 2 * H:])
    else:  # reset before: W_hn (r ⊙ h̃)
        a_rz = xw[:, :2 * H] + hm @ W_hh[:2 * H].T + b_hh[:2 * H]
        r, z = torch.sigmoid(a_rz[:, :H]), torch.sigmoid(a_rz[:, H:])
        n = torch.tanh(xw[:, 2 * H:] + (r * hm) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h, None  # the direct path keeps h_{t-1} unmasked


@pytest.mark.parametrize("label", list(CASES))
def test_matches_pytorch_autograd(label, torch):
    """Outputs, final states and every gradient ≤ 1e-9 (float64) against the same network written
    step by step in torch (packed-sequence semantics for the padded batch, both directions)."""
    rng = np.random.default_rng(6)
    L, B, T, D, H = 2, 3, 5, 3, 4
    layer = _layer(label, D, H, rng, num_layers=L, bidirectional=True, recurrent_dropout=0.4)
    x, lengths = rng.normal(size=(T, B, D)), np.array([5, 2, 4])
    hx = _hx(label, 2 * L, B, H, rng)
    out, fin = layer(x, hx, lengths)
    fins = fin if isinstance(fin, tuple) else (fin,)
    g_out, g_fin = rng.normal(size=out.shape), [rng.normal(size=f.shape) for f in fins]
    d_x = layer.backward(g_out, *g_fin)
    d_hx = layer.d_hx if isinstance(layer.d_hx, tuple) else (layer.d_hx,)

    P = {k: torch.tensor(v, requires_grad=True) for k, v in layer.params.items()}
    xt = torch.tensor(x, requires_grad=True)
    states0 = [torch.tensor(s, requires_grad=True) for s in (hx if isinstance(hx, tuple) else (hx,))]
    keep = torch.tensor((np.arange(T)[:, None] < lengths[None, :])[:, :, None].astype(np.float64))
    layer_in, finals = xt, [[None] * (2 * L) for _ in states0]
    for layer_k in range(L):
        outs = []
        for direction in (0, 1):
            idx, s = 2 * layer_k + direction, f"_l{layer_k}" + ("_reverse" if direction else "")
            m = torch.tensor(layer.recurrent_masks[idx])
            h = states0[0][idx]
            c = states0[1][idx] if len(states0) == 2 else None
            ys = [None] * T
            for t in (range(T - 1, -1, -1) if direction else range(T)):
                h_new, c_new = _torch_step(label, P, s, layer_in[t], h, c, m, H)
                ys[t] = h_new * keep[t]
                h = keep[t] * h_new + (1 - keep[t]) * h  # frozen past each length
                if c is not None:
                    c = keep[t] * c_new + (1 - keep[t]) * c
            outs.append(torch.stack(ys))
            finals[0][idx] = h
            if c is not None:
                finals[1][idx] = c
        layer_in = torch.cat(outs, dim=-1)
    fins_t = [torch.stack(f) for f in finals]
    loss = (layer_in * torch.tensor(g_out)).sum() + sum((f * torch.tensor(g)).sum() for f, g in zip(fins_t, g_fin))
    loss.backward()
    assert np.max(np.abs(layer_in.detach().numpy() - out)) < 1e-12
    for a, b in zip(fins_t, fins):
        assert np.max(np.abs(a.detach().numpy() - b)) < 1e-12
    assert np.max(np.abs(xt.grad.numpy() - d_x)) < 1e-9
    for s0, d in zip(states0, d_hx):
        assert np.max(np.abs(s0.grad.numpy() - d)) < 1e-9
    for k, v in P.items():
        assert np.max(np.abs(v.grad.numpy() - layer.grads[k])) < 1e-9, k


@settings(max_examples=12, deadline=None)
@given(label=st.sampled_from(list(CASES)), T=st.integers(1, 4), B=st.integers(1, 3), D=st.integers(1, 3),
       H=st.integers(1, 4), bidirectional=st.booleans(), p=st.sampled_from([0.0, 0.2, 0.6]),
       seed=st.integers(0, 2**16))
def test_any_shape_gradchecks(label, T, B, D, H, bidirectional, p, seed):
    rng = np.random.default_rng(seed)
    layer = _layer(label, D, H, rng, bidirectional=bidirectional, recurrent_dropout=p)
    x = rng.normal(size=(T, B, D))
    out, _ = layer(x)
    assert out.shape == (T, B, H * (2 if bidirectional else 1))
    report = check_layer(layer, x)
    # LN is flat where it normalises one number: LN(C_t) with H = 1 (∂/∂α_c = 0) and LN(W_ih x_t)
    # with D = 1 (= sign(x_t) LN(w), ∂/∂x = 0); there the relative error compares two round-off
    # residues, so those entries are left out; every other one must pass
    flat = label == "lnlstm" and [k for k in report.errors
                                  if (H == 1 and k.startswith("ln_c_gain")) or (D == 1 and k == "input")]
    errors = {k: v for k, v in report.errors.items() if k not in (flat or [])}
    assert max(errors.values()) < 1e-6, str(report)


# --- parameters, names, bad input, PyTorch interchange ----------------------------------------------


def test_layer_norm_parameters_names_and_initial_values():
    layer = rnnlab.LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True, seed=0)
    assert layer.layer_norm and layer.mode == "lnlstm"
    shapes = {k: v.shape for k, v in layer.params.items()}
    assert shapes["ln_ih_gain_l1_reverse"] == (16,) and shapes["ln_c_bias_l0"] == (4,)
    assert shapes["weight_ih_l1"] == (16, 8)
    np.testing.assert_array_equal(layer.params["ln_hh_gain_l0"], 1.0)
    np.testing.assert_array_equal(layer.params["ln_c_bias_l1_reverse"], 0.0)
    np.testing.assert_array_equal(layer.params["bias_ih_l0"], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert "layer_norm=True" in repr(layer)
    assert not rnnlab.LSTM(3, 4, layer_norm=False).layer_norm
    no_bias = rnnlab.LSTM(3, 4, bias=False, layer_norm=True, seed=0)
    assert sorted(no_bias.params) == ["ln_c_bias_l0", "ln_c_gain_l0", "ln_hh_gain_l0", "ln_ih_gain_l0",
                                      "weight_hh_l0", "weight_ih_l0"]


@pytest.mark.parametrize("make, fragment", [
    (lambda: rnnlab.LSTM(2, 3, recurrent_dropout=1.0), r"recurrent_dropout: expected a probability in \[0, 1\), got 1.0"),
    (lambda: rnnlab.GRU(2, 3, recurrent_dropout=-0.1), r"recurrent_dropout: expected .* got -0.1"),
    (lambda: rnnlab.RNN(2, 3, recurrent_dropout="half"), r"recurrent_dropout: expected .* got 'half'"),
    (lambda: rnnlab.LSTM(2, 3, layer_norm="yes"), r"layer_norm: expected True or False, got 'yes'"),
])
def test_bad_options_raise_clear_errors(make, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make()


def test_pytorch_interchange(torch):
    """A layer trained with recurrent dropout is a plain nn.LSTM (the masks act only in training);
    the layer-normalised LSTM has no PyTorch counterpart and says so."""
    from rnnlab.interop import from_torch, to_torch

    layer = rnnlab.LSTM(3, 4, recurrent_dropout=0.3, dtype=np.float64, seed=0).eval()
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    with pytest.warns(UserWarning, match="recurrent_dropout"):
        module = to_torch(layer)
    np.testing.assert_allclose(module(torch.tensor(x))[0].detach().numpy(), layer(x)[0], atol=1e-12)
    assert isinstance(from_torch(module), rnnlab.LSTM)
    with pytest.raises(ConfigError, match="layer-normalised LSTM.*no PyTorch counterpart"):
        to_torch(rnnlab.LSTM(3, 4, layer_norm=True))
