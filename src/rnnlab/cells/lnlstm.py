r"""Layer-normalised LSTM cell (Ba, Kiros & Hinton 2016, "Layer Normalization", §3.1 and eq. 20–22):
``rnnlab.LSTM(..., layer_norm=True)``.

Layer normalisation of a vector z ∈ ℝ^F (over its F features, separately for every sequence)::

    μ = (1/F) Σ_k z_k     σ² = (1/F) Σ_k (z_k − μ)²     ẑ = (z − μ) / √(σ² + ε)
    LN(z; α, β) = α ⊙ ẑ + β

The cell, in the course's names (gates stacked i, f, g = C̃, o as in ``cells/lstm.py``)::

    a_t  = LN(W_hh h_{t-1}; α_h, b_hh) + LN(W_ih x_t; α_x, b_ih)     (4H)
    i_t, f_t, o_t = σ(a_i), σ(a_f), σ(a_o)      C̃_t = tanh(a_g)
    C_t  = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    h_t  = o_t ⊙ tanh(LN(C_t; α_c, β_c))

The two LN shifts are the layer's ``bias_ih`` and ``bias_hh`` (they add up, as in ``nn.LSTM``),
the gains its extra parameters ``ln_ih_gain`` (α_x), ``ln_hh_gain`` (α_h), ``ln_c_gain`` (α_c)
and ``ln_c_bias`` (β_c) (:data:`PARAMS`). Because LN(W_ih x_t) does not depend on the state,
:func:`normalise_input` computes it for all steps at once before the unroll; :func:`step`
receives it (plus both biases) as ``xw``.

Beware of a one-dimensional input: W_ih x_t is then x_t times one fixed vector w, and
LN(w x_t) = sign(x_t) LN(w) keeps only the sign of x_t (measured: the airline forecaster gets
worse with it; ``benchmarks/bench_tasks.py``).

Backward of LN, for upstream ∂L/∂y (means over the F features)::

    ∂L/∂α = Σ ∂L/∂y ⊙ ẑ      ∂L/∂β = Σ ∂L/∂y      g = ∂L/∂y ⊙ α
    ∂L/∂z = (g − mean(g) − ẑ ⊙ mean(g ⊙ ẑ)) / √(σ² + ε)

Backward of the cell, for upstream ∂L/∂h_t and ∂L/∂C_t::

    ∂L/∂o_t   = ∂L/∂h_t ⊙ tanh(ĉ_t)               ĉ_t = LN(C_t)
    ∂L/∂ĉ_t   = ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(ĉ_t))   → LN backward → ∂L/∂C_t += …, ∂L/∂α_c, ∂L/∂β_c
    ∂L/∂f_t   = ∂L/∂C_t ⊙ C_{t-1}     ∂L/∂i_t = ∂L/∂C_t ⊙ C̃_t     ∂L/∂C̃_t = ∂L/∂C_t ⊙ i_t
    ∂L/∂a     = the gate gradients through σ′ and tanh′ (as the LSTM)
    ∂L/∂(W_hh h_{t-1}) = LN backward of ∂L/∂a (gain α_h)     ∂L/∂h_{t-1} = that @ W_hh
    ∂L/∂C_{t-1} = ∂L/∂C_t ⊙ f_t
"""

from __future__ import annotations

import numpy as np

from .lstm import GATE_NAMES, _slot, activate_gates, direct_factor  # noqa: F401  (same gates, same order)

NAME = "lnlstm"
LAYER_NORM_OF = "lstm"  # spelled cell "lstm" with layer_norm=True; not a --cell choice of its own
LABEL = ("LN-LSTM", "LN-LSTM")
STATE = ("h", "c")
DIRECT_LABEL = "Π f"
DIRECT_NOTE = ("direct cell path", "chemin direct de la cellule")
COLOR = "tab:purple"
# no FORGET_GATE: initialise() already opens f (its LN shift starts at 1)
# no TORCH, no KERAS: neither has a layer-normalised LSTM; no TRACE: the generic trace (forward only)
FOLD_B_HH = True  # b_hh is β_h: it adds to a_t like b_ih, so it is folded into xw once
EPS = 1e-5
# the cell's own parameters per layer and direction: (name, length in units of H, initial value)
PARAMS = (("ln_ih_gain", 4, 1.0), ("ln_hh_gain", 4, 1.0), ("ln_c_gain", 1, 1.0), ("ln_c_bias", 1, 0.0))


def layer_norm(z, gain, bias=None, eps=EPS):
    """LN over the last axis; returns ``(y, cache)``."""
    mu = z.mean(axis=-1, keepdims=True)
    centred = z - mu
    inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
    z_hat = centred * inv_std
    y = z_hat * gain
    if bias is not None:
        y += bias
    return y, {"z_hat": z_hat, "inv_std": inv_std}


def layer_norm_backward(d_y, cache, gain):
    """Returns ``(∂L/∂z, ∂L/∂α, ∂L/∂β)``; the parameter gradients are summed over all leading axes."""
    z_hat, inv_std = cache["z_hat"], cache["inv_std"]
    lead = tuple(range(d_y.ndim - 1))
    d_gain = (d_y * z_hat).sum(axis=lead)
    d_bias = d_y.sum(axis=lead)
    g = d_y * gain
    d_z = (g - g.mean(axis=-1, keepdims=True) - z_hat * (g * z_hat).mean(axis=-1, keepdims=True)) * inv_std
    return d_z, d_gain, d_bias


def initialise(params, suffix, H):
    """Initial values (in place): gains 1, shifts 0 but the forget gate's, 1 (open at the start);
    the weights keep the layer's uniform draw."""
    for name, _, value in PARAMS:
        params[f"{name}{suffix}"][:] = value
    for key in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if key in params:
            params[key][:] = 0.0
    if f"bias_ih{suffix}" in params:
        params[f"bias_ih{suffix}"][H : 2 * H] = 1.0


def normalise_input(xp, params):
    """LN(W_ih x_t; α_x) for every step at once: ``xp (T, B, 4H)`` = x W_ihᵀ. Returns ``(xw, cache)``."""
    return layer_norm(xp, params["ln_ih_gain"])


def normalise_input_backward(d_xw, cache, params, param_grads):
    """∂L/∂(x W_ihᵀ) from ∂L/∂xw ``(T, B, 4H)``; adds ∂L/∂α_x into ``param_grads``."""
    d_xp, d_gain, _ = layer_norm_backward(d_xw, cache, params["ln_ih_gain"])
    param_grads["ln_ih_gain"] += d_gain
    return d_xp


def workspace(T, B, H, dtype, empty=np.empty):
    """Arrays ``(T, B, ·)`` that :func:`rnnlab.sequence.unroll` fills step by step (as the LSTM's)."""
    return {key: empty((T, B, width * H), dtype)
            for key, width in (("gates", 4), ("c", 1), ("tanh_c", 1), ("h", 1))}


def step(xw, state, W_hh, b_hh=None, out=None, params=None):
    """One step. ``xw (B, 4H)`` = LN(W_ih x_t; α_x) + b_ih + b_hh; ``params`` holds the gains
    (:data:`PARAMS`, without suffix). Returns ``((h, c), cache)``."""
    h_prev, c_prev = state
    B, H = h_prev.shape
    if out is None:
        out = {key: buf[0] for key, buf in workspace(1, B, H, np.result_type(xw, h_prev, W_hh)).items()}
    gates, c, tanh_c, h = out["gates"], out["c"], out["tanh_c"], out["h"]
    hw_n, ln_h = layer_norm(h_prev @ W_hh.T, params["ln_hh_gain"])  # (B, 4H)
    a = hw_n
    a += xw
    if b_hh is not None:
        a += b_hh
    i, f, g, o = activate_gates(a, gates)  # σ on i, f, o; tanh on g = C̃
    np.multiply(f, c_prev, out=c)  # C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    c += i * g
    c_n, ln_c = layer_norm(c, params["ln_c_gain"], params["ln_c_bias"])
    np.tanh(c_n, out=tanh_c)
    np.multiply(o, tanh_c, out=h)  # h_t = o_t ⊙ tanh(LN(C_t))
    cache = {"h_prev": h_prev, "c_prev": c_prev, "gates": gates, "ln_h": ln_h, "ln_c": ln_c, "tanh_c": tanh_c,
             "c": c, "h": h}
    return (h, c), cache


def step_backward(d_state, cache, W_hh, out=None, params=None, param_grads=None):
    """Backward of :func:`step`. Returns ``(∂L/∂a, ∂L/∂(W_hh h_{t-1}), (∂L/∂h_{t-1}, ∂L/∂C_{t-1}))``
    and adds this step's ∂L/∂α_h, ∂L/∂α_c, ∂L/∂β_c into ``param_grads``."""
    d_h, d_c_next = d_state
    gates, tanh_c, c_prev = cache["gates"], cache["tanh_c"], cache["c_prev"]
    B, H = d_h.shape
    i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
    d_cn = d_h * o * (1.0 - tanh_c * tanh_c)
    d_c_ln, d_c_gain, d_c_bias = layer_norm_backward(d_cn, cache["ln_c"], params["ln_c_gain"])
    d_c = d_c_next + d_c_ln
    d_a = _slot(out, "d_xw", (B, 4 * H), d_h, gates)
    np.multiply(d_c, g, out=d_a[:, :H])  # ∂L/∂i
    np.multiply(d_c, c_prev, out=d_a[:, H : 2 * H])  # ∂L/∂f
    np.multiply(d_c, i, out=d_a[:, 2 * H : 3 * H])  # ∂L/∂C̃
    np.multiply(d_h, tanh_c, out=d_a[:, 3 * H :])  # ∂L/∂o
    slope = gates * (1.0 - gates)  # σ' = s(1 − s); tanh' = 1 − g² for C̃
    slope[:, 2 * H : 3 * H] = 1.0 - g * g
    d_a *= slope
    d_hw, d_hh_gain, _ = layer_norm_backward(d_a, cache["ln_h"], params["ln_hh_gain"])
    if out is not None and "d_hw" in out:
        out["d_hw"][...] = d_hw
        d_hw = out["d_hw"]
    param_grads["ln_hh_gain"] += d_hh_gain
    param_grads["ln_c_gain"] += d_c_gain
    param_grads["ln_c_bias"] += d_c_bias
    return d_a, d_hw, (d_hw @ W_hh, d_c * f)
