"""The one unroll and the one backpropagation through time, shared by every cell.

Forward over a sequence ``x (T, B, D)``:

1. all input projections in one GEMM: ``xw = x W_ihᵀ + b_ih (+ b_hh where it can be folded)``,
   ``(T, B, G·H)``;
2. per step, only the cell's ``step`` (one ``h W_hhᵀ`` and the gate arithmetic);
3. with a ``mask`` (padded batches, as PyTorch's packed sequences): past its length a
   sequence's state is frozen and its output is zero.

Backward walks the steps in reverse, calls the cell's ``step_backward``, stores the gate
gradients of all steps, then forms ``∂L/∂W_ih``, ``∂L/∂W_hh`` and ``∂L/∂x`` with one GEMM
each. Summing over the steps inside the GEMM is how the contributions of a weight reused at
every step add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import Cell


@dataclass
class Tape:
    """What :func:`unroll` keeps for :func:`unroll_backward`."""

    cell: Cell
    x: np.ndarray  # (T, B, D)
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool
    caches: list  # per step t (in time order), the cell's cache
    mask: np.ndarray | None  # (T, B, 1) bool, True where t < length
    reverse: bool


def unroll(cell: Cell, x, state0, W_ih, W_hh, b_ih=None, b_hh=None, mask=None, reverse=False):
    """Run ``cell`` over ``x (T, B, D)`` from ``state0`` (a tuple of ``(B, H)`` arrays).

    Returns ``(output (T, B, H), final_state, tape)``; ``reverse=True`` runs from t = T−1 down
    to 0 (the backward direction of a bidirectional layer); ``output[t]`` is always the
    state after reading ``x[t]``.
    """
    T, B, D = x.shape
    H = W_hh.shape[1]
    xw = (x.reshape(T * B, D) @ W_ih.T).reshape(T, B, -1)  # (T, B, G·H)
    b_step = b_hh
    if b_ih is not None:
        xw += b_ih
        if cell.fold_b_hh:
            xw += b_hh
            b_step = None
    output = np.empty((T, B, H), dtype=xw.dtype)
    caches = [None] * T
    state = tuple(state0)
    for t in range(T - 1, -1, -1) if reverse else range(T):
        new_state, caches[t] = cell.step(xw[t], state, W_hh, b_step)
        if mask is not None:
            keep = mask[t]  # (B, 1): past its length a sequence keeps its state
            new_state = tuple(np.where(keep, new, old) for new, old in zip(new_state, state))
            np.multiply(new_state[0], keep, out=output[t])
        else:
            output[t] = new_state[0]
        state = new_state
    return output, state, Tape(cell, x, W_ih, W_hh, b_ih is not None, caches, mask, reverse)


def unroll_backward(tape: Tape, d_output, d_state_final=None):
    """BPTT through an :func:`unroll`.

    ``d_output (T, B, H)`` is ∂L/∂output (``None`` for zeros); ``d_state_final`` the gradients
    of the final state (a tuple, entries may be ``None``).

    Returns ``(d_x (T, B, D), d_state0, grads)`` with ``grads`` keyed ``W_ih, W_hh`` and,
    with biases, ``b_ih, b_hh``.
    """
    cell, x, W_hh, mask = tape.cell, tape.x, tape.W_hh, tape.mask
    T, B, D = x.shape
    H, GH = W_hh.shape[1], W_hh.shape[0]
    dtype = np.result_type(x, W_hh)
    d_state = tuple(
        np.zeros((B, H), dtype) if (d_state_final is None or d is None) else np.asarray(d, dtype)
        for d in (d_state_final or (None,) * len(cell.state_names))
    )
    d_xw_all = np.empty((T, B, GH), dtype)
    d_hw_all = None  # allocated only for cells whose hidden-side gradient differs
    for t in range(T) if tape.reverse else range(T - 1, -1, -1):
        if d_output is not None:
            d_h = d_state[0] + (d_output[t] if mask is None else d_output[t] * mask[t])
            d_state = (d_h,) + d_state[1:]
        if mask is None:
            d_xw, d_hw, d_state = cell.step_backward(d_state, tape.caches[t], W_hh)
        else:
            keep = mask[t]
            d_xw, d_hw, d_prev = cell.step_backward(tuple(d * keep for d in d_state), tape.caches[t], W_hh)
            # a frozen step passes its state's gradient straight through
            d_state = tuple(dp + d * ~keep for dp, d in zip(d_prev, d_state))
        d_xw_all[t] = d_xw
        if d_hw is not d_xw:
            if d_hw_all is None:
                d_hw_all = np.empty_like(d_xw_all)
            d_hw_all[t] = d_hw
    d_xw_flat = d_xw_all.reshape(T * B, GH)
    d_hw_flat = d_xw_flat if d_hw_all is None else d_hw_all.reshape(T * B, GH)
    h_prev = np.stack([c["h_prev"] for c in tape.caches]).reshape(T * B, H)
    grads = {
        "W_ih": d_xw_flat.T @ x.reshape(T * B, D),
        "W_hh": cell.weight_hh_grad(d_hw_flat, h_prev, tape.caches),
    }
    if tape.has_bias:
        grads["b_ih"] = d_xw_flat.sum(axis=0)
        grads["b_hh"] = d_hw_flat.sum(axis=0)
    d_x = (d_xw_flat @ tape.W_ih).reshape(T, B, D)
    return d_x, d_state, grads
