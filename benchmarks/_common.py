"""Helpers shared by the benchmarks: thread counts, the BLAS in use, GEMM peak, timing, tables.

The benchmarks compare rnnlab against PyTorch *with the same number of threads*, in interleaved
rounds (rnnlab, torch, torch, rnnlab, …) so that a burst of load on the machine hits both sides
alike, and report medians over the rounds. ``bench_cells.py`` does it two ways: each library in
its own process (as users run them), and both in one process with torch's OpenMP threads
passive (``OMP_WAIT_POLICY=PASSIVE`` before torch is imported: otherwise they spin after each
torch call and take the cores from OpenBLAS's).
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

# --- threads and the BLAS behind NumPy ----------------------------------------------------------


def _openblas_lib():
    """NumPy's bundled OpenBLAS as a ctypes library, or None (another BLAS, or not found)."""
    libdirs = [os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")]
    try:
        import scipy_openblas64  # numpy built against a separate scipy-openblas wheel

        libdirs.append(os.path.join(os.path.dirname(scipy_openblas64.__file__), "lib"))
    except ImportError:
        pass
    for libdir in libdirs:
        for path in glob.glob(os.path.join(libdir, "*openblas*.so*")):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _openblas_fn(lib, *names):
    for name in names:
        fn = getattr(lib, name, None) if lib is not None else None
        if fn is not None:
            return fn
    return None


@dataclass(frozen=True)
class BlasInfo:
    """What NumPy computes its GEMMs with."""

    name: str  # "openblas", "mkl", … or "unknown"
    threads: int  # threads the BLAS uses now
    core: str  # the kernel family OpenBLAS picked (Haswell, SkylakeX, …) or ""
    coretype_env: str  # OPENBLAS_CORETYPE as set in the environment ("" if unset)


def blas_info() -> BlasInfo:
    """Name, thread count and core type of NumPy's BLAS (threadpoolctl if installed, else
    OpenBLAS's own C functions, else the usual environment variables)."""
    env = os.environ.get("OPENBLAS_CORETYPE", "")
    lib = _openblas_lib()
    core = ""
    get_core = _openblas_fn(lib, "scipy_openblas_get_corename64_", "openblas_get_corename")
    if get_core is not None:
        get_core.restype = ctypes.c_char_p
        core = get_core().decode()
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        pools.sort(key=lambda p: "numpy" not in p.get("filepath", "") and "scipy_openblas" not in p.get("filepath", ""))
        if pools:
            pool = pools[0]
            return BlasInfo(pool["internal_api"], int(pool["num_threads"]), pool.get("architecture") or core, env)
    except ImportError:
        pass
    get_threads = _openblas_fn(lib, "scipy_openblas_get_num_threads64_", "openblas_get_num_threads")
    if get_threads is not None:
        return BlasInfo("openblas", int(get_threads()), core, env)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return BlasInfo("unknown", int(os.environ[var]), core, env)
    return BlasInfo("unknown", os.cpu_count() or 1, core, env)


def set_blas_threads(n: int) -> None:
    """Set NumPy's BLAS thread count (threadpoolctl, else OpenBLAS's C function)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n, user_api="blas")
        return
    except ImportError:
        pass
    fn = _openblas_fn(_openblas_lib(), "scipy_openblas_set_num_threads64_", "openblas_set_num_threads")
    if fn is not None:
        fn(ctypes.c_int(n))


def pin_threads(n: int | None = None, torch_too: bool = True) -> int:
    """Give NumPy's BLAS, the numba kernels (both through rnnlab's knob, :mod:`rnnlab.threads`,
    so that its default policy does not change the count) and PyTorch the same thread count:
    ``n``, or by default what NumPy's BLAS uses now. Returns the count."""
    n = n or blas_info().threads
    try:
        from rnnlab import threads

        threads.set_threads(n)
    except ImportError:
        set_blas_threads(n)
    if torch_too:
        try:
            import torch

            torch.set_num_threads(n)
        except ImportError:
            pass
    return n


# --- timing -------------------------------------------------------------------------------------


def time_per_call(fn, min_seconds=0.05, max_calls=10_000) -> float:
    """Seconds per call of ``fn()``, timing enough calls to fill ``min_seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or calls >= max_calls:
            return elapsed / calls


def interleaved_medians(fns: dict, rounds: int, min_seconds=0.05) -> dict:
    """Median seconds per call of each ``fns[name]()`` over ``rounds`` interleaved rounds
    (the order alternates every round so neither side always runs first)."""
    names = list(fns)
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(time_per_call(fns[name], min_seconds))
    return {name: statistics.median(s) for name, s in samples.items()}


# --- each library in its own process -------------------------------------------------------------


def serve(build_step) -> None:
    """The loop of a worker process: reads one JSON request per line from stdin, builds (once per
    distinct request, then three warm-up calls: JIT, allocator, thread pools) the step function
    ``build_step(request)`` returns, and answers with its seconds per call (filling
    ``request["min_seconds"]``), one JSON number per line."""
    steps = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = json.dumps(request, sort_keys=True)
        if key not in steps:
            steps[key] = build_step(request)
            for _ in range(3):
                steps[key]()
        print(json.dumps(time_per_call(steps[key], request.get("min_seconds", 0.05))), flush=True)


class Workers:
    """One worker process per library (``script --threads N --worker LIB``, which calls
    :func:`serve`), started with the environment as the user has it: each library runs as users
    run it, torch with its default OpenMP settings."""

    def __init__(self, script, libs, threads, env):
        command = [sys.executable, os.path.abspath(script), "--threads", str(threads), "--worker"]
        self.procs = {lib: subprocess.Popen(command + [lib], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            text=True, env=env) for lib in libs}

    def time(self, lib, request: dict) -> float:
        proc = self.procs[lib]
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
        if not answer:
            raise SystemExit(f"the {lib} worker stopped (exit code {proc.wait()})")
        return json.loads(answer)

    def medians(self, request: dict, rounds: int) -> dict:
        """Median seconds per call of each library, asking the workers in alternating order;
        each waits idle on its pipe while the other computes."""
        libs = list(self.procs)
        samples = {lib: [] for lib in libs}
        for r in range(rounds):
            for lib in libs if r % 2 == 0 else reversed(libs):
                samples[lib].append(self.time(lib, request))
                time.sleep(0.02)  # let the other process's threads go to sleep before its turn
        return {lib: statistics.median(s) for lib, s in samples.items()}

    def close(self):
        for proc in self.procs.values():
            proc.stdin.close()
            proc.wait()


# --- GEMM peak ----------------------------------------------------------------------------------


def gemm_gflops(n=1024, rounds=5, dtype=np.float32) -> dict:
    """Measured GFLOP/s of an n×n×n GEMM (2n³ FLOPs): NumPy's BLAS and, if installed, PyTorch's,
    medians over interleaved rounds. ``"peak"`` is the best of the two: the machine's measured
    GEMM peak for this thread count."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    fns = {"numpy": lambda: np.matmul(a, b, out=out)}
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tout = torch.empty(n, n, dtype=ta.dtype)
        fns["torch"] = lambda: torch.mm(ta, tb, out=tout)
    except ImportError:
        pass
    for fn in fns.values():
        fn()
    seconds = interleaved_medians(fns, rounds, min_seconds=0.1)
    result = {name: 2.0 * n**3 / s / 1e9 for name, s in seconds.items()}
    result["peak"] = max(result.values())
    return result


# --- output -------------------------------------------------------------------------------------


def print_table(title: str, columns: list, rows: list, caption: str = "") -> None:
    """A rich table (plain text when rich is missing); ``columns`` are headers, numbers right-aligned."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(" | ".join(columns))
        for row in rows:
            print(" | ".join(str(c) for c in row))
        if caption:
            print(caption)
        return
    table = Table(title=title, caption=caption)
    for k, col in enumerate(columns):
        table.add_column(col, justify="left" if k < 2 else "right")
    for row in rows:
        table.add_row(*[str(c) for c in row])
    console = Console()
    if not console.is_terminal:  # a pipe or a file: no 80-column wrapping
        console = Console(width=140)
    console.print(table)


def markdown_table(columns: list, rows: list) -> str:
    """The same rows as a Markdown table (for benchmarks/README.md)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
