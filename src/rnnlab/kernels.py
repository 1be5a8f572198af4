r"""The elementwise part of each BPTT step, compiled with numba: the same operations as the
cells' NumPy code, in the same order, in one pass over the batch instead of one pass (and one
Python call, and often one temporary array) per operation.

Each kernel mirrors the NumPy lines of a cell's ``step_backward`` operation for operation, so
both paths give the same numbers (bit for bit here; the tests hold them equal to float64
rounding). Only the backward of the LSTM and of the GRU (reset="after") is fused per step: it is
pure arithmetic (the forward saved the gate values), which a compiled loop vectorises. The
forward's tanh and σ stay in NumPy, whose SIMD ``tanh`` is ~10–40× faster than numba's scalar
one (no SVML in the pip wheels); fusing the forward's remaining arithmetic measured within noise
of NumPy and cost compile time.

The Elman RNN (tanh) and the LSTM are the exception, for small problems: where a step's product
h_{t-1} W_hhᵀ is a few ten thousand multiply-adds or fewer (min-char-rnn: B = 1, H = 100), the
Python calls and the BLAS call of a step cost more than its arithmetic, so :func:`rnn_sequence`,
:func:`lstm_sequence` and their backward run all T steps, products included, in one compiled loop
(``COMPILED_MAX_WORK`` in :mod:`rnnlab.cells.rnn` and :mod:`rnnlab.cells.lstm` says where; the
scalar tanh is then the price). Their products sum in another order than BLAS's, so they agree
with the NumPy path to float64 rounding, not bit for bit.

The optimisers' updates (:func:`adam_update`, :func:`adagrad_update`) are the same kind of
kernel: the NumPy lines of :mod:`rnnlab.optim`, one element at a time in one pass instead of six
to eight passes and their Python calls, bit for bit the same numbers. So is the embedding's
backward (:func:`embedding_backward`): the sum over repeated ids, row after row.

Without numba, or with ``RNNLAB_NO_NUMBA=1`` in the environment, :data:`ENABLED` is False and
the cells run their NumPy code; :func:`disabled` switches the kernels off for a block (the
tests compare both paths). Kernels run on float32/float64 arrays of one dtype
(:func:`usable`); anything else takes the NumPy path. A batch with B·H ≥
:data:`PARALLEL_MIN_SIZE` runs a parallel version (``prange`` over the batch rows, workqueue
threads) when rnnlab computes with more than one thread (:mod:`rnnlab.threads`: one knob for the
BLAS and these kernels). ``benchmarks/README.md`` has the measurements.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import types

import numpy as np

from . import threads

ENABLED = os.environ.get("RNNLAB_NO_NUMBA", "") in ("", "0") and importlib.util.find_spec("numba") is not None
PARALLEL_MIN_SIZE = 32_768  # B·H from which the parallel version pays for its thread start-up
_KERNELS = {}  # name -> (serial, parallel) compiled functions, filled on first use
_PARALLEL = threading.Lock()


def describe() -> str:
    """One line for benchmark headers: which path the cells use."""
    if not ENABLED:
        return ("NumPy (numba "
                + ("disabled by RNNLAB_NO_NUMBA" if importlib.util.find_spec("numba") else "not installed")
                + ")")
    import numba

    return (f"numba {numba.__version__} fused kernels (parallel from B·H ≥ {PARALLEL_MIN_SIZE} "
            f"on more than one thread: {threads.policy()})")


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
    return dtype in _ONE and all(a.dtype == dtype for a in arrays)


_ONE = {np.dtype(np.float32): np.float32(1.0), np.dtype(np.float64): np.float64(1.0)}  # 1 in each dtype


def loaded() -> bool:
    """Whether the kernels are compiled (numba imported, its threading layer chosen)."""
    return bool(_KERNELS)


def _run(name, rows, cols, *args):
    """Run kernel ``name`` on a (rows, cols) batch: the parallel version for a large batch when
    rnnlab computes with more than one thread (:mod:`rnnlab.threads`), unless another thread is
    in a parallel kernel (numba's workqueue layer runs one at a time)."""
    try:
        _call(name, rows, cols, *args)
    except OSError:  # numba could not write its cache beside this file (a full disk, a size limit)
        _compile(cache=False)
        _call(name, rows, cols, *args)


def _call(name, rows, cols, *args):
    serial, parallel = (_KERNELS or _compile())[name]
    n = threads.get_threads()
    if n > 1 and rows > 1 and rows * cols >= PARALLEL_MIN_SIZE and _PARALLEL.acquire(blocking=False):
        try:
            threads.numba_threads(n)  # numba's count is per thread: this one's follows the knob
            parallel(*args)
        finally:
            _PARALLEL.release()
    else:
        serial(*args)


# --- the entry points (called by the cells after :func:`usable`) -------------------------------


def lstm_backward(d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev):
    """The whole elementwise LSTM backward; mirrors the NumPy lines of
    :func:`rnnlab.cells.lstm.step_backward`."""
    B, H = d_h.shape
    _run("lstm_backward", B, H, d_h, d_c_next, gates, tanh_c, c_prev, d_z, d_c_prev, _ONE[d_h.dtype])


def gru_backward(d_h, h_prev, r, z, n, hw_n, d_xw, d_hw, d_h_prev):
    """The elementwise GRU (reset="after") backward, up to ``d_h_prev = ∂L/∂h ⊙ z``; mirrors
    the NumPy lines of :func:`rnnlab.cells.gru.step_backward`."""
    B, H = d_h.shape
    _run("gru_backward", B, H, d_h, h_prev, r, z, n, hw_n, d_xw, d_hw, d_h_prev, _ONE[d_h.dtype])


def rnn_sequence(xw, states, z, W_hh_t, reverse):
    """The T steps of the Elman RNN (tanh, no mask) in one compiled loop: for each t,
    ``z_t = h_{t-1} W_hhᵀ + xw_t`` and ``h_t = tanh(z_t)``, h_{t-1} read from slot ``t + reverse`` of
    ``states (T + 1, B, H)`` and h_t written to slot ``t + 1 − reverse``; ``W_hh_t`` is W_hhᵀ,
    contiguous. The per-step loop of :func:`rnnlab.sequence.unroll`, without its Python calls."""
    _serial("rnn_sequence")(xw, states, z, W_hh_t, int(reverse))


def rnn_sequence_backward(d_output, d_h, h_all, W_hh, d_z, reverse):
    """BPTT through :func:`rnn_sequence`: ∂L/∂z_t = (∂L/∂h_t + ∂L/∂y_t) ⊙ (1 − h_t²) into ``d_z[t]``,
    then ∂L/∂h_{t-1} = ∂L/∂z_t W_hh; ``d_h (B, H)`` holds ∂L/∂h at the end on entry and
    ∂L/∂h_0 on return; ``h_all (T, B, H)`` holds every h_t; ``d_output`` may be ``None``."""
    has_output = d_output is not None
    _serial("rnn_sequence_backward")(d_output if has_output else d_z, has_output, d_h, h_all, W_hh, d_z,
                                      int(reverse), _ONE[d_h.dtype])


def lstm_sequence(xw, h_slots, c_slots, z, gates, tanh_c, W_hh_t, scale, shift, reverse):
    """The T steps of the LSTM (no mask, no projection) in one compiled loop; mirrors
    :func:`rnnlab.cells.lstm.step`: ``z_t = h_{t-1} W_hhᵀ + xw_t``, the gates
    ``scale ⊙ tanh(scale ⊙ z_t) + shift`` (σ on i, f, o; tanh on g), ``C_t = f ⊙ C_{t-1} + i ⊙ g``,
    ``h_t = o ⊙ tanh(C_t)``; states in the slots of ``h_slots``, ``c_slots (T + 1, B, H)`` as in
    :func:`rnn_sequence`, ``z``, ``gates (T, B, 4H)`` and ``tanh_c (T, B, H)`` filled for the backward."""
    _serial("lstm_sequence")(xw, h_slots, c_slots, z, gates, tanh_c, W_hh_t, scale, shift, int(reverse))


def lstm_sequence_backward(d_output, d_h, d_c, gates, tanh_c, c_prev, W_hh, d_z, reverse):
    """BPTT through :func:`lstm_sequence`: at each step (from the last) ∂L/∂h_t += ∂L/∂y_t, the
    elementwise backward of :func:`_lstm_backward` into ``d_z[t]``, then ∂L/∂h_{t-1} = ∂L/∂z_t W_hh
    and ∂L/∂C_{t-1} = ∂L/∂C_t ⊙ f_t; ``d_h``, ``d_c (B, H)`` hold the final state's gradients on
    entry and the initial state's on return; ``c_prev (T, B, H)`` is C_{t-1} of every step."""
    has_output = d_output is not None
    _serial("lstm_sequence_backward")(d_output if has_output else d_c[None], has_output, d_h, d_c, gates,
                                       tanh_c, c_prev, W_hh, d_z, int(reverse), _ONE[d_h.dtype])


def adam_update(p, g, m, v, v_max, decay, l2, beta1, beta2, eps, step_size, bias2_sqrt, amsgrad):
    """One Adam(W) update of one parameter in one pass; mirrors the NumPy lines of
    :meth:`rnnlab.optim.Adam._update` (θ ← θ·decay when ``decay`` is not None, g ← g + λθ when
    ``l2``, the moments, then θ ← θ − step_size · m / (√v / bias2_sqrt + ε)). Every scalar is cast
    to the arrays' dtype first, as NumPy does with a Python float, so float32 stays float32."""
    cast = p.dtype.type
    _serial("adam_update")(*(a.reshape(-1) for a in (p, g, m, v, v_max)), decay is not None,
                           cast(decay or 0.0), cast(l2), cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2),
                           cast(bias2_sqrt), cast(eps), cast(step_size), bool(amsgrad))


def adagrad_update(p, g, G, l2, lr_t, eps, eps_inside_sqrt):
    """One Adagrad update of one parameter in one pass; mirrors the NumPy lines of
    :meth:`rnnlab.optim.Adagrad._update` (scalars cast to the arrays' dtype, as in
    :func:`adam_update`)."""
    cast = p.dtype.type
    _serial("adagrad_update")(*(a.reshape(-1) for a in (p, g, G)), cast(l2), cast(lr_t), cast(eps),
                              bool(eps_inside_sqrt))


def embedding_backward(ids, d_e, grad):
    """``grad[ids[n]] += d_e[n]`` for each row n in order (``grad`` zeros on entry): the sum over
    repeated ids of :meth:`rnnlab.models.Embedding.backward`, in one pass over the rows. NumPy's
    sort, ``reduceat`` and scatter cost five times more at min-char-rnn's 25 rows, and ``reduceat``
    may pair its terms in another order (the two agree to rounding)."""
    _serial("embedding_backward")(np.ascontiguousarray(ids, dtype=np.intp), np.ascontiguousarray(d_e), grad)


def _serial(name):
    """The serial version of kernel ``name`` (compiled without a cache if numba cannot write one)."""
    try:
        return (_KERNELS or _compile())[name][0]
    except OSError:
        return _compile(cache=False)[name][0]


# --- the compiled loops ---------------------------------------------------------------------------
# Written as the NumPy code's operations, left to right, one element at a time; the constant 1
# arrives as an argument of the arrays' dtype so float32 stays float32 (a literal 1.0 is float64).


def _compile(cache=True):
    """Wrap the loops below, a serial and a parallel version of each; numba compiles a version
    on its first call for each dtype (or loads it from its cache next to this file, unless
    ``cache=False``)."""
    global prange
    import numba

    prange = numba.prange  # the loops read this global when numba compiles them
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # workqueue first: OpenMP's spinning threads fight OpenBLAS's for the cores (measured 20×
        # slower on a busy 2-core machine); an explicit NUMBA_THREADING_LAYER still wins
        numba.config.THREADING_LAYER_PRIORITY = ["workqueue", "omp", "tbb"]
    global vector_matrix
    vector_matrix = numba.njit(cache=cache, fastmath=False)(_vector_matrix)  # the loops below call it
    for fn in (_adam_update, _adagrad_update, _embedding_backward):
        # error_model="numpy": a division by 0 gives inf as in NumPy, and without Python's check for
        # it the optimisers' loops vectorise (5× faster than their NumPy lines, 8× than the default)
        _KERNELS[fn.__name__[1:]] = (numba.njit(cache=cache, fastmath=False, error_model="numpy")(fn), None)
    for fn in (_lstm_backward, _gru_backward, _rnn_sequence, _rnn_sequence_backward, _lstm_sequence,
               _lstm_sequence_backward):
        parallel = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel")
        # its own cache entry (the cache key ignores flags)
        parallel.__qualname__ = fn.__qualname__ + "_parallel"
        _KERNELS[fn.__name__[1:]] = (numba.njit(cache=cache, fastmath=False)(fn),
                                     numba.njit(cache=cache, fastmath=False, parallel=True)(parallel))
    return _KERNELS


prange = range  # numba.prange once compiled


def _vector_matrix(v, M, out):
    """``out = v M`` for a row ``v (K,)`` and ``M (K, N)``, a row of M at a time (a loop over N that
    vectorises, summed in the order of k): the recurrent products of the whole-sequence loops,
    h_{t-1} W_hhᵀ forward and ∂L/∂z_t W_hh backward."""
    K, N = M.shape
    for j in range(N):
        out[j] = 0
    for k in range(K):
        v_k = v[k]
        for j in range(N):
            out[j] += v_k * M[k, j]


vector_matrix = _vector_matrix  # the compiled version once compiled


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


def _rnn_sequence(xw, states, z, W_hh_t, reverse):
    T, B, H = xw.shape
    for s in range(T):
        t = T - 1 - s if reverse else s
        read, write = t + reverse, t + 1 - reverse
        for b in range(B):
            vector_matrix(states[read, b], W_hh_t, z[t, b])  # z_t = h_{t-1} W_hhᵀ
            for j in range(H):
                z[t, b, j] += xw[t, b, j]
                states[write, b, j] = np.tanh(z[t, b, j])


def _rnn_sequence_backward(d_output, has_output, d_h, h_all, W_hh, d_z, reverse, one):
    T, B, H = d_z.shape
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            for j in range(H):
                if has_output:
                    d_h[b, j] += d_output[t, b, j]
                h = h_all[t, b, j]
                d_z[t, b, j] = (one - h * h) * d_h[b, j]
            vector_matrix(d_z[t, b], W_hh, d_h[b])  # ∂L/∂h_{t-1} = ∂L/∂z_t W_hh


def _lstm_sequence(xw, h_slots, c_slots, z, gates, tanh_c, W_hh_t, scale, shift, reverse):
    T, B, G = xw.shape
    H = G // 4
    for s in range(T):
        t = T - 1 - s if reverse else s
        read, write = t + reverse, t + 1 - reverse
        for b in range(B):
            vector_matrix(h_slots[read, b], W_hh_t, z[t, b])  # z_t = h_{t-1} W_hhᵀ
            for j in range(G):  # σ(z) = ½ tanh(½ z) + ½ on i, f, o; tanh(z) on g
                z[t, b, j] += xw[t, b, j]
                gates[t, b, j] = np.tanh(z[t, b, j] * scale[j]) * scale[j] + shift[j]
            for j in range(H):
                i, f = gates[t, b, j], gates[t, b, H + j]
                g, o = gates[t, b, 2 * H + j], gates[t, b, 3 * H + j]
                c = f * c_slots[read, b, j]
                c += i * g  # C_t = f ⊙ C_{t-1} + i ⊙ C̃
                c_slots[write, b, j] = c
                tanh_c[t, b, j] = np.tanh(c)
                h_slots[write, b, j] = o * tanh_c[t, b, j]  # h_t = o ⊙ tanh(C_t)


def _lstm_sequence_backward(d_output, has_output, d_h, d_c, gates, tanh_c, c_prev, W_hh, d_z, reverse, one):
    T, B, G = d_z.shape
    H = G // 4
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            for j in range(H):  # the lines of _lstm_backward
                dh = d_h[b, j] + d_output[t, b, j] if has_output else d_h[b, j]
                i, f = gates[t, b, j], gates[t, b, H + j]
                g, o = gates[t, b, 2 * H + j], gates[t, b, 3 * H + j]
                tc = tanh_c[t, b, j]
                dc = (one - tc * tc) * o * dh + d_c[b, j]
                d_z[t, b, j] = dc * g * ((one - i) * i)
                d_z[t, b, H + j] = dc * c_prev[t, b, j] * ((one - f) * f)
                d_z[t, b, 2 * H + j] = dc * i * ((one - g) * (one + g))
                d_z[t, b, 3 * H + j] = dh * tc * ((one - o) * o)
                d_c[b, j] = dc * f  # ∂L/∂C_{t-1}
            vector_matrix(d_z[t, b], W_hh, d_h[b])  # ∂L/∂h_{t-1} = ∂L/∂z_t W_hh


def _adam_update(p, g, m, v, v_max, decoupled, decay, l2, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt,
                 eps, step_size, amsgrad):
    for k in range(p.size):  # the lines of Adam._update, one element at a time
        if decoupled:
            p[k] *= decay  # θ ← θ (1 − ηλ)
        g_k = g[k] + l2 * p[k] if l2 != 0 else g[k]  # g ← g + λθ
        m[k] += (g_k - m[k]) * one_minus_beta1  # m ← β₁ m + (1 − β₁) g
        v[k] = v[k] * beta2 + g_k * g_k * one_minus_beta2  # v ← β₂ v + (1 − β₂) g²
        v_k = v[k]
        if amsgrad:
            if v_k > v_max[k] or np.isnan(v_k):  # np.maximum: the larger, or the NaN
                v_max[k] = v_k
            v_k = v_max[k]
        p[k] -= m[k] / (np.sqrt(v_k) / bias2_sqrt + eps) * step_size


def _adagrad_update(p, g, G, l2, lr_t, eps, eps_inside_sqrt):
    for k in range(p.size):  # the lines of Adagrad._update, one element at a time
        g_k = g[k] + l2 * p[k] if l2 != 0 else g[k]  # g ← g + λθ
        G[k] += g_k * g_k  # G ← G + g²
        root = np.sqrt(G[k] + eps) if eps_inside_sqrt else np.sqrt(G[k]) + eps
        p[k] -= g_k / root * lr_t  # θ ← θ − η_t g / (√G + ε)


def _embedding_backward(ids, d_e, grad):
    for n in range(ids.shape[0]):
        row = ids[n]
        for j in range(d_e.shape[1]):
            grad[row, j] += d_e[n, j]  # ∂L/∂E[v] = Σ_{n: x_n = v} ∂L/∂e_n, in the order of n
