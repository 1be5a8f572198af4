"""The one unroll and the one backpropagation through time, shared by every cell.

Forward over a sequence ``x (T, B, D)``:

1. all input projections in one GEMM: ``xw = x W_ihᵀ + b_ih (+ b_hh where it can be folded)``,
   ``(T, B, G·H)``;
2. per step, only the cell's ``step`` (one ``h W_hhᵀ`` and the gate arithmetic), writing into
   buffers allocated once for all steps (the cell's ``workspace``, and the states ``(T + 1, B, H)``),
   so a step's cache is a set of views and nothing is allocated per step;
3. with a ``mask`` (padded batches, as PyTorch's packed sequences): past its length a
   sequence's state is frozen and its output is zero;
4. with an ``h_mask`` (recurrent, "variational" dropout, Gal & Ghahramani 2016): one mask m per
   sequence, the same at every step, on the state entering the recurrence, h̃_{t-1} = h_{t-1} ⊙ m,
   so that ∂L/∂W_hh = Σ_t ∂L/∂(W_hh h̃_{t-1}) h̃_{t-1}ᵀ and ∂L/∂h_{t-1} = m ⊙ ∂L/∂h̃_{t-1};
5. with ``cell_params`` (the layer-normalised LSTM's gains): passed to every step, their
   gradients summed over the steps; a cell that transforms its input projection (LN(W_ih x_t))
   does it for all steps at once before the loop;
6. with ``W_hr`` (an LSTM with projections, Sak et al. 2014, as ``torch.nn.LSTM(proj_size=P)``):
   the cell's output m_t = o_t ⊙ tanh(C_t) (H) is projected, h_t = W_hr m_t (P), and h_t is
   the state the next step reads and the output; backward, ∂L/∂m_t = W_hrᵀ ∂L/∂h_t and
   ∂L/∂W_hr = Σ_t ∂L/∂h_t m_tᵀ (one GEMM over all steps).

Backward walks the steps in reverse, calls the cell's ``step_backward``, which writes its gate
gradients into one ``(T, B, G·H)`` array, then forms ``∂L/∂W_ih``, ``∂L/∂W_hh`` and ``∂L/∂x``
with one GEMM each. Summing over the steps inside the GEMM is how the contributions of a weight
reused at every step add up.

The gate arithmetic inside ``step``/``step_backward`` runs as compiled fused loops when numba is
installed (:mod:`rnnlab.kernels`, the same operations in the same order) and as NumPy otherwise.
"""

from __future__ import annotations

import operator
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import threads
from .cells import Cell
from .i18n import say


class SpareArrays:
    """The big buffers of tapes that no one holds any more, handed to the next unroll of the
    same shapes (in training, the next step's). Fresh memory costs a page fault per page on its
    first write (about 20 ms per 50 MB on the benchmark machine); reused memory does not.

    An array is kept only if nothing else refers to it (no view survives its tape), at most
    ``max_bytes`` in all, oldest dropped first; arrays under ``min_bytes`` are left to malloc.
    """

    def __init__(self, max_bytes=512 << 20, min_bytes=1 << 20):
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self.arrays = OrderedDict()  # (shape, dtype) -> [arrays]
        self.nbytes = 0
        self.lock = threading.Lock()  # layers may run in several threads

    def empty(self, shape, dtype):
        """``np.empty(shape, dtype)``, from the spares when one fits."""
        with self.lock:
            stack = self.arrays.get((tuple(shape), np.dtype(dtype)))
            if stack:
                array = stack.pop()
                self.nbytes -= array.nbytes
                return array
        return np.empty(shape, dtype)

    def keep(self, arrays):
        """Called when a tape dies, with the list of the arrays it owned."""
        with self.lock:
            while arrays:
                array = arrays.pop()
                # 2 references: the name `array` and getrefcount's argument; more means a live view
                if array.nbytes >= self.min_bytes and sys.getrefcount(array) <= 2:
                    self.arrays.setdefault((array.shape, array.dtype), []).append(array)
                    self.arrays.move_to_end((array.shape, array.dtype))
                    self.nbytes += array.nbytes
            while self.nbytes > self.max_bytes:
                _, stack = self.arrays.popitem(last=False)
                self.nbytes -= sum(a.nbytes for a in stack)

    def clear(self):
        """Let go of every spare array."""
        with self.lock:
            self.arrays.clear()
            self.nbytes = 0


SPARE = SpareArrays()


class StepCaches(Sequence):
    """The caches of the T steps a cell's compiled loop ran (``unroll_compiled``), each built when
    read: ``make(t)`` is step t's dict of views, as the cell's ``step`` would have returned it.
    Built at every forward, T dicts of views would cost more than the loop at min-char-rnn's size;
    only a per-step backward and :meth:`rnnlab.layers.Recurrent.step_caches` read them."""

    def __init__(self, T: int, make):
        self._T, self._make = T, make

    def __len__(self) -> int:
        return self._T

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self._make(i) for i in range(*t.indices(self._T))]
        t = operator.index(t)
        if not -self._T <= t < self._T:
            raise IndexError(say(f"step {t}: expected 0..{self._T - 1}",
                                 f"pas {t} : 0..{self._T - 1} attendu"))
        return self._make(t % self._T)


@dataclass
class Tape:
    """What :func:`unroll` keeps for :func:`unroll_backward`."""

    cell: Cell
    x: np.ndarray  # (T, B, D)
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool
    caches: Sequence  # per step t (in time order), the cell's cache (views into the unroll's buffers)
    mask: np.ndarray | None  # (T, B, 1) bool, True where t < length
    reverse: bool
    h_prev: np.ndarray | None = None  # (T, B, H): the state h_{t-1} that W_hh read at step t, in time order
    h_mask: np.ndarray | None = None  # (B, R): the recurrent dropout mask (R = P with a projection, else H)
    cell_params: dict = field(default_factory=dict)  # the cell's own parameters (names without suffix)
    input_cache: dict | None = None  # what the cell's input transform keeps (LN of W_ih x_t)
    W_hr: np.ndarray | None = None  # (P, H): the projection of h, or None
    m: np.ndarray | None = None  # (T, B, H): the unprojected outputs m_t = o_t ⊙ tanh(C_t), in time order
    work: dict = field(default_factory=dict)  # the cell's workspace: (T, B, ·) per key, in time order
    states: list = field(default_factory=list)  # per state, its slots (T + 1, B, ·) (see unroll)
    owned: list = field(default_factory=list)  # its buffers, given to SPARE when the tape dies

    def __del__(self):
        # drop the views first, so the buffers can be kept
        self.caches, self.h_prev, self.m, self.work, self.states = [], None, None, {}, []
        try:
            SPARE.keep(self.owned)
        except Exception:  # during interpreter shutdown the module may be half torn down
            pass


def unroll(cell: Cell, x, state0, W_ih, W_hh, b_ih=None, b_hh=None, mask=None, reverse=False, h_mask=None,
           cell_params=None, W_hr=None):
    """Run ``cell`` over ``x (T, B, D)`` from ``state0`` (a tuple of ``(B, H)`` arrays).

    Returns ``(output (T, B, H), final_state, tape)``; ``reverse=True`` runs from t = T−1 down
    to 0 (the backward direction of a bidirectional layer); ``output[t]`` is always the
    state after reading ``x[t]``. ``h_mask (B, H)``: the recurrent dropout mask (already scaled
    by 1/(1 − p)); ``cell_params``: the cell's own parameters (:attr:`Cell.extra_params`);
    ``W_hr (P, H)``: project the output h_t = W_hr m_t (then h is ``(B, P)``, output ``(T, B, P)``).
    """
    threads.on_compute()  # the thread knob: set on first use, then follows the machine's load
    T, B, D = x.shape
    H = W_hh.shape[1] if W_hr is None else W_hr.shape[1]  # the cell's width (W_hh reads the P of h)
    cell_params = cell_params or {}
    # 1. all input projections in one GEMM
    xw = SPARE.empty((T, B, W_ih.shape[0]), np.result_type(x, W_ih))  # (T, B, G·H)
    np.matmul(x.reshape(T * B, D), W_ih.T, out=xw.reshape(T * B, -1))
    input_cache = None
    if hasattr(cell.module, "normalise_input"):
        xw, input_cache = cell.module.normalise_input(xw, cell_params)
    b_step = b_hh
    if b_ih is not None:
        xw += b_ih
        if cell.fold_b_hh:
            xw += b_hh
            b_step = None
    # 2. buffers: the cell's workspace (its caches are views of slice [t]) and the states; the
    #    state read by step t sits in slot t + reverse, the state it writes in slot t + 1 − reverse
    dtype = np.result_type(xw, W_hh, *state0)
    work = cell.module.workspace(T, B, H, dtype, empty=SPARE.empty, **cell.options)
    states = [SPARE.empty((T + 1, B, s0.shape[-1]), dtype) for s0 in state0]  # (T + 1, B, H or P) each
    for slots, s0 in zip(states, state0):
        slots[T if reverse else 0] = s0
    R = states[0].shape[-1]  # the width of h: P with a projection, else H
    h_tilde = None if h_mask is None else SPARE.empty((T, B, R), dtype)  # h_{t-1} ⊙ m, what W_hh reads
    W_hh_rows = np.ascontiguousarray(W_hh.T).T  # same values; makes the per-step h W_hhᵀ a plain GEMM
    step, options = cell.module.step, dict(cell.options)
    if cell_params:
        options["params"] = cell_params
    caches = [None] * T
    output = np.empty((T, B, R), dtype) if mask is not None else None
    projected = None if W_hr is None or mask is None else np.empty((T, B, R), dtype)  # h_t before masking
    # 3. the steps
    # where step t writes: slice [t] of the workspace and, without a mask, the new state's slot
    targets = [(key, buf, 0) for key, buf in work.items()]
    if mask is None:  # (with a projection the step's h is m_t, kept in the workspace; h_t is written below)
        targets += [(name, slots, 1 - reverse) for name, slots in zip(cell.state_names, states)
                    if W_hr is None or name != cell.state_names[0]]
    # a cell may run all T steps in one compiled loop, where Python's cost per step would dominate
    compiled = getattr(cell.module, "unroll_compiled", None)
    steps = range(T - 1, -1, -1) if reverse else range(T)
    if compiled and mask is None and h_mask is None and W_hr is None and b_step is None and not cell_params:
        ran = compiled(xw, states, work, W_hh_rows, reverse, **cell.options)
        if ran is not None:  # the loop ran: its caches, and no step left to run here
            caches, steps = ran, ()
    for t in steps:
        read, write = t + reverse, t + 1 - reverse
        state = tuple([slots[read] for slots in states])
        out = {key: buf[t + shift] for key, buf, shift in targets}
        if h_mask is None:
            new_state, caches[t] = step(xw[t], state, W_hh_rows, b_step, out=out, **options)
        else:
            h_in = np.multiply(state[0], h_mask, out=h_tilde[t])
            if cell.direct_path:  # the cell masks only what enters W_hh
                new_state, caches[t] = step(xw[t], state, W_hh_rows, b_step, out=out, h_in=h_in, **options)
            else:  # h_{t-1} enters the cell only through W_hh
                new_state, caches[t] = step(xw[t], (h_in, *state[1:]), W_hh_rows, b_step, out=out, **options)
        if W_hr is not None:  # h_t = W_hr m_t
            h_t = states[0][write] if mask is None else projected[t]
            np.matmul(new_state[0], W_hr.T, out=h_t)  # (B, P)
            new_state = (h_t, *new_state[1:])
        if mask is not None:
            keep = mask[t]  # (B, 1): past its length a sequence keeps its state (unmasked)
            for slots, new, old in zip(states, new_state, state):
                slots[write] = np.where(keep, new, old)
            np.multiply(new_state[0], keep, out=output[t])
    if output is None:
        output = states[0][1 - reverse : T + 1 - reverse].copy()  # a copy: the tape keeps its own
    final = tuple(slots[0 if reverse else T].copy() for slots in states)
    h_prev = states[0][reverse : T + reverse] if h_mask is None else h_tilde
    owned = [xw, *work.values(), *states] + ([] if h_tilde is None else [h_tilde])
    m = None if W_hr is None else work["h"]  # the cell's own h_t buffer holds m_t
    return output, final, Tape(cell, x, W_ih, W_hh, b_ih is not None, caches, mask, reverse, h_prev, h_mask,
                               cell_params, input_cache, W_hr, m, work, states, owned)


def unroll_backward(tape: Tape, d_output, d_state_final=None):
    """BPTT through an :func:`unroll`.

    ``d_output (T, B, H)`` is ∂L/∂output (``None`` for zeros); ``d_state_final`` the gradients
    of the final state (a tuple, entries may be ``None``).

    Returns ``(d_x (T, B, D), d_state0, grads)`` with ``grads`` keyed ``W_ih, W_hh``, with
    biases ``b_ih, b_hh``, with a projection ``W_hr``, and the names of the cell's own parameters.
    """
    threads.on_compute()
    cell, x, W_hh, mask, h_mask, W_hr = tape.cell, tape.x, tape.W_hh, tape.mask, tape.h_mask, tape.W_hr
    T, B, D = x.shape
    R, GH = W_hh.shape[1], W_hh.shape[0]  # R: the width of h (P with a projection)
    H = R if W_hr is None else W_hr.shape[1]
    widths = (R,) + (H,) * (len(cell.state_names) - 1)
    dtype = np.result_type(x, W_hh, *(() if d_output is None else (d_output,)))
    d_state = tuple(  # our own arrays: the loop adds into them in place
        np.zeros((B, w), dtype) if (d_state_final is None or d is None) else np.array(d, dtype)
        for w, d in zip(widths, d_state_final or (None,) * len(cell.state_names))
    )
    step_backward, options = cell.module.step_backward, dict(cell.options)
    param_grads = {name: np.zeros_like(value)  # summed over steps
                   for name, value in tape.cell_params.items()}
    if tape.cell_params:
        options.update(params=tape.cell_params, param_grads=param_grads)
    masked_in_cell = h_mask is not None and cell.direct_path
    if masked_in_cell:
        options["h_mask"] = h_mask
    d_xw_all = SPARE.empty((T, B, GH), dtype)  # every step's gate gradients, for the GEMMs below
    tape.owned.append(d_xw_all)
    d_hw_all = None  # allocated only for cells whose hidden-side gradient differs
    d_h_all = None if W_hr is None else np.empty((T, B, R), dtype)  # ∂L/∂h_t, for ∂L/∂W_hr
    steps = range(T) if tape.reverse else range(T - 1, -1, -1)
    compiled = getattr(cell.module, "unroll_backward_compiled", None)
    if compiled and mask is None and h_mask is None and W_hr is None and not tape.cell_params:
        if compiled(tape, d_output, d_state, d_xw_all, **cell.options):
            steps = ()  # d_xw_all and d_state (now ∂L/∂h_0) are filled
    for t in steps:
        if d_output is not None:
            d_h = d_state[0]  # ∂L/∂h_t: from step t+1, plus from the output y_t
            d_h += d_output[t] if mask is None else d_output[t] * mask[t]
        out = {"d_xw": d_xw_all[t]} if d_hw_all is None else {"d_xw": d_xw_all[t], "d_hw": d_hw_all[t]}
        upstream = d_state if mask is None else tuple(d * mask[t] for d in d_state)
        if W_hr is not None:  # ∂L/∂m_t = W_hrᵀ ∂L/∂h_t
            d_h_all[t] = upstream[0]
            upstream = (upstream[0] @ W_hr, *upstream[1:])
        d_xw, d_hw, d_prev = step_backward(upstream, tape.caches[t], W_hh, out=out, **options)
        if h_mask is not None and not masked_in_cell:
            d_prev = (d_prev[0] * h_mask, *d_prev[1:])  # the step read h̃_{t-1} = h_{t-1} ⊙ m
        # a frozen step passes its state's gradient straight through
        d_state = d_prev if mask is None else tuple(dp + d * ~mask[t] for dp, d in zip(d_prev, d_state))
        if d_hw is not d_xw and d_hw_all is None:
            d_hw_all = SPARE.empty((T, B, GH), dtype)
            tape.owned.append(d_hw_all)
            d_hw_all[t] = d_hw
    d_xw_flat = d_xw_all.reshape(T * B, GH)
    d_hw_flat = d_xw_flat if d_hw_all is None else d_hw_all.reshape(T * B, GH)
    h_prev = tape.h_prev.reshape(T * B, R)
    grads = {"W_hh": cell.weight_hh_grad(d_hw_flat, h_prev, tape.caches)}
    if W_hr is not None:
        grads["W_hr"] = d_h_all.reshape(T * B, R).T @ tape.m.reshape(T * B, H)  # Σ_t ∂L/∂h_t m_tᵀ
    if tape.has_bias:
        grads["b_ih"] = d_xw_flat.sum(axis=0)
        # a folded b_hh was added where b_ih was; otherwise it sits on the hidden side
        grads["b_hh"] = grads["b_ih"].copy() if cell.fold_b_hh else d_hw_flat.sum(axis=0)
    d_proj = d_xw_flat  # ∂L/∂(x W_ihᵀ), through the cell's input transform if it has one
    if tape.input_cache is not None:
        d_proj = cell.module.normalise_input_backward(
            d_xw_all, tape.input_cache, tape.cell_params, param_grads).reshape(T * B, GH)
    grads["W_ih"] = d_proj.T @ x.reshape(T * B, D)
    grads.update(param_grads)
    d_x = (d_proj @ tape.W_ih).reshape(T, B, D)
    return d_x, d_state, grads
