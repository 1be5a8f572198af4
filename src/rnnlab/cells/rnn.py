r"""Elman RNN cell (the course's "RNN simple", TP §1.1 and TD).

Course notation (TP)::

    z_t = W_xh × x_t + W_hh × h_{t-1} + b_h
    h_t = tanh(z_t)                  (or ReLU(z_t) with nonlinearity="relu")
    y_t = W_hy × h_t + b_y           (the output layer lives outside the cell)

The TD writes the same cell as ``h_t = tanh(U x_t + W h_{t-1})``: U = W_xh, W = W_hh.

Fused storage (PyTorch's ``nn.RNN``): ``weight_ih (H, D) = W_xh``, ``weight_hh (H, H) = W_hh``,
two biases ``bias_ih + bias_hh = b_h``.

Backward, for an upstream gradient ∂L/∂h_t (the sum of what comes from the output at t and
from step t+1)::

    ∂L/∂z_t     = ∂L/∂h_t ⊙ (1 − h_t²)          (ReLU: ⊙ [z_t > 0])
    ∂L/∂h_{t-1} = W_hhᵀ ∂L/∂z_t                   (in rows: dz_t @ W_hh)
    ∂L/∂W_hh   += ∂L/∂z_t h_{t-1}ᵀ,  ∂L/∂W_xh += ∂L/∂z_t x_tᵀ  (formed for all t at once in
                                                   :mod:`rnnlab.sequence`)
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..errors import ConfigError
from ..functional import relu_grad_from_output
from ..i18n import say

NAME = "rnn"
LABEL = ("RNN", "RNN")
GATE_NAMES = ("h",)  # one block of H rows in weight_ih/weight_hh
STATE = ("h",)
FOLD_B_HH = True  # bias_hh can be added to the input projection once for all steps
DIRECT_LABEL = "Π tanh'"  # the Chapitre's attenuation factor
LINEAR_VIEW = True  # ∂h_t/∂h_{t-1} = diag(tanh'(z_t)) W_hh: the course's linearised view (ex. 1.2) applies
TORCH = {"RNN": {}}  # torch.nn.RNN computes it, with the same nonlinearity
TORCH_OPTIONS = ("nonlinearity",)
KERAS = ("h",)  # SimpleRNN
TRACE = "rnnlab.trace.cells.rnn"
COLOR = "tab:red"


def direct_factor(cache, H):
    """tanh'(z_t) = 1 − h_t²: the slope in ∂h_t/∂h_{t-1} = diag(tanh'(z_t)) W_hh."""
    return 1.0 - cache["h"] ** 2


def workspace(T, B, H, dtype, empty=np.empty, nonlinearity="tanh"):
    """Arrays ``(T, B, H)`` that :func:`rnnlab.sequence.unroll` fills step by step: slice ``[t]``
    of each is passed to :func:`step` as ``out``, so the cache of step t is a view into them
    (``empty`` allocates: the unroll passes one that reuses the buffers of dead tapes)."""
    return {"z": empty((T, B, H), dtype), "h": empty((T, B, H), dtype)}


def step(xw, state, W_hh, b_hh=None, nonlinearity="tanh", out=None):
    """One step. ``xw (B, H)`` is W_xh x_t + b (already projected); ``state = (h_prev,)``.

    Returns ``((h,), cache)``; ``out`` (optional) holds slice ``[t]`` of the arrays of
    :func:`workspace`, to write into.
    """
    (h_prev,) = state
    if out is None:
        out = {key: buf[0]
               for key, buf in workspace(1, *h_prev.shape, np.result_type(xw, h_prev, W_hh)).items()}
    z, h = out["z"], out["h"]
    np.matmul(h_prev, W_hh.T, out=z)  # (B, H)
    z += xw
    if b_hh is not None:
        z += b_hh
    if nonlinearity == "tanh":
        np.tanh(z, out=h)
    else:
        np.maximum(z, 0.0, out=h)
    return (h,), {"h_prev": h_prev, "z": z, "h": h}


def step_backward(d_state, cache, W_hh, nonlinearity="tanh", out=None):
    """Backward of :func:`step`. ``d_state = (∂L/∂h_t,)``.

    Returns ``(d_xw, d_hw, (∂L/∂h_{t-1},))``; ``d_xw`` is ∂L/∂z_t and equals ``d_hw``;
    ``out={"d_xw": …}`` (optional) is the array to write it into.
    """
    (d_h,) = d_state
    h = cache["h"]
    d_z = _slot(out, "d_xw", h.shape, d_h, h)
    if nonlinearity == "tanh":
        np.multiply(h, h, out=d_z)  # ∂L/∂z_t = ∂L/∂h_t ⊙ (1 − h_t²)
        np.subtract(1.0, d_z, out=d_z)
        d_z *= d_h
    else:
        np.multiply(d_h, relu_grad_from_output(h), out=d_z)
    return d_z, d_z, (d_z @ W_hh,)


# Below this many multiply-adds per step (B·H², the product h_{t-1} W_hhᵀ), one compiled loop over
# the T steps (rnnlab.kernels) beats a Python call and a BLAS call per step: min-char-rnn's B = 1,
# H = 100 is 10,000. Above it, BLAS's blocked, threaded GEMM wins.
COMPILED_MAX_WORK = 20_000


def _compiled_pays(B, H, nonlinearity, *arrays):
    return nonlinearity == "tanh" and B * H * H <= COMPILED_MAX_WORK and kernels.usable(*arrays)


def unroll_compiled(xw, states, work, W_hh_rows, reverse, nonlinearity="tanh"):
    """All T steps of :func:`step` (tanh, no mask, b_hh folded into ``xw``) in one compiled loop
    (:func:`rnnlab.kernels.rnn_sequence`), when it pays; returns the caches :func:`step` would
    have returned, step by step (a :class:`rnnlab.sequence.StepCaches`), or ``None`` (the caller
    then runs the steps)."""
    (h_slots,) = states
    T, B, H = xw.shape
    if not _compiled_pays(B, H, nonlinearity, xw, h_slots, W_hh_rows):
        return None
    z = work["z"]
    kernels.rnn_sequence(xw, h_slots, z, np.ascontiguousarray(W_hh_rows.T), reverse)
    from ..sequence import StepCaches  # (sequence imports the cells)

    return StepCaches(T, lambda t: {"h_prev": h_slots[t + reverse], "z": z[t], "h": h_slots[t + 1 - reverse]})


def unroll_backward_compiled(tape, d_output, d_state, d_z_all, nonlinearity="tanh"):
    """BPTT through :func:`unroll_compiled`'s steps in one compiled loop
    (:func:`rnnlab.kernels.rnn_sequence_backward`), when it pays: fills ``d_z_all (T, B, H)`` with
    every ∂L/∂z_t and turns ``d_state = (∂L/∂h_T,)`` into ``(∂L/∂h_0,)`` in place; returns whether
    it ran."""
    (d_h,) = d_state
    T, B, _ = tape.x.shape
    H = tape.W_hh.shape[1]
    W_hh = np.ascontiguousarray(tape.W_hh)
    arrays = (d_h, W_hh, d_z_all) + (() if d_output is None else (d_output,))
    if d_h.shape != (B, H) or not _compiled_pays(B, H, nonlinearity, *arrays):
        return False
    h_all = tape.states[0][1 - tape.reverse : T + 1 - tape.reverse]  # (T, B, H): h_t, in time order
    kernels.rnn_sequence_backward(None if d_output is None else np.ascontiguousarray(d_output), d_h, h_all,
                                  W_hh, d_z_all, tape.reverse)
    return True


def _slot(out, key, shape, *like):
    """``out[key]`` (a preallocated array) if given, else a new array."""
    if out is not None and key in out:
        return out[key]
    return np.empty(shape, np.result_type(*like))


def check_options(nonlinearity="tanh"):
    """Raise :class:`ConfigError` unless ``nonlinearity`` is ``"tanh"`` or ``"relu"``."""
    if nonlinearity not in ("tanh", "relu"):
        raise ConfigError(say(f"RNN nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}",
                              f"RNN, « nonlinearity » : « tanh » ou « relu » attendu, "
                              f"reçu « {nonlinearity} »"))


# --- the course's notation, as a view of the fused parameters ----------------------------------


def params_from_course(W_xh, W_hh, b_h, suffix="_l0"):
    """Fused parameters from the course's ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``.

    The whole bias goes to ``bias_ih``; ``bias_hh`` is zero (only their sum matters).
    """
    W_hh = np.atleast_2d(np.asarray(W_hh, dtype=np.float64))
    H = W_hh.shape[0]
    W_xh = np.asarray(W_xh, dtype=np.float64).reshape(H, -1)
    b_h = np.asarray(b_h, dtype=np.float64).reshape(H)
    return {
        f"weight_ih{suffix}": W_xh.copy(),
        f"weight_hh{suffix}": W_hh.copy(),
        f"bias_ih{suffix}": b_h.copy(),
        f"bias_hh{suffix}": np.zeros(H),
    }


def params_to_course(params, suffix="_l0"):
    """The inverse view: ``{"W_xh", "W_hh", "b_h"}`` with ``b_h = bias_ih + bias_hh``."""
    W_ih = params[f"weight_ih{suffix}"]
    b = _bias_sum(params, suffix, W_ih.shape[0], W_ih.dtype)
    return {"W_xh": W_ih.copy(), "W_hh": params[f"weight_hh{suffix}"].copy(), "b_h": b}


def _bias_sum(params, suffix, rows, dtype):
    b = np.zeros(rows, dtype=dtype)
    for key in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if key in params:
            b = b + params[key]
    return b
