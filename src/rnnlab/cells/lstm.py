r"""LSTM cell (TP §2, Cours, Chapitre; Hochreiter & Schmidhuber 1997).

Course notation, one matrix per gate over the concatenation ``[h_{t-1}, x_t]``::

    f_t  = σ(W_f × [h_{t-1}, x_t] + b_f)      forget gate
    i_t  = σ(W_i × [h_{t-1}, x_t] + b_i)      input gate
    C̃_t  = tanh(W_C × [h_{t-1}, x_t] + b_C)   candidate values
    o_t  = σ(W_o × [h_{t-1}, x_t] + b_o)      output gate
    C_t  = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t           cell state
    h_t  = o_t ⊙ tanh(C_t)                     hidden state

Fused storage (PyTorch's ``nn.LSTM``): gates stacked in the order i, f, g (= C̃), o;
``weight_ih (4H, D)``, ``weight_hh (4H, H)``, so that ``W_f = [W_hh_f | W_ih_f]`` and
``b_f = b_ih_f + b_hh_f``.

With projections (Sak et al. 2014, ``LSTM(proj_size=P)``, as ``torch.nn.LSTM``): the cell's
output o_t ⊙ tanh(C_t) is projected to P < H values, ``h_t = W_hr (o_t ⊙ tanh(C_t))`` with
``weight_hr (P, H)``; h_t, of size P, is the state the gates read (``weight_hh (4H, P)``,
``W_f (H, P + D)`` over ``[h_{t-1}, x_t]``) and the output; C_t keeps its H values. The
projection follows :func:`step` in :mod:`rnnlab.sequence`; this file's step is unchanged.

Backward, for upstream ∂L/∂h_t and ∂L/∂C_t (from step t+1)::

    ∂L/∂o_t   = ∂L/∂h_t ⊙ tanh(C_t)
    ∂L/∂C_t  += ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(C_t))
    ∂L/∂f_t   = ∂L/∂C_t ⊙ C_{t-1}      ∂L/∂C_{t-1} = ∂L/∂C_t ⊙ f_t   (so ∂C_t/∂C_{t-1} = f_t)
    ∂L/∂i_t   = ∂L/∂C_t ⊙ C̃_t          ∂L/∂C̃_t    = ∂L/∂C_t ⊙ i_t
    ∂L/∂z_g   = ∂L/∂g ⊙ σ'(z_g) for g ∈ {i, f, o};   ∂L/∂z_C = ∂L/∂C̃_t ⊙ (1 − C̃_t²)
    ∂L/∂h_{t-1} = W_hhᵀ ∂L/∂z      and   ∂L/∂W_f = Σ_t ∂L/∂z_f,t [h_{t-1}, x_t]ᵀ
"""

from __future__ import annotations

import functools

import numpy as np

from .. import kernels
from ..i18n import say

NAME = "lstm"
LABEL = ("LSTM", "LSTM")
GATE_NAMES = ("i", "f", "g", "o")  # PyTorch's order; g is the course's C̃
STATE = ("h", "c")
FOLD_B_HH = True
FORGET_GATE = "f"  # a positive bias on f opens the cell path Π f from the start
DIRECT_LABEL = "Π f"
DIRECT_NOTE = ("direct cell path", "chemin direct de la cellule")
TORCH = {"LSTM": {}}
KERAS = ("i", "f", "g", "o")  # Keras's "c" is g
TRACE = "rnnlab.trace.cells.lstm"
PROJECTION = True  # h_t = W_hr (o_t ⊙ tanh(C_t)) may follow the step (Sak et al. 2014; rnnlab.sequence)
COLOR = "tab:blue"


def direct_factor(cache, H):
    """f_t: ∂C_t/∂C_{t-1} = diag(f_t), the cell's direct path (TP §2.3)."""
    return cache["gates"][:, H : 2 * H]


def workspace(T, B, H, dtype, empty=np.empty):
    """Arrays ``(T, B, ·)`` that :func:`rnnlab.sequence.unroll` fills step by step: slice ``[t]``
    of each is passed to :func:`step` as ``out``, so the cache of step t is a view into them
    (``empty`` allocates: the unroll passes one that reuses the buffers of dead tapes)."""
    return {key: empty((T, B, width * H), dtype) for key, width in
            (("z", 4), ("gates", 4), ("c", 1), ("tanh_c", 1), ("h", 1))}


def step(xw, state, W_hh, b_hh=None, out=None):
    """One step. ``xw (B, 4H)`` is W_ih x_t + b (already projected); ``state = (h_prev, c_prev)``.

    Returns ``((h, c), cache)``; the cache keeps the pre-activations ``z (B, 4H)`` and the gate
    values ``gates (B, 4H)`` in the order i, f, g, o. ``out`` (optional) holds slice ``[t]`` of
    every array of :func:`workspace`, to write into (the unroll passes it).
    """
    h_prev, c_prev = state
    B, H = h_prev.shape
    if out is None:
        out = {key: buf[0] for key, buf in workspace(1, B, H, np.result_type(xw, h_prev, W_hh)).items()}
    z, gates, c, tanh_c, h = out["z"], out["gates"], out["c"], out["tanh_c"], out["h"]
    np.matmul(h_prev, W_hh.T, out=z)  # (B, 4H)
    z += xw
    if b_hh is not None:
        z += b_hh
    i, f, g, o = activate_gates(z, gates)
    np.multiply(f, c_prev, out=c)  # C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    c += np.multiply(i, g, out=h)  # (h used as scratch)
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)  # h_t = o_t ⊙ tanh(C_t)
    cache = {"h_prev": h_prev, "c_prev": c_prev, "z": z, "gates": gates, "c": c, "tanh_c": tanh_c, "h": h}
    return (h, c), cache


def activate_gates(z, gates):
    """σ on the i, f, o blocks of the pre-activations ``z (B, 4H)`` and tanh on g = C̃, written
    into ``gates``; returns the views ``i, f, g, o``. One tanh over the 4H columns does both:
    σ(z) = ½ tanh(z/2) + ½."""
    H = z.shape[-1] // 4
    scale, shift = _gate_scales(H, z.dtype)
    np.multiply(z, scale, out=gates)
    np.tanh(gates, out=gates)
    gates *= scale
    gates += shift
    return gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]


def step_backward(d_state, cache, W_hh, out=None):
    """Backward of :func:`step`. ``d_state = (∂L/∂h_t, ∂L/∂C_t)``.

    Returns ``(d_z, d_z, (∂L/∂h_{t-1}, ∂L/∂C_{t-1}))`` with ``d_z (B, 4H)`` = ∂L/∂z in the order
    i, f, g, o (the same array serves the input and the hidden projection); ``out={"d_xw": …}``
    (optional) is the array to write ``d_z`` into.
    """
    d_h, d_c_next = d_state
    gates, tanh_c, c_prev = cache["gates"], cache["tanh_c"], cache["c_prev"]
    B, H = d_h.shape
    d_z = _slot(out, "d_xw", (B, 4 * H), d_h, gates)
    if kernels.usable(d_h, d_c_next, gates, tanh_c, c_prev, d_z):
        d_c_prev = np.empty_like(d_h)
        kernels.lstm_backward(d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev)  # the lines below, fused
        return d_z, d_z, (d_z @ W_hh, d_c_prev)
    i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
    # ∂L/∂C_t = ∂L/∂C_t (from t+1) + ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(C_t))
    d_c = np.multiply(tanh_c, tanh_c)
    np.subtract(1.0, d_c, out=d_c)
    d_c *= o
    d_c *= d_h
    d_c += d_c_next
    np.multiply(d_c, g, out=d_z[:, :H])  # ∂L/∂i
    np.multiply(d_c, c_prev, out=d_z[:, H : 2 * H])  # ∂L/∂f
    np.multiply(d_c, i, out=d_z[:, 2 * H : 3 * H])  # ∂L/∂C̃
    np.multiply(d_h, tanh_c, out=d_z[:, 3 * H :])  # ∂L/∂o
    # through the nonlinearities: σ' = s(1 − s) for i, f, o; tanh' = 1 − g² = (1 − g)(1 + g) for C̃
    slope = np.subtract(1.0, gates)  # (B, 4H)
    slope[:, : 2 * H] *= gates[:, : 2 * H]
    slope[:, 3 * H :] *= o
    slope[:, 2 * H : 3 * H] *= 1.0 + g
    d_z *= slope
    return d_z, d_z, (d_z @ W_hh, d_c * f)


# Below this many multiply-adds per step (B·4H², the product h_{t-1} W_hhᵀ), one compiled loop over
# the T steps (rnnlab.kernels) beats the Python calls of a step: B = 1, H = 100 is 40,000.
COMPILED_MAX_WORK = 50_000


def _compiled_pays(B, H, *arrays):
    return B * 4 * H * H <= COMPILED_MAX_WORK and kernels.usable(*arrays)


def unroll_compiled(xw, states, work, W_hh_rows, reverse):
    """All T steps of :func:`step` (no mask, no projection, b_hh folded into ``xw``) in one
    compiled loop (:func:`rnnlab.kernels.lstm_sequence`), when it pays; returns the caches
    :func:`step` would have returned, step by step (a :class:`rnnlab.sequence.StepCaches`), or
    ``None`` (the caller then runs the steps)."""
    h_slots, c_slots = states
    T, B, G = xw.shape
    H = G // 4
    if h_slots.shape[-1] != H or not _compiled_pays(B, H, xw, h_slots, c_slots, W_hh_rows):
        return None
    z, gates, tanh_c = work["z"], work["gates"], work["tanh_c"]
    scale, shift = _gate_scales(H, xw.dtype)
    W_hh_t = np.ascontiguousarray(W_hh_rows.T)
    kernels.lstm_sequence(xw, h_slots, c_slots, z, gates, tanh_c, W_hh_t, scale, shift, reverse)
    from ..sequence import StepCaches  # (sequence imports the cells)

    read, write = reverse, 1 - reverse
    return StepCaches(T, lambda t: {"h_prev": h_slots[t + read], "c_prev": c_slots[t + read], "z": z[t],
                                    "gates": gates[t], "c": c_slots[t + write], "tanh_c": tanh_c[t],
                                    "h": h_slots[t + write]})


def unroll_backward_compiled(tape, d_output, d_state, d_z_all):
    """BPTT through :func:`unroll_compiled`'s steps in one compiled loop
    (:func:`rnnlab.kernels.lstm_sequence_backward`), when it pays: fills ``d_z_all (T, B, 4H)`` and
    turns ``d_state = (∂L/∂h_T, ∂L/∂C_T)`` into the initial state's in place; returns whether it ran."""
    d_h, d_c = d_state
    T, B, _ = tape.x.shape
    H = tape.W_hh.shape[1]
    W_hh = np.ascontiguousarray(tape.W_hh)
    arrays = (d_h, d_c, W_hh, d_z_all) + (() if d_output is None else (d_output,))
    if d_h.shape != (B, H) or d_c.shape != (B, H) or not _compiled_pays(B, H, *arrays):
        return False
    gates, tanh_c = tape.work["gates"], tape.work["tanh_c"]  # (T, B, ·), in time order
    c_prev = tape.states[1][tape.reverse : T + tape.reverse]  # C_{t-1}, in time order
    d_out = None if d_output is None else np.ascontiguousarray(d_output)
    kernels.lstm_sequence_backward(d_out, d_h, d_c, gates, tanh_c, c_prev, W_hh, d_z_all, tape.reverse)
    return True


def _slot(out, key, shape, *like):
    """``out[key]`` (a preallocated array) if given, else a new array."""
    if out is not None and key in out:
        return out[key]
    return np.empty(shape, np.result_type(*like))


@functools.lru_cache(maxsize=64)
def _gate_scales(H, dtype):
    """``(scale, shift)``, each (4H,): ``scale ⊙ tanh(scale ⊙ z) + shift`` is
    σ(z) = ½ tanh(½ z) + ½ on the columns of i, f, o and tanh(z) on those of g."""
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1.0
    shift = np.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H : 3 * H] = 0.0
    scale.flags.writeable = shift.flags.writeable = False
    return scale, shift


# --- the course's notation, as a view of the fused parameters ----------------------------------

_COURSE_ORDER = ("i", "f", "C", "o")  # course subscripts in PyTorch's gate order


def params_from_course(W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o, suffix="_l0", W_hr=None):
    """Fused parameters from the course's per-gate matrices over ``[h_{t-1}, x_t]``.

    Each ``W_* (H, H + D)`` (a flat list for one neuron), ``b_* (H,)`` (or a scalar).
    ``W_f = [W_hh_f | W_ih_f]``: the first H columns multiply ``h_{t-1}``. The bias goes to
    ``bias_ih``; ``bias_hh`` is zero. With a projection ``W_hr (P, H)`` (h_t = W_hr (o_t ⊙
    tanh(C_t))), h_{t-1} has P values: each ``W_*`` is ``(H, P + D)``.
    """
    mats = {"f": W_f, "i": W_i, "C": W_C, "o": W_o}
    biases = {"f": b_f, "i": b_i, "C": b_C, "o": b_o}
    H = np.atleast_1d(np.asarray(b_f, dtype=np.float64)).shape[0]
    W = {k: np.asarray(v, dtype=np.float64).reshape(H, -1) for k, v in mats.items()}
    b = {k: np.asarray(v, dtype=np.float64).reshape(H) for k, v in biases.items()}
    W_hr = None if W_hr is None else np.atleast_2d(np.asarray(W_hr, dtype=np.float64))
    R = H if W_hr is None else W_hr.shape[0]  # the size of h_{t-1}
    _check_course_shapes(W, H, R, W_hr)
    out = {
        f"weight_ih{suffix}": np.concatenate([W[k][:, R:] for k in _COURSE_ORDER]),
        f"weight_hh{suffix}": np.concatenate([W[k][:, :R] for k in _COURSE_ORDER]),
        f"bias_ih{suffix}": np.concatenate([b[k] for k in _COURSE_ORDER]),
        f"bias_hh{suffix}": np.zeros(4 * H),
    }
    if W_hr is not None:
        out[f"weight_hr{suffix}"] = W_hr.copy()
    return out


def params_to_course(params, suffix="_l0"):
    """The inverse view: ``{"W_f", "b_f", "W_i", ...}`` with ``W_f = [W_hh_f | W_ih_f]`` and
    ``b_f = b_ih_f + b_hh_f``; with a projection, ``W_hr`` too (h_t = W_hr (o_t ⊙ tanh(C_t)))."""
    W_ih, W_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    H = W_hh.shape[0] // 4
    b = np.zeros(4 * H, dtype=W_ih.dtype)
    for key in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if key in params:
            b = b + params[key]
    out = {}
    for k, name in enumerate(_COURSE_ORDER):
        rows = slice(k * H, (k + 1) * H)
        out[f"W_{name}"] = np.concatenate([W_hh[rows], W_ih[rows]], axis=1)
        out[f"b_{name}"] = b[rows].copy()
    if f"weight_hr{suffix}" in params:
        out["W_hr"] = params[f"weight_hr{suffix}"].copy()
    return out


def _check_course_shapes(W, H, R, W_hr=None):
    from ..errors import ShapeError

    cols = {k: v.shape[1] for k, v in W.items()}
    if len(set(cols.values())) != 1 or cols["f"] <= R:
        got = ", ".join(f"W_{k} {W[k].shape}" for k in W)
        raise ShapeError(say(f"LSTM course weights: expected every W_* of shape ({H}, {R} + input_size), got "
                             + got,
                             f"LSTM, poids du cours : chaque W_* de forme ({H}, {R} + input_size) attendu, "
                             f"reçu {got}"))
    if W_hr is not None and not (W_hr.ndim == 2 and W_hr.shape[1] == H and 0 < R < H):
        raise ShapeError(say(f"LSTM course weights: expected W_hr of shape (P, {H}) with P < {H}, "
                             f"got {W_hr.shape}",
                             f"LSTM, poids du cours : W_hr de forme (P, {H}) avec P < {H} attendu, "
                             f"reçu {W_hr.shape}"))
