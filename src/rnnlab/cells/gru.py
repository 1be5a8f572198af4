r"""GRU cell in both variants (the Chapitre's, and PyTorch's).

The Chapitre (like Cho et al. 2014 and Keras ``reset_after=False``) applies the reset gate
*before* the hidden matmul; its update is the convention of Chung et al. 2014 and d2l (Cho et al.
write ``h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t``, PyTorch's z)::

    z_t = σ(W_z × [h_{t-1}, x_t] + b_z)              update gate
    r_t = σ(W_r × [h_{t-1}, x_t] + b_r)              reset gate
    h̃_t = tanh(W × [r_t ⊙ h_{t-1}, x_t] + b)          candidate
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

PyTorch (``nn.GRU``, cuDNN) stores gates in the order r, z, n, applies r *after* the hidden
matmul, and keeps its update gate the other way round (its z is the course's 1 − z)::

    r = σ(W_ir x + b_ir + W_hr h + b_hr)
    z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))       reset="after"
    n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)       reset="before" (the course's h̃)
    h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}

rnnlab stores both variants in PyTorch's layout and convention; the course's view is exact:
``W_z = −[W_hz | W_iz]``, ``b_z = −(b_iz + b_hz)`` (since 1 − σ(a) = σ(−a)), ``W_r = [W_hr | W_ir]``,
``W = [W_hn | W_in]``, ``b = b_in + b_hn`` (the last only for reset="before": with reset="after"
``b_hn`` sits inside ``r ⊙ (…)`` and cannot be merged).

Backward, for upstream ∂L/∂h_t (PyTorch's convention)::

    ∂L/∂n = ∂L/∂h_t ⊙ (1 − z)       ∂L/∂z = ∂L/∂h_t ⊙ (h_{t-1} − n)     direct: ∂L/∂h_t ⊙ z
    ∂L/∂a_n = ∂L/∂n ⊙ (1 − n²)
    after:  ∂L/∂r = ∂L/∂a_n ⊙ (W_hn h + b_hn);   the hidden-side gradient of n is ∂L/∂a_n ⊙ r
    before: ∂L/∂(r⊙h) = W_hnᵀ ∂L/∂a_n;  ∂L/∂r = ∂L/∂(r⊙h) ⊙ h_{t-1};  ∂L/∂h_{t-1} += ∂L/∂(r⊙h) ⊙ r
    ∂L/∂a_r = ∂L/∂r ⊙ r(1 − r),   ∂L/∂a_z = ∂L/∂z ⊙ z(1 − z)

Recurrent (variational) dropout: h_{t-1} also reaches h_t directly (z ⊙ h_{t-1}), and masking
that path would scale the memory by m at every step; so, as Keras does, only the state entering
W_hh is masked, ``h̃ = h_{t-1} ⊙ m`` (``h_in``): ``W_hh h̃`` (and ``r ⊙ h̃`` for reset="before")
while the interpolation keeps h_{t-1}. Backward multiplies the W_hh-side gradient by m.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .. import kernels
from ..functional import sigmoid
from ..i18n import say

NAME = "gru"
LABEL = ("GRU", "GRU")
GATE_NAMES = ("r", "z", "n")
STATE = ("h",)
DIRECT_PATH = True  # h_{t-1} reaches h_t through z ⊙ h_{t-1} too: recurrent masks go through h_in
DIRECT_LABEL = "Π z"
DIRECT_NOTE = ("PyTorch z", "z de PyTorch")
# torch.nn.GRU is reset="after"; rnnlab.interop.pytorch.CourseGRU is the course's reset="before"
TORCH = {"GRU": {"reset": "after"}, "CourseGRU": {"reset": "before"}}
KERAS = ("z", "r", "n")  # Keras's "h" is n; reset_after=True is reset="after"
TRACE = "rnnlab.trace.cells.gru"
COLOR = "tab:green"


def direct_factor(cache, H):
    """z_t (PyTorch's; the course's 1 − z_t): the direct term of ∂h_t/∂h_{t-1} ∋ diag(z_t)."""
    return cache["z"]


def fold_b_hh(reset="after"):
    """Whether bias_hh can be added to the input projection once for all steps: not for the
    n gate of reset="after", where b_hn is multiplied by r."""
    return reset == "before"


def check_options(reset="after"):
    """Raise :class:`ConfigError` unless ``reset`` is ``"after"`` or ``"before"``."""
    if reset not in ("after", "before"):
        raise ConfigError(say(f"GRU reset: expected 'after' (PyTorch) or 'before' (Cho et al.'s reset, the "
                              f"Chapitre), got {reset!r}",
                              f"GRU, « reset » : « after » (PyTorch) ou « before » (la réinitialisation de "
                              f"Cho et al., celle du Chapitre) attendu, reçu « {reset} »"))


def workspace(T, B, H, dtype, empty=np.empty, reset="after"):
    """Arrays ``(T, B, ·)`` that :func:`rnnlab.sequence.unroll` fills step by step: slice ``[t]``
    of each is passed to :func:`step` as ``out``, so the cache of step t is a view into them
    (``empty`` allocates: the unroll passes one that reuses the buffers of dead tapes)."""
    widths = {"hw": 3} if reset == "after" else {"a_rz": 2, "rh": 1}
    widths.update(rz=2, a_n=1, n=1, h=1)
    return {key: empty((T, B, w * H), dtype) for key, w in widths.items()}


def step(xw, state, W_hh, b_hh=None, reset="after", out=None, h_in=None):
    """One step. ``xw (B, 3H)`` is W_ih x_t + b (already projected); ``state = (h_prev,)``.

    Returns ``((h,), cache)``; the cache keeps the gates ``r, z, n`` and, for the backward,
    ``hw_n = W_hn h + b_hn`` (reset="after") or ``rh = r ⊙ h_{t-1}`` (reset="before"). ``out``
    (optional) holds slice ``[t]`` of every array of :func:`workspace`, to write into. ``h_in``
    (optional): the masked state h_{t-1} ⊙ m that W_hh reads under recurrent dropout.
    """
    (h_prev,) = state
    h_in = h_prev if h_in is None else h_in
    B, H = h_prev.shape
    if out is None:
        out = {key: buf[0]
               for key, buf in workspace(1, B, H, np.result_type(xw, h_prev, W_hh), reset=reset).items()}
    rz, a_n, n, h = out["rz"], out["a_n"], out["n"], out["h"]
    if reset == "after":
        hw = out["hw"]
        np.matmul(h_in, W_hh.T, out=hw)  # (B, 3H): the three hidden projections in one GEMM
        if b_hh is not None:
            hw += b_hh
        a_rz, hw_n = hw[:, : 2 * H], hw[:, 2 * H :]  # hw_n = W_hn h + b_hn
    else:
        a_rz = out["a_rz"]
        np.matmul(h_in, W_hh[: 2 * H].T, out=a_rz)  # (B, 2H)
        if b_hh is not None:
            a_rz += b_hh[: 2 * H]
    a_rz += xw[:, : 2 * H]
    sigmoid(a_rz, out=rz)
    r, z = rz[:, :H], rz[:, H:]
    cache = {"h_prev": h_prev, "h_in": h_in, "r": r, "z": z}
    if reset == "after":
        np.multiply(r, hw_n, out=a_n)  # r ⊙ (W_hn h + b_hn)
        cache["hw_n"] = hw_n
    else:
        rh = np.multiply(r, h_in, out=out["rh"])
        np.matmul(rh, W_hh[2 * H :].T, out=a_n)  # W_hn (r ⊙ h)
        if b_hh is not None:
            a_n += b_hh[2 * H :]
        cache["rh"] = rh
    a_n += xw[:, 2 * H :]
    np.tanh(a_n, out=n)
    np.subtract(h_prev, n, out=h)  # h = (1 − z) n + z h_{t-1} = n + z (h_{t-1} − n)
    h *= z
    h += n
    cache.update(a_rz=a_rz, a_n=a_n, n=n, h=h)
    return (h,), cache


def step_backward(d_state, cache, W_hh, reset="after", out=None, h_mask=None):
    """Backward of :func:`step`. ``d_state = (∂L/∂h_t,)``.

    Returns ``(d_xw (B, 3H), d_hw (B, 3H), (∂L/∂h_{t-1},))``: ``d_xw`` is the gradient of the
    input projection, ``d_hw`` that of the hidden projection (they differ in the n block for
    reset="after", where the hidden part is multiplied by r). ``out={"d_xw": …, "d_hw": …}``
    (optional) are the arrays to write them into. ``h_mask``: the recurrent dropout mask the
    forward's ``h_in`` was made with (the W_hh-side gradient goes through it).
    """
    (d_h,) = d_state
    h_prev, r, z, n = cache["h_prev"], cache["r"], cache["z"], cache["n"]

    def through_mask(d_h_in):  # ∂L/∂h_{t-1} from ∂L/∂h̃, h̃ = h_{t-1} ⊙ m
        return d_h_in if h_mask is None else d_h_in * h_mask

    B, H = d_h.shape
    d_xw = _slot(out, "d_xw", (B, 3 * H), d_h, n)
    if reset == "after" and kernels.usable(d_h, h_prev, r, z, n, cache["hw_n"], d_xw):
        d_hw, d_h_prev = _slot(out, "d_hw", (B, 3 * H), d_h, n), np.empty_like(d_h)
        # one fused kernel for the NumPy lines below
        kernels.gru_backward(d_h, h_prev, r, z, n, cache["hw_n"], d_xw, d_hw, d_h_prev)
        d_h_prev += through_mask(d_hw @ W_hh)
        return d_xw, d_hw, (d_h_prev,)
    d_ar, d_az, d_an = d_xw[:, :H], d_xw[:, H : 2 * H], d_xw[:, 2 * H :]
    one_minus_z = np.subtract(1.0, z)
    np.multiply(d_h, one_minus_z, out=d_an)  # ∂L/∂a_n = ∂L/∂h ⊙ (1 − z) ⊙ (1 − n²)
    d_an *= np.subtract(1.0, np.multiply(n, n))
    d_h_prev = d_h * z
    if reset == "after":
        np.multiply(d_an, cache["hw_n"], out=d_ar)  # ∂L/∂r = ∂L/∂a_n ⊙ (W_hn h + b_hn)
    else:
        d_rh = d_an @ W_hh[2 * H :]
        np.multiply(d_rh, cache["h_in"], out=d_ar)  # ∂L/∂r = ∂L/∂(r ⊙ h̃) ⊙ h̃ (h̃ = h_{t-1} unmasked)
        d_h_prev += through_mask(d_rh * r)
    d_ar *= r  # ∂L/∂a_r = ∂L/∂r ⊙ r (1 − r)
    d_ar *= np.subtract(1.0, r)
    np.subtract(h_prev, n, out=d_az)  # ∂L/∂a_z = ∂L/∂h ⊙ (h_{t-1} − n) ⊙ z (1 − z)
    d_az *= d_h
    d_az *= z
    d_az *= one_minus_z
    if reset == "after":
        d_hw = _slot(out, "d_hw", (B, 3 * H), d_h, n)
        d_hw[:, : 2 * H] = d_xw[:, : 2 * H]
        np.multiply(d_an, r, out=d_hw[:, 2 * H :])  # the hidden side of n is multiplied by r
        d_h_prev += through_mask(d_hw @ W_hh)
    else:
        d_hw = d_xw
        d_h_prev += through_mask(d_xw[:, : 2 * H] @ W_hh[: 2 * H])
    return d_xw, d_hw, (d_h_prev,)


def _slot(out, key, shape, *like):
    """``out[key]`` (a preallocated array) if given, else a new array."""
    if out is not None and key in out:
        return out[key]
    return np.empty(shape, np.result_type(*like))


def weight_hh_grad(d_hw, h_prev, caches, reset="after"):
    """∂L/∂W_hh for all steps at once: ``d_hw (N, 3H)``, ``h_prev (N, H)`` over the N = T·B
    rows. With reset="before" the n rows multiply ``r ⊙ h_{t-1}``, not ``h_{t-1}``."""
    if reset == "after":
        return d_hw.T @ h_prev
    H = h_prev.shape[1]
    rh = np.concatenate([c["rh"] for c in caches])  # (N, H)
    return np.concatenate([d_hw[:, : 2 * H].T @ h_prev, d_hw[:, 2 * H :].T @ rh])


# --- the course's notation, as a view of the fused parameters ----------------------------------


def params_from_course(W_z, b_z, W_r, b_r, W, b, suffix="_l0"):
    """Fused parameters (for ``reset="before"``) from the course's ``W_z, W_r, W (H, H + D)``
    over ``[h_{t-1}, x_t]`` (``W`` over ``[r ⊙ h_{t-1}, x_t]``) and biases ``(H,)``.

    The course's z is PyTorch's 1 − z, so the z rows are negated: σ(−a) = 1 − σ(a).
    """
    H = np.atleast_1d(np.asarray(b_z, dtype=np.float64)).shape[0]
    mats = {k: np.asarray(v, dtype=np.float64).reshape(H, -1) for k, v in (("r", W_r), ("z", W_z), ("n", W))}
    bias = {k: np.asarray(v, dtype=np.float64).reshape(H) for k, v in (("r", b_r), ("z", b_z), ("n", b))}
    if len({m.shape[1] for m in mats.values()}) != 1 or mats["z"].shape[1] <= H:
        from ..errors import ShapeError

        got = f"{mats['z'].shape}, {mats['r'].shape}, {mats['n'].shape}"
        raise ShapeError(say(f"GRU course weights: expected W_z, W_r, W of shape ({H}, {H} + input_size), "
                             f"got {got}",
                             f"GRU, poids du cours : W_z, W_r, W de forme ({H}, {H} + input_size) "
                             f"attendus, reçu {got}"))
    sign = {"r": 1.0, "z": -1.0, "n": 1.0}
    return {
        f"weight_ih{suffix}": np.concatenate([sign[k] * mats[k][:, H:] for k in GATE_NAMES]),
        f"weight_hh{suffix}": np.concatenate([sign[k] * mats[k][:, :H] for k in GATE_NAMES]),
        f"bias_ih{suffix}": np.concatenate([sign[k] * bias[k] for k in GATE_NAMES]),
        f"bias_hh{suffix}": np.zeros(3 * H),
    }


def params_to_course(params, suffix="_l0"):
    """The inverse view (exact for reset="before"): ``{"W_z", "b_z", "W_r", "b_r", "W", "b"}``."""
    W_ih, W_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    H = W_hh.shape[1]
    bias = np.zeros(3 * H, dtype=W_ih.dtype)
    for key in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if key in params:
            bias = bias + params[key]
    rows = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(GATE_NAMES)}
    full = {k: np.concatenate([W_hh[s], W_ih[s]], axis=1) for k, s in rows.items()}
    return {
        "W_z": -full["z"], "b_z": -bias[rows["z"]],
        "W_r": full["r"], "b_r": bias[rows["r"]].copy(),
        "W": full["n"], "b": bias[rows["n"]].copy(),
    }
