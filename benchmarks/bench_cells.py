"""Training-step speed of rnnlab's RNN, LSTM and GRU against ``torch.nn.*`` on the CPU.

One training step = forward over a (T, B, D) float32 batch + backward of a random ∂L/∂output
through the layer (input gradient and every weight gradient). Both libraries run in this
process with the same number of threads, in interleaved rounds; the table gives medians.

    python benchmarks/bench_cells.py                 # 7 rounds, all cells
    python benchmarks/bench_cells.py --quick         # 3 short rounds
    python benchmarks/bench_cells.py --cells lstm --rounds 11 --markdown

Columns: ms per step, the speed ratio torch time / rnnlab time (higher is better for rnnlab),
and the fraction of the machine's measured float32 GEMM peak each side reaches, counting a
training step as 3 GEMMs per weight matrix (forward, input gradient, weight gradient):
6·T·B·G·H·(D + H) FLOPs, G = 1, 4, 3 gates.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import blas_info, gemm_gflops, interleaved_medians, markdown_table, pin_threads, print_table  # noqa: E402

import rnnlab  # noqa: E402

SHAPES = [  # (T, B, D, H), target ratio torch / rnnlab
    ((64, 32, 64, 256), 1.0),
    ((100, 64, 128, 512), 1.0),
    ((25, 1, 65, 100), 2.0),  # min-char-rnn: 25 steps, one sequence, 65 characters, 100 units
]
CELLS = {"rnn": (rnnlab.RNN, "RNN", 1), "lstm": (rnnlab.LSTM, "LSTM", 4), "gru": (rnnlab.GRU, "GRU", 3)}


def step_flops(T, B, D, H, gates):
    """3 GEMMs (forward, ∂input, ∂weight) of 2·rows·cols FLOPs per weight matrix and row."""
    return 3 * 2 * T * B * gates * H * (D + H)


def make_pair(cell, T, B, D, H, seed=0):
    """An rnnlab layer and a torch layer with the same float32 weights, the input and ∂L/∂output;
    returns the two step functions (after checking once that they agree)."""
    import torch

    cls, torch_name, _ = CELLS[cell]
    layer = cls(D, H, dtype=np.float32, seed=seed)
    ref = getattr(torch.nn, torch_name)(D, H)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    d_out = rng.standard_normal((T, B, H)).astype(np.float32)
    x_t = torch.from_numpy(x.copy()).requires_grad_(True)
    d_out_t = torch.from_numpy(d_out.copy())

    def rnnlab_step():
        layer.forward(x)
        return layer.backward(d_out)

    def torch_step():
        x_t.grad = None
        ref.zero_grad(set_to_none=True)
        out, _ = ref(x_t)
        out.backward(d_out_t)
        return x_t.grad

    d_x, d_x_t = rnnlab_step(), torch_step().numpy()
    scale = max(1.0, float(np.abs(d_x_t).max()))
    if not np.allclose(d_x, d_x_t, atol=1e-3 * scale, rtol=1e-3):
        raise SystemExit(f"{cell} {T, B, D, H}: rnnlab and torch disagree (max |Δ ∂x| = {np.abs(d_x - d_x_t).max():.3g})")
    return rnnlab_step, torch_step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median over them); default 7")
    parser.add_argument("--quick", action="store_true", help="3 short rounds (a smoke run, noisier)")
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated subset of rnn,lstm,gru")
    parser.add_argument("--threads", type=int, default=None, help="threads for both sides (default: NumPy's BLAS count)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        parser.error(f"--cells: expected names among {sorted(CELLS)}, got {unknown}")
    rounds, min_seconds = (3, 0.02) if args.quick else (args.rounds, 0.05)

    import torch

    threads = pin_threads(args.threads)
    info = blas_info()
    try:
        from rnnlab import kernels

        kernel_note = kernels.describe()
    except ImportError:
        kernel_note = "pure NumPy"
    peak = gemm_gflops(rounds=3 if args.quick else 5)
    print(f"NumPy {np.__version__} on {info.name} (core {info.core or '?'}, OPENBLAS_CORETYPE="
          f"{info.coretype_env or 'unset'}), torch {torch.__version__}, {threads} thread(s) each; "
          f"rnnlab gate math: {kernel_note}")
    print(f"float32 GEMM 1024³: NumPy {peak['numpy']:.0f} GFLOP/s, torch {peak.get('torch', float('nan')):.0f} "
          f"GFLOP/s; peak = {peak['peak']:.0f} GFLOP/s")

    columns = ["cell", "shape (T, B, D, H)", "rnnlab ms", "torch ms", "torch/rnnlab", "target",
               "rnnlab % peak", "torch % peak"]
    rows = []
    for cell in cells:
        for (T, B, D, H), target in SHAPES:
            rnnlab_step, torch_step = make_pair(cell, T, B, D, H)
            for _ in range(3):  # warm-up (JIT, allocator, thread pools)
                rnnlab_step(), torch_step()
            med = interleaved_medians({"rnnlab": rnnlab_step, "torch": torch_step}, rounds, min_seconds)
            flops = step_flops(T, B, D, H, CELLS[cell][2])
            ratio = med["torch"] / med["rnnlab"]
            print(f"  {cell} {T, B, D, H}: rnnlab {1e3 * med['rnnlab']:.2f} ms, torch {1e3 * med['torch']:.2f} ms",
                  file=sys.stderr, flush=True)
            rows.append([
                cell.upper(), f"{T}, {B}, {D}, {H}", f"{1e3 * med['rnnlab']:.2f}", f"{1e3 * med['torch']:.2f}",
                f"{ratio:.2f}" + (" ✓" if ratio >= target else " ✗"), f"≥ {target:.1f}",
                f"{100 * flops / med['rnnlab'] / 1e9 / peak['peak']:.1f}",
                f"{100 * flops / med['torch'] / 1e9 / peak['peak']:.1f}",
            ])
    caption = f"medians of {rounds} interleaved rounds; float32 training step (forward + backward)"
    print_table("rnnlab vs torch.nn, CPU training step", columns, rows, caption)
    if args.markdown:
        print(markdown_table(columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
