"""The default training step on a busy machine: idle, then with 1 and 2 competing CPU-bound processes.

The step is the default character language model's recurrent layer: ``rnnlab.LSTM`` D = 64 → H = 256,
T = 64, B = 64, float32, forward + backward (∂L/∂output random), median of ``--runs`` steps. It is
timed for the default thread policy (:mod:`rnnlab.threads`) and 1 thread alternating step by
step, so a change of background load hits both alike, then for other fixed counts (``--configs``).
The competitors are this benchmark's own ``while True: pass`` processes, started before and
killed after each condition.

    python benchmarks/bench_contention.py                  # default policy and 1 thread, 0/1/2 competitors
    python benchmarks/bench_contention.py --configs default,1,2 --markdown
    python benchmarks/bench_contention.py --competitors 0,1 --runs 11

Columns: ms per step and, in brackets, the ratio to the same column with no competitor (the idle
time when the background load is near 0); the threads the default policy ran with (count × steps);
the background load, in cores used by processes that are neither this benchmark nor its
competitors (other users of the machine), during the condition.
Targets (issue 15): with one competitor the default step takes ≤ 2.0× its idle time and no more
than the 1-thread step under the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import blas_info, markdown_table, print_table  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab import threads  # noqa: E402

SHAPE = dict(T=64, B=64, D=64, H=256)  # the default char-LM: embedding 64, LSTM 1×256, window 64, batch 64
SETTLE = 1.5  # seconds of steps after a competitor starts, before timing (the policy looks every 0.5 s)
PAUSE = 0.2  # seconds between two timed steps: OpenBLAS's idle threads spin ~0.1 s after their last GEMM


def make_step(T, B, D, H, seed=0):
    """Forward + backward of the default char-LM's LSTM on fixed random data."""
    layer = rnnlab.LSTM(D, H, dtype=np.float32, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    d_out = rng.standard_normal((T, B, H)).astype(np.float32)

    def step():
        layer.forward(x)
        layer.backward(d_out)

    return step


def competitor() -> subprocess.Popen:
    """A CPU-bound process: one core's worth of ``while True: pass``."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def cpu_seconds(pids) -> float:
    """CPU time (user + system) used so far by the processes ``pids`` (Linux; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat(5))
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def measure(step, configs, runs):
    """Median seconds per step of each config (``None`` = the default policy, else a fixed
    count), and the counts the policy ran with (the higher of the counts at a step's start and
    end). The default and 1 thread alternate step by step, with a pause between steps (so that
    one column's spinning BLAS threads do not slow the next); a fixed count above 1 is timed in
    a block of its own after them: its threads starve the other processes, which would then
    look idle to the policy's load measure."""
    alternating = [c for c in configs if c is None or c == 1]
    samples = {c: [] for c in configs}
    policy_counts = []

    def timed(config):
        with threads.limit_threads(config):
            if config is None:
                threads.on_compute()
                first = threads.get_threads()
            start = time.perf_counter()
            step()
            samples[config].append(time.perf_counter() - start)
            if config is None:
                policy_counts.append(max(first, threads.get_threads()))
        time.sleep(PAUSE)

    for r in range(runs):
        for config in alternating if r % 2 == 0 else reversed(alternating):
            timed(config)
    for config in configs:
        if config not in alternating:
            with threads.limit_threads(config):
                step()  # the threads wake up
            for _ in range(runs):
                timed(config)
    return {c: statistics.median(s) for c, s in samples.items()}, policy_counts


def run_condition(step, n_competitors, configs, runs):
    """Start the competitors, let the policy settle, time, stop them; returns the medians, the
    policy's counts and the background load (cores used by everything else)."""
    procs = [competitor() for _ in range(n_competitors)]
    try:
        meter = threads.LoadMeter(set(os.sched_getaffinity(0)))
        hogs0 = cpu_seconds(p.pid for p in procs)
        start = time.perf_counter()
        while time.perf_counter() - start < SETTLE:
            threads.on_compute()
            step()
        medians, counts = measure(step, configs, runs)
        wall = time.perf_counter() - start
        background = meter.others() - (cpu_seconds(p.pid for p in procs) - hogs0) / wall
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return medians, counts, max(0.0, background)


def parse_configs(text):
    configs = []
    for item in text.split(","):
        item = item.strip()
        if item == "default":
            configs.append(None)
        elif item.isdigit() and int(item) > 0:
            configs.append(int(item))
        else:
            raise SystemExit(f"--configs: expected 'default' or positive thread counts, got {item!r}")
    return configs


def label(config):
    return "default policy" if config is None else f"{config} thread{'s' if config > 1 else ''}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7,
                        help="timed steps per column and condition (median); default 7")
    parser.add_argument("--competitors", default="0,1,2",
                        help="numbers of competing processes; default 0,1,2")
    parser.add_argument("--configs", default="default,1",
                        help="'default' (the policy) and/or fixed thread counts; default: default,1")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    configs = parse_configs(args.configs)
    competitors = [int(c) for c in args.competitors.split(",")]

    step = make_step(**SHAPE)
    for _ in range(3):  # warm-up: the kernels compile or load, the buffers are allocated
        step()
    info = blas_info()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"NumPy {np.__version__} on {info.name} (core {info.core or '?'}), "
          f"{len(os.sched_getaffinity(0))} CPUs; load average before: {load}; {threads.policy()}")

    results = {}
    for k in competitors:
        results[k] = run_condition(step, k, configs, args.runs)
        medians = ", ".join(f"{label(c)} {1e3 * s:.0f} ms" for c, s in results[k][0].items())
        print(f"  {k} competitor(s): {medians}; background {results[k][2]:.2f} cores",
              file=sys.stderr, flush=True)

    columns = ["condition"] + [f"{label(c)} ms (× no competitor)" for c in configs]
    columns += ["policy's threads", "background cores"]
    if None in configs and 1 in configs:
        columns.insert(1 + len(configs), "default / 1 thread")
    rows = []
    base = results.get(0, results[competitors[0]])[0]
    for k in competitors:
        medians, counts, background = results[k]
        row = [f"{k} competing process{'es' if k != 1 else ''}" if k else "no competitor"]
        row += [f"{1e3 * medians[c]:.0f} ({medians[c] / base[c]:.2f}×)" for c in configs]
        if None in configs and 1 in configs:
            row.append(f"{medians[None] / medians[1]:.2f}")
        row.append(", ".join(f"{n}×{counts.count(n)}" for n in sorted(set(counts))) or "—")
        row.append(f"{background:.2f}")
        rows.append(row)
    caption = (f"rnnlab.LSTM {SHAPE['D']}→{SHAPE['H']}, T={SHAPE['T']}, B={SHAPE['B']}, float32 forward + "
               f"backward; medians of {args.runs} steps per cell, default and 1 thread alternating")
    print_table("Training step under CPU contention", columns, rows, caption)
    if args.markdown:
        print(markdown_table(columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
