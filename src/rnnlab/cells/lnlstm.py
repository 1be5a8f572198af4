r"""Layer-normalised LSTM cell (Ba, Kiros & Hinton 2016, "Layer Normalization", §3.1 and eq. 20–22).

Layer normalisation of a vector z ∈ ℝ^F (over its F features, separately for every sequence)::

    μ = (1/F) Σ_k z_k     σ² = (1/F) Σ_k (z_k − μ)²     ẑ = (z − μ) / √(σ² + ε)
    LN(z; α, β) = α ⊙ ẑ + β

The cell, in the course's names (gates stacked i, f, g = C̃, o as in ``cells/lstm.py``)::

    a_t  = LN(W_hh h_{t-1}; α_h) + LN(W_ih x_t; α_x) + b           (4H; the LN shifts β_h, β_x are
                                                                    folded into the one bias b)
    i_t, f_t, o_t = σ(a_i), σ(a_f), σ(a_o)      C̃_t = tanh(a_g)
    C_t  = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    h_t  = o_t ⊙ tanh(LN(C_t; α_c, β_c))

Because LN(W_ih x_t) does not depend on the state, it is computed for all steps at once
(:func:`layer_norm` over ``(T, B, 4H)``) before the unroll; :func:`step` receives it as ``xw``
(with b added).

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

from ..functional import sigmoid

GATES = 4
STATE = ("h", "c")
EPS = 1e-5


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


def step(xw, state, W_hh, p):
    """One step. ``xw (B, 4H)`` = LN(W_ih x_t; α_x) + b; ``p`` holds ``hh_gain (4H)``,
    ``c_gain (H)``, ``c_bias (H)``. Returns ``((h, c), cache)``."""
    h_prev, c_prev = state
    H = h_prev.shape[-1]
    hw = h_prev @ W_hh.T  # (B, 4H)
    hw_n, ln_h = layer_norm(hw, p["hh_gain"])
    a = xw + hw_n
    gates = np.empty_like(a)
    sigmoid(a[:, :2 * H], out=gates[:, :2 * H])  # i, f
    np.tanh(a[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])  # g = C̃
    sigmoid(a[:, 3 * H:], out=gates[:, 3 * H:])  # o
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c = f * c_prev + i * g
    c_n, ln_c = layer_norm(c, p["c_gain"], p["c_bias"])
    tanh_c = np.tanh(c_n)
    h = o * tanh_c
    cache = {"h_prev": h_prev, "c_prev": c_prev, "gates": gates, "ln_h": ln_h, "ln_c": ln_c, "tanh_c": tanh_c}
    return (h, c), cache


def step_backward(d_state, cache, W_hh, p):
    """Backward of :func:`step`. Returns ``(∂L/∂xw, ∂L/∂(W_hh h_{t-1}), (∂L/∂h_{t-1}, ∂L/∂C_{t-1}),
    {"hh_gain", "c_gain", "c_bias"})``."""
    d_h, d_c = d_state
    gates, tanh_c, c_prev = cache["gates"], cache["tanh_c"], cache["c_prev"]
    H = d_h.shape[-1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    d_cn = d_h * o * (1.0 - tanh_c * tanh_c)
    d_c_ln, d_c_gain, d_c_bias = layer_norm_backward(d_cn, cache["ln_c"], p["c_gain"])
    d_c = d_c + d_c_ln
    d_gates = np.empty_like(gates)
    d_gates[:, :H] = d_c * g  # ∂L/∂i
    d_gates[:, H:2 * H] = d_c * c_prev  # ∂L/∂f
    d_gates[:, 2 * H:3 * H] = d_c * i  # ∂L/∂C̃
    d_gates[:, 3 * H:] = d_h * tanh_c  # ∂L/∂o
    slope = gates * (1.0 - gates)
    slope[:, 2 * H:3 * H] = 1.0 - g * g
    d_a = d_gates * slope
    d_hw, d_hh_gain, _ = layer_norm_backward(d_a, cache["ln_h"], p["hh_gain"])
    grads = {"hh_gain": d_hh_gain, "c_gain": d_c_gain, "c_bias": d_c_bias}
    return d_a, d_hw, (d_hw @ W_hh, d_c * f), grads
