r"""Fused gate arithmetic, compiled with numba: the same operations as the cells' NumPy code,
in the same order, in one pass over the batch instead of one pass per operation.

Each kernel here mirrors a NumPy function in a cell file (named in its docstring) operation for
operation, so both paths give the same numbers (bit for bit on the machines we test; the tests
hold them equal to float64 rounding). The transcendental functions (tanh, σ) stay in NumPy,
whose SIMD ``tanh`` is about ten times faster than a compiled scalar loop; what is fused is
the arithmetic around them, and the whole BPTT step, which has no transcendental at all.

Why: a NumPy LSTM step is ~30 separate passes over (B, 4H) arrays, each a Python call on one
thread; at B = 1 the calls dominate, at B = 64 the memory traffic does (see
``benchmarks/README.md`` for the measurements that justify the dependency).

Without numba, or with ``RNNLAB_NO_NUMBA=1`` in the environment, :data:`ENABLED` is False
and the cells run their NumPy code. :func:`disabled` switches the kernels off for a block
(the tests compare both paths). Kernels run only on C-contiguous float32/float64 arrays of one
dtype (:func:`usable`); anything else takes the NumPy path. Large batches use a parallel
version (numba's ``prange`` over the batch rows, numba's thread count).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import types

import numpy as np

ENABLED = os.environ.get("RNNLAB_NO_NUMBA", "") in ("", "0") and importlib.util.find_spec("numba") is not None
PARALLEL_MIN_SIZE = 32_768  # B·H from which the parallel version pays for its thread start-up
_KERNELS = {}  # name -> (serial, parallel) compiled functions, filled on first use
_PARALLEL = threading.Lock()


def describe() -> str:
    """One line for benchmark headers: which path the cells use."""
    if not ENABLED:
        return "NumPy (numba " + ("disabled by RNNLAB_NO_NUMBA" if importlib.util.find_spec("numba") else "not installed") + ")"
    import numba

    return f"numba {numba.__version__} fused kernels ({numba.get_num_threads()} threads, parallel from B·H ≥ {PARALLEL_MIN_SIZE})"


@contextlib.contextmanager
def disabled():
    """``with kernels.disabled(): ...`` runs the cells' NumPy code only."""
    global ENABLED
    saved, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = saved


def usable(*arrays) -> bool:
    """Whether the kernels may run on these arrays: enabled, and one float dtype for all."""
    if not ENABLED:
        return False
    dtype = arrays[0].dtype
    return dtype in _CONSTANTS and all(a.dtype == dtype for a in arrays)


_CONSTANTS = {np.dtype(t): (t(0.5), t(1.0)) for t in (np.float32, np.float64)}  # ½ and 1 in each dtype


def _run(name, rows, cols, *args):
    """Run kernel ``name`` on a (rows, cols) batch: the parallel version for a large batch, unless
    another thread is in a parallel kernel (numba's workqueue layer runs one at a time)."""
    serial, parallel = (_KERNELS or _compile())[name]
    if rows > 1 and rows * cols >= PARALLEL_MIN_SIZE and _PARALLEL.acquire(blocking=False):
        try:
            parallel(*args)
        finally:
            _PARALLEL.release()
    else:
        serial(*args)


# --- the entry points (called by the cells after :func:`usable`) -------------------------------


def lstm_gates_in(z, xw, gates):
    """``z += xw``; ``gates = z ⊙ [½, ½, 1, ½]`` (then NumPy's tanh). Mirrors the NumPy lines of
    :func:`rnnlab.cells.lstm.step`."""
    B, H = gates.shape[0], gates.shape[1] // 4
    _run("lstm_gates_in", B, H, z, xw, gates, _CONSTANTS[z.dtype][0])


def lstm_gates_out(gates, c_prev, c):
    """``gates = gates ⊙ [½, ½, 1, ½] + [½, ½, 0, ½]`` (σ from tanh) and ``C = f ⊙ C_prev + i ⊙ g``."""
    B, H = c.shape
    _run("lstm_gates_out", B, H, gates, c_prev, c, _CONSTANTS[c.dtype][0])


def lstm_backward(d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev):
    """The whole elementwise LSTM backward; mirrors the NumPy lines of
    :func:`rnnlab.cells.lstm.step_backward`."""
    B, H = d_h.shape
    _run("lstm_backward", B, H, d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev, _CONSTANTS[d_h.dtype][1])


def gru_gates_in(hw, xw, rz):
    """reset="after": ``a_rz = hw[:, :2H] + xw[:, :2H]`` (in place) and ``rz = a_rz ⊙ ½``."""
    B, H = rz.shape[0], rz.shape[1] // 2
    _run("gru_gates_in", B, H, hw, xw, rz, _CONSTANTS[hw.dtype][0])


def gru_gates_mid(rz, hw, xw, a_n):
    """``rz = (tanh + 1) ⊙ ½`` (σ, as :func:`rnnlab.functional.sigmoid`), ``a_n = r ⊙ hw_n + xw_n``."""
    B, H = a_n.shape
    _run("gru_gates_mid", B, H, rz, hw, xw, a_n, *_CONSTANTS[a_n.dtype])


def gru_gates_out(h_prev, rz, n, h):
    """``h = (h_prev − n) ⊙ z + n``."""
    B, H = h.shape
    _run("gru_gates_out", B, H, h_prev, rz, n, h)


def gru_backward(d_h, h_prev, r, z, n, hw_n, d_xw, d_hw, d_h_prev):
    """The elementwise GRU (reset="after") backward, up to ``d_h_prev = ∂L/∂h ⊙ z``; mirrors
    the NumPy lines of :func:`rnnlab.cells.gru.step_backward`."""
    B, H = d_h.shape
    _run("gru_backward", B, H, d_h, h_prev, r, z, n, hw_n, d_xw, d_hw, d_h_prev, _CONSTANTS[d_h.dtype][1])


def rnn_tanh_backward(d_h, h, d_z):
    """``d_z = (1 − h²) ⊙ d_h``; mirrors :func:`rnnlab.cells.rnn.step_backward`."""
    B, H = d_h.shape
    _run("rnn_tanh_backward", B, H, d_h, h, d_z, _CONSTANTS[d_h.dtype][1])


# --- the compiled loops ---------------------------------------------------------------------------
# Written as the NumPy code's operations, left to right, one element at a time; constants arrive
# as arguments of the arrays' dtype so float32 stays float32 (a literal 1.0 would be float64).


def _compile():
    """Compile the loops below (numba compiles each on its first call, or loads it from its cache
    next to this file): a serial and a parallel version of each."""
    global prange
    import numba

    prange = numba.prange  # the loops read this global when numba compiles them
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # workqueue first: OpenMP's spinning threads fight OpenBLAS's for the cores (measured 20×
        # slower on a busy 2-core machine); an explicit NUMBA_THREADING_LAYER still wins
        numba.config.THREADING_LAYER_PRIORITY = ["workqueue", "omp", "tbb"]
    for fn in (_lstm_gates_in, _lstm_gates_out, _lstm_backward, _gru_gates_in, _gru_gates_mid, _gru_gates_out,
               _gru_backward, _rnn_tanh_backward):
        parallel = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel")
        parallel.__qualname__ = fn.__qualname__ + "_parallel"  # its own cache entry (the cache key ignores flags)
        _KERNELS[fn.__name__[1:]] = (numba.njit(cache=True, fastmath=False)(fn),
                                     numba.njit(cache=True, fastmath=False, parallel=True)(parallel))
    return _KERNELS


prange = range  # numba.prange once compiled


def _lstm_gates_in(z, xw, gates, half):
    B, H = gates.shape[0], gates.shape[1] // 4
    for b in prange(B):
        for j in range(4 * H):
            z[b, j] = z[b, j] + xw[b, j]
        for j in range(2 * H):
            gates[b, j] = z[b, j] * half
        for j in range(2 * H, 3 * H):
            gates[b, j] = z[b, j]
        for j in range(3 * H, 4 * H):
            gates[b, j] = z[b, j] * half


def _lstm_gates_out(gates, c_prev, c, half):
    B, H = c.shape
    for b in prange(B):
        for j in range(2 * H):
            gates[b, j] = gates[b, j] * half + half
        for j in range(3 * H, 4 * H):
            gates[b, j] = gates[b, j] * half + half
        for j in range(H):
            c[b, j] = gates[b, H + j] * c_prev[b, j] + gates[b, j] * gates[b, 2 * H + j]


def _lstm_backward(d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev, one):
    B, H = d_h.shape
    for b in prange(B):
        for j in range(H):
            i, f, g, o = gates[b, j], gates[b, H + j], gates[b, 2 * H + j], gates[b, 3 * H + j]
            tc, dh = tanh_c[b, j], d_h[b, j]
            dc = (one - tc * tc) * o * dh + d_c_next[b, j]
            d_z[b, j] = dc * g * ((one - i) * i)
            d_z[b, H + j] = dc * c_prev[b, j] * ((one - f) * f)
            d_z[b, 2 * H + j] = dc * i * ((one - g) * (one + g))
            d_z[b, 3 * H + j] = dh * tc * ((one - o) * o)
            d_c_prev[b, j] = dc * f


def _gru_gates_in(hw, xw, rz, half):
    B, H = rz.shape[0], rz.shape[1] // 2
    for b in prange(B):
        for j in range(2 * H):
            hw[b, j] = hw[b, j] + xw[b, j]
            rz[b, j] = hw[b, j] * half


def _gru_gates_mid(rz, hw, xw, a_n, half, one):
    B, H = a_n.shape
    for b in prange(B):
        for j in range(2 * H):
            rz[b, j] = (rz[b, j] + one) * half
        for j in range(H):
            a_n[b, j] = rz[b, j] * hw[b, 2 * H + j] + xw[b, 2 * H + j]


def _gru_gates_out(h_prev, rz, n, h):
    B, H = h.shape
    for b in prange(B):
        for j in range(H):
            h[b, j] = (h_prev[b, j] - n[b, j]) * rz[b, H + j] + n[b, j]


def _gru_backward(d_h, h_prev, r, z, n, hw_n, d_xw, d_hw, d_h_prev, one):
    B, H = d_h.shape
    for b in prange(B):
        for j in range(H):
            dh, rr, zz, nn = d_h[b, j], r[b, j], z[b, j], n[b, j]
            one_minus_z = one - zz
            d_an = dh * one_minus_z * (one - nn * nn)
            d_ar = d_an * hw_n[b, j] * rr * (one - rr)
            d_az = (h_prev[b, j] - nn) * dh * zz * one_minus_z
            d_xw[b, j], d_xw[b, H + j], d_xw[b, 2 * H + j] = d_ar, d_az, d_an
            d_hw[b, j], d_hw[b, H + j], d_hw[b, 2 * H + j] = d_ar, d_az, d_an * rr
            d_h_prev[b, j] = dh * zz


def _rnn_tanh_backward(d_h, h, d_z, one):
    B, H = d_h.shape
    for b in prange(B):
        for j in range(H):
            d_z[b, j] = (one - h[b, j] * h[b, j]) * d_h[b, j]
