"""Training-step speed of rnnlab's RNN, LSTM and GRU against ``torch.nn.*`` on the CPU.

One training step = forward over a (T, B, D) float32 batch + backward of a random ∂L/∂output
through the layer (input gradient and every weight gradient). Both libraries get the same number
of threads, and are timed two ways (``--methods``), each a column group of the table:

* **processes**: each library in its own worker process, as users run them (torch with its
  default OpenMP settings); the parent asks the two workers in turn, round after round;
* **one process**: both in this process, interleaved, with torch's OpenMP threads passive
  (``OMP_WAIT_POLICY=PASSIVE`` set before torch is imported; otherwise they spin after every
  torch call and take the cores from OpenBLAS's).

    python benchmarks/bench_cells.py                 # 7 rounds, all cells, both methods
    python benchmarks/bench_cells.py --quick         # 3 short rounds
    python benchmarks/bench_cells.py --cells lstm --rounds 11 --markdown
    python benchmarks/bench_cells.py --methods process --threads 1

Columns: ms per step (the median over the rounds, each round timing as many steps as fill
50 ms), and the speed ratio torch time / rnnlab time (higher is better for rnnlab) per method;
with ``--peak``, also the fraction of the machine's measured float32 GEMM peak each side reaches
(one-process method), counting a training step as 3 GEMMs per weight matrix (forward, input
gradient, weight gradient): 6·T·B·G·H·(D + H) FLOPs, G = 1, 4, 3 gates.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (Workers, blas_info, gemm_gflops, interleaved_medians, markdown_table,  # noqa: E402
                     pin_threads, print_table, serve)

import rnnlab  # noqa: E402

SHAPES = [  # (T, B, D, H), target ratio torch / rnnlab (issue 15)
    ((64, 32, 64, 256), 1.2),
    ((100, 64, 128, 512), 1.2),
    ((25, 1, 65, 100), 2.0),  # min-char-rnn: 25 steps, one sequence, 65 characters, 100 units
]
CELLS = {"rnn": (rnnlab.RNN, "RNN", 1), "lstm": (rnnlab.LSTM, "LSTM", 4), "gru": (rnnlab.GRU, "GRU", 3)}
METHODS = {"process": "own processes", "interleaved": "one process, torch passive"}


def step_flops(T, B, D, H, gates):
    """3 GEMMs (forward, ∂input, ∂weight) of 2·rows·cols FLOPs per weight matrix and row."""
    return 3 * 2 * T * B * gates * H * (D + H)


def data(T, B, D, H, seed=0):
    """The float32 input and ∂L/∂output of every run of this shape."""
    rng = np.random.default_rng(seed + 1)
    x, d_out = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    return x.astype(np.float32), d_out.astype(np.float32)


def rnnlab_side(cell, T, B, D, H, seed=0):
    """rnnlab's layer and its training step (forward + backward)."""
    layer = CELLS[cell][0](D, H, dtype=np.float32, seed=seed)
    x, d_out = data(T, B, D, H, seed)

    def rnnlab_step():
        layer.forward(x)
        return layer.backward(d_out)

    return layer, rnnlab_step


def torch_side(cell, T, B, D, H, seed=0, state_dict=None):
    """torch's layer (with ``state_dict``'s weights if given) and its training step."""
    import torch

    ref = getattr(torch.nn, CELLS[cell][1])(D, H)
    if state_dict is not None:
        ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state_dict.items()})
    x, d_out = data(T, B, D, H, seed)
    x_t = torch.from_numpy(x).requires_grad_(True)
    d_out_t = torch.from_numpy(d_out)

    def torch_step():
        x_t.grad = None
        ref.zero_grad(set_to_none=True)
        out, _ = ref(x_t)
        out.backward(d_out_t)
        return x_t.grad

    return torch_step


def make_pair(cell, T, B, D, H, seed=0):
    """An rnnlab layer and a torch layer with the same float32 weights; returns the two step
    functions (after checking once that they agree on ∂L/∂x)."""
    layer, rnnlab_step = rnnlab_side(cell, T, B, D, H, seed)
    torch_step = torch_side(cell, T, B, D, H, seed, layer.state_dict())
    d_x, d_x_t = rnnlab_step(), torch_step().numpy()
    scale = max(1.0, float(np.abs(d_x_t).max()))
    if not np.allclose(d_x, d_x_t, atol=1e-3 * scale, rtol=1e-3):
        raise SystemExit(f"{cell} {T, B, D, H}: rnnlab and torch disagree "
                         f"(max |Δ ∂x| = {np.abs(d_x - d_x_t).max():.3g})")
    return rnnlab_step, torch_step


# --- method 1: each library in its own process ----------------------------------------------------


def worker(lib, threads):
    """A worker process (:func:`_common.serve`): times the step of the cell and shape it is asked
    for (``{"cell", "shape", "min_seconds"}``)."""
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    else:
        pin_threads(threads, torch_too=False)
    side = torch_side if lib == "torch" else (lambda *key: rnnlab_side(*key)[1])
    serve(lambda request: side(request["cell"], *request["shape"]))


# --- the table --------------------------------------------------------------------------------------


def ratio_cell(med, target):
    ratio = med["torch"] / med["rnnlab"]
    return f"{ratio:.2f}" + (" ✓" if ratio >= target else " ✗")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="interleaved rounds (median over them); default 7")
    parser.add_argument("--quick", action="store_true", help="3 short rounds (a smoke run, noisier)")
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated subset of rnn,lstm,gru")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: NumPy's BLAS count)")
    parser.add_argument("--methods", default="process,interleaved",
                        help="process (each library in its own process), interleaved (one process, "
                             "torch's threads passive), or both (the default)")
    parser.add_argument("--peak", action="store_true", help="also measure the GEMM peak and give %% of it")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--worker", choices=["rnnlab", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    threads = args.threads or blas_info().threads
    if args.worker:
        return worker(args.worker, threads)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        parser.error(f"--cells: expected names among {sorted(CELLS)}, got {unknown}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in METHODS for m in methods):
        parser.error(f"--methods: expected names among {sorted(METHODS)}, got {args.methods!r}")
    rounds, min_seconds = (3, 0.02) if args.quick else (args.rounds, 0.05)

    user_env = dict(os.environ)  # the workers run torch as the user has it
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # before torch is imported (this process only)
    import torch

    pin_threads(threads)
    info = blas_info()
    try:
        from rnnlab import kernels

        kernel_note = kernels.describe()
    except ImportError:
        kernel_note = "pure NumPy"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"NumPy {np.__version__} on {info.name} (core {info.core or '?'}, OPENBLAS_CORETYPE="
          f"{info.coretype_env or 'unset'}), torch {torch.__version__}, {threads} thread(s) each; "
          f"rnnlab gate math: {kernel_note}; load average {load}")
    peak = gemm_gflops(rounds=3 if args.quick else 5) if args.peak else None
    if peak:
        print(f"float32 GEMM 1024³: NumPy {peak['numpy']:.0f} GFLOP/s, torch "
              f"{peak.get('torch', float('nan')):.0f} GFLOP/s; peak = {peak['peak']:.0f} GFLOP/s")

    workers = Workers(__file__, ("rnnlab", "torch"), threads, user_env) if "process" in methods else None
    columns = ["cell", "shape (T, B, D, H)", "target"]
    for m in methods:
        columns += [f"rnnlab ms ({METHODS[m]})", f"torch ms ({METHODS[m]})", f"torch/rnnlab ({METHODS[m]})"]
    if peak:
        columns += ["rnnlab % peak (one process)", "torch % peak (one process)"]
    rows = []
    try:
        for cell in cells:
            for shape, target in SHAPES:
                found = {}
                if "process" in methods:
                    found["process"] = workers.medians(
                        {"cell": cell, "shape": list(shape), "min_seconds": min_seconds}, rounds)
                if "interleaved" in methods or peak:
                    rnnlab_step, torch_step = make_pair(cell, *shape)
                    for _ in range(3):  # warm-up (JIT, allocator, thread pools)
                        rnnlab_step(), torch_step()
                    found["interleaved"] = interleaved_medians({"rnnlab": rnnlab_step, "torch": torch_step},
                                                               rounds, min_seconds)
                row = [cell.upper(), ", ".join(map(str, shape)), f"≥ {target:.1f}"]
                for m in methods:
                    med = found[m]
                    row += [f"{1e3 * med[lib]:.2f}" for lib in ("rnnlab", "torch")]
                    row.append(ratio_cell(med, target))
                if peak:
                    flops = step_flops(*shape, CELLS[cell][2])
                    row += [f"{100 * flops / found['interleaved'][lib] / 1e9 / peak['peak']:.1f}"
                            for lib in ("rnnlab", "torch")]
                print("  " + " | ".join(row), file=sys.stderr, flush=True)
                rows.append(row)
    finally:
        if workers:
            workers.close()
    caption = (f"medians of {rounds} interleaved rounds; float32 training step (forward + backward); "
               f"{threads} thread(s) for each library")
    print_table("rnnlab vs torch.nn, CPU training step", columns, rows, caption)
    if args.markdown:
        print(markdown_table(columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
