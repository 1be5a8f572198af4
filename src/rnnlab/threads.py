r"""The one thread knob: how many threads NumPy's BLAS (OpenBLAS, MKL, through threadpoolctl) and
the fused numba kernels (:mod:`rnnlab.kernels`) compute with.

Three ways to choose, the first that applies wins:

1. ``set_threads(n)`` (the commands' ``--threads N``), or ``with limit_threads(n): ...`` for a block;
2. ``RNNLAB_NUM_THREADS=n`` in the environment, read when rnnlab first computes;
3. the default policy: one thread per core that other programs leave free, re-measured every
   :data:`LOOK_EVERY` seconds while rnnlab computes.

Why the default adapts. A recurrent step is a chain of small GEMMs, ``h W_hhᵀ`` then the next; with
n BLAS threads every one of them ends in a meeting of the n threads. On an idle machine that pays
(char-LM step on 2 cores: 131 ms on 2 threads, 181 ms on 1); when another program holds a core,
the thread that has to wait for it waits a scheduler time slice at every meeting, 128 times a
step, and the step takes 3–10× longer than on one thread. So the default counts the cores the
*other* processes used over the last look, c_other = (busy CPU time of the machine − our own CPU
time) / wall time, and runs

    n = clamp(⌊N_cpu − c_other + 0.3⌋, 1, ceiling)

threads: a core counts as free while the others use less than 0.3 of one (:data:`SLACK`).
``ceiling`` is the count the BLAS started with (so ``OPENBLAS_NUM_THREADS`` and the like still
cap it), at most the CPUs this process may run on. The busy time is read from ``/proc/stat``
(Linux); elsewhere from the load average, and without either the ceiling is used.
``benchmarks/bench_contention.py`` measures the policy; ``benchmarks/README.md`` has the table.

Numbers: float32 GEMMs in OpenBLAS give results that differ in the last bits with the number of
threads (the work is split differently). A run therefore repeats bit for bit at a fixed thread
count — ``set_threads(n)`` or ``RNNLAB_NUM_THREADS`` — while the default may change the count
with the machine's load. float64 and the numba kernels do not depend on it.
"""

from __future__ import annotations

import contextlib
import math
import operator
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from .errors import ConfigError
from .i18n import say

ENV = "RNNLAB_NUM_THREADS"
LOOK_EVERY = 0.5  # seconds between two measures of the load (default policy)
SLACK = 0.3  # a core counts as free while other processes use less than this fraction of it


def threads_for(free_cores: float, ceiling: int) -> int:
    """The default policy: one thread per free core (a core the others use < :data:`SLACK` of),
    at least 1, at most ``ceiling``."""
    return max(1, min(ceiling, math.floor(free_cores + SLACK)))


# --- measuring the others' load ------------------------------------------------------------------


def _busy_seconds(cpus, stat="/proc/stat") -> float | None:
    """CPU seconds the machine spent busy on ``cpus`` since boot (user, nice, system, irq,
    softirq and steal: a core a hypervisor lends elsewhere is taken too), or None off Linux."""
    try:
        with open(stat, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    ticks = 0
    for line in lines:
        if line[:3] == b"cpu" and line[3:4].isdigit():
            fields = line.split()
            if int(fields[0][3:]) in cpus:
                ticks += sum(int(fields[k]) for k in (1, 2, 3, 6, 7, 8))
    return ticks / os.sysconf("SC_CLK_TCK")


class LoadMeter:
    """How many cores the other processes used since the last call of :meth:`others`."""

    def __init__(self, cpus):
        self.cpus = cpus
        self.last = self._read()

    def _read(self):
        return time.monotonic(), _busy_seconds(self.cpus), time.process_time()

    def others(self) -> float:
        """Cores the other processes used since the last call (0 where nothing tells)."""
        (wall0, busy0, own0), now = self.last, self._read()
        self.last = now
        wall, busy, own = now[0] - wall0, now[1], now[2] - own0
        if wall <= 0:
            return 0.0
        if busy is not None and busy0 is not None:
            return max(0.0, (busy - busy0 - own) / wall)
        if hasattr(os, "getloadavg"):  # runnable tasks, a one-minute average, ours included
            return max(0.0, os.getloadavg()[0] - own / wall)
        return 0.0


def _running_now() -> float:
    """Other runnable tasks this instant (``/proc/loadavg``'s 4th field, less this thread): the
    first guess, before a first measure over :data:`LOOK_EVERY`."""
    try:
        with open("/proc/loadavg", "rb") as f:
            return max(0.0, float(f.read().split()[3].split(b"/")[0]) - 1)
    except (OSError, IndexError, ValueError):
        return 0.0


# --- the state: what was asked, what runs ---------------------------------------------------------


@dataclass
class _Knob:
    requested: int | None  # set_threads's n or RNNLAB_NUM_THREADS; None: the default policy
    ceiling: int  # the default policy's most: the BLAS's count at first use, ≤ the CPUs we may use
    blas: list  # threadpoolctl's controllers of the BLAS libraries loaded
    meter: LoadMeter
    current: int = 0  # the count applied now
    others: float | None = None  # cores the other processes used over the last look (default policy)
    next_look: float = field(default_factory=time.monotonic)


_knob: _Knob | None = None
_lock = threading.RLock()


def _checked(value, name: str, got=None) -> int | None:
    """``value`` as a positive thread count, or None; a clear error otherwise (showing ``got``,
    the value as the user wrote it, if given)."""
    if value is None:
        return None
    try:
        n = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        n = None
    if n is None or n < 1:
        raise ConfigError(say(
            f"{name}: expected a positive whole number of threads (or none, for the default: one per "
            f"core other programs leave free), got {got or value!r}",
            f"{name} : attendu un nombre entier positif de threads (ou rien, pour le choix par défaut : "
            f"un par cœur laissé libre par les autres programmes), reçu {got or value!r}"))
    return n


def _from_env() -> int | None:
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    return _checked(int(value) if value.isdigit() else value, ENV, got=repr(value))


def _start() -> _Knob:
    """First use: read the environment, find the BLAS, apply the count."""
    global _knob
    with _lock:
        if _knob is None:
            from threadpoolctl import ThreadpoolController

            requested = _from_env()
            blas = ThreadpoolController().select(user_api="blas").lib_controllers
            cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
            ceiling = min(len(cpus), max((c.num_threads for c in blas), default=len(cpus)))
            knob = _Knob(requested, max(1, ceiling), blas, LoadMeter(set(cpus)))
            first = requested or threads_for(len(cpus) - _running_now(), knob.ceiling)
            knob.next_look = time.monotonic() + LOOK_EVERY
            _apply(knob, first)
            _knob = knob
        return _knob


def _apply(knob: _Knob, n: int, torch_too: bool = False) -> None:
    """Give the BLAS and numba (in this thread; :mod:`rnnlab.kernels` follows in the others) ``n``."""
    for controller in knob.blas:
        controller.set_num_threads(n)
    knob.current = n
    numba_threads(n)
    if torch_too and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def numba_threads(n: int) -> int:
    """Set numba's thread count for the calling thread to ``n`` (at most the threads numba
    started) if the kernels are compiled; numba's count is per thread. Returns the count."""
    from . import kernels

    if not kernels.loaded():
        return n
    import numba

    n = min(n, numba.config.NUMBA_NUM_THREADS)
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)
    return n


# --- the public API ---------------------------------------------------------------------------------


def set_threads(n: int | None) -> int:
    """Compute with ``n`` threads from now on (BLAS, numba kernels and, when loaded, PyTorch's
    intra-op threads); ``None`` returns to ``RNNLAB_NUM_THREADS`` if set, else to the default
    policy. Returns the count in effect."""
    n = _checked(n, "threads")
    knob = _knob or _start()
    with _lock:
        knob.requested = n if n is not None else _from_env()
        if knob.requested is not None:
            _apply(knob, knob.requested, torch_too=True)
        else:  # the policy's last measure (or the first guess) until its next look
            others = _running_now() if knob.others is None else knob.others
            _apply(knob, threads_for(len(knob.meter.cpus) - others, knob.ceiling))
        return knob.current


def get_threads() -> int:
    """The number of threads rnnlab computes with now."""
    return (_knob or _start()).current


def policy() -> str:
    """One line for logs and benchmark headers: the count and where it comes from."""
    knob = _knob or _start()
    if knob.requested is not None:
        return f"{knob.current} thread(s), fixed"
    load = "" if knob.others is None else f"; other programs used {knob.others:.1f} core(s) lately"
    return f"{knob.current} thread(s), default policy (one per free core, at most {knob.ceiling}{load})"


@contextlib.contextmanager
def limit_threads(n: int | None):
    """``with limit_threads(1): ...`` computes the block with ``n`` threads, then restores the
    previous choice (a fixed count, or the default policy)."""
    knob = _knob or _start()
    with _lock:
        saved = knob.requested
    set_threads(n)
    try:
        yield knob.current
    finally:
        set_threads(saved)


def on_compute() -> None:
    """Called by the unroll before computing: starts the knob on first use, and under the
    default policy re-measures the others' load every :data:`LOOK_EVERY` seconds (a clock read
    otherwise)."""
    knob = _knob or _start()
    if knob.requested is not None or time.monotonic() < knob.next_look:
        return
    with _lock:
        if knob.requested is None and time.monotonic() >= knob.next_look:
            knob.others = knob.meter.others()
            n = threads_for(len(knob.meter.cpus) - knob.others, knob.ceiling)
            knob.next_look = time.monotonic() + LOOK_EVERY
            if n != knob.current:
                _apply(knob, n)


def _forget() -> None:
    """Tests only: forget the knob, so the next computation starts it again from the environment."""
    global _knob
    with _lock:
        _knob = None
