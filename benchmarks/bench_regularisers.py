"""Do the regularisers help where they are meant to? The character language model in a regime
that over-fits on purpose: a small training text (the first characters of a bundled corpus, cut
into its own contiguous training and validation parts) and an LSTM big enough to memorise it.

Variants, each trained with the same step budget, seed (initial weights, but for the LN-LSTM's
own and the head drawn after them), batches and schedule
(``rnnlab.train.Trainer``, Adam, warm-up then cosine decay or, ``--decay none``, a constant
rate, global-norm clipping):

    plain          the LSTM as ``rnnlab train`` builds it
    dropout        --dropout P            before the head (and between layers when there are several)
    rec-dropout    --recurrent-dropout P  variational dropout on h_{t-1} entering W_hh, one mask per window
    ln             --layer-norm           the layer-normalised LSTM (Ba et al. 2016)
    ln+rec-dropout both of the last two

Reported per variant, medians over the seeds: the best validation loss (nats/char) and the step
where it was reached, the final one, the final training loss measured in eval mode (no dropout)
on as many training characters as there are validation characters, the gap (final validation −
that training loss), steps and seconds per run. A figure plots the validation loss against the
step for every variant (and the training batch loss beside it).

    python benchmarks/bench_regularisers.py                  # cosine decay (rnnlab train's schedule)
    python benchmarks/bench_regularisers.py --decay none --out benchmarks/regularisers-constant-lr.png
    python benchmarks/bench_regularisers.py --quick          # a smoke run, ≈ 1 min (figure in the temp folder)

Each full run is 10 trainings (5 variants × 2 seeds), 10–15 minutes on one BLAS thread of a
loaded two-core machine. Why 60,000 characters and not more: with 120,000 (100,000 to train on)
and 400 steps, the plain model's validation loss was still falling at its last step (1.600), so
that budget did not reach the over-fitting regime this benchmark is about.
"""

from __future__ import annotations

import argparse
import io
import shlex
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, pin_threads, print_table  # noqa: E402

from rnnlab.data.corpora import load_corpus  # noqa: E402
from rnnlab.train import TrainConfig, Trainer, evaluate  # noqa: E402

# variant -> what it changes in TrainConfig (P is filled in from --p)
VARIANTS = {
    "plain": {},
    "dropout": {"dropout": "P"},
    "rec-dropout": {"recurrent_dropout": "P"},
    "ln": {"layer_norm": True},
    "ln+rec-dropout": {"layer_norm": True, "recurrent_dropout": "P"},
}
COLOURS = {"plain": "black", "dropout": "tab:blue", "rec-dropout": "tab:orange", "ln": "tab:green",
           "ln+rec-dropout": "tab:red"}


def options(variant: str, p: float) -> dict:
    return {k: (p if v == "P" else v) for k, v in VARIANTS[variant].items()}


def write_excerpt(corpus: str, chars: int, folder: Path) -> Path:
    """The first ``chars`` characters of a bundled corpus (or a file), as a UTF-8 file."""
    text = load_corpus(corpus)[:chars]
    path = folder / f"{Path(corpus).stem}-first-{chars}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def train_one(excerpt: Path, variant: str, seed: int, args, folder: Path) -> dict:
    """One run of the Trainer; the measures of the table and the curves of the figure."""
    from rich.console import Console

    cfg = TrainConfig(corpus=str(excerpt), hidden_size=args.hidden, num_layers=args.layers, seq_len=args.seq_len,
                      batch_size=args.batch, lr=args.lr, decay=args.decay, steps=args.steps, minutes=0.0,
                      eval_every=args.eval_every,
                      val_fraction=args.val_fraction, sample_length=40, seed=seed, **options(variant, args.p))
    start = time.perf_counter()
    trainer = Trainer(cfg, folder / f"{variant}-seed{seed}", console=Console(file=io.StringIO()), progress=False)
    result = trainer.run()
    seconds = time.perf_counter() - start
    val = [(r["step"], r["val_loss"]) for r in result.history if r.get("val_loss") is not None]
    best_step, best = min(val, key=lambda sv: sv[1])
    train_eval = evaluate(trainer.model, trainer.train_ids, batch_size=cfg.batch_size, seq_len=max(cfg.seq_len, 128),
                          max_chars=len(trainer.val_ids))
    return {"variant": variant, "seed": seed, "best": best, "best_step": best_step, "final": result.val_loss,
            "train_eval": train_eval, "gap": result.val_loss - train_eval, "steps": result.step, "seconds": seconds,
            "val_curve": val, "train_curve": [r["train_loss"] for r in result.history],
            "train_chars": len(trainer.train_ids), "val_chars": len(trainer.val_ids), "params": trainer.model.num_parameters()}


def summarise(runs: list, variants: list) -> list:
    """Medians over the seeds, one row per variant."""
    rows = []
    for v in variants:
        rs = [r for r in runs if r["variant"] == v]
        med = {k: statistics.median(r[k] for r in rs) for k in ("best", "best_step", "final", "train_eval", "gap",
                                                                 "seconds")}
        spread = f" ({min(r['best'] for r in rs):.3f}–{max(r['best'] for r in rs):.3f})" if len(rs) > 1 else ""
        rows.append([v, f"{med['best']:.3f}{spread}", f"{med['best_step']:.0f}", f"{med['final']:.3f}",
                     f"{med['train_eval']:.3f}", f"{med['gap']:+.3f}", f"{rs[0]['steps']}", f"{med['seconds']:.0f}"])
    return rows


def plot(runs: list, variants: list, title: str, path: Path) -> None:
    """Validation loss against the step (median over seeds, every seed faint), and the training
    batch loss (moving mean) beside it. PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_val, ax_train) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    lowest = []
    for v in variants:
        rs = [r for r in runs if r["variant"] == v]
        steps = [s for s, _ in rs[0]["val_curve"]]
        curves = np.array([[loss for _, loss in r["val_curve"]] for r in rs])  # (seeds, evaluations)
        for c in curves if len(rs) > 1 else []:
            ax_val.plot(steps, c, color=COLOURS[v], alpha=0.25, lw=0.8)
        median = np.median(curves, axis=0)
        lowest.append(median.min())
        ax_val.plot(steps, median, "o-", color=COLOURS[v], ms=3, lw=1.6, label=v)
        train = np.median(np.array([r["train_curve"] for r in rs]), axis=0)
        w = max(1, len(train) // 40)
        smooth = np.convolve(train, np.ones(w) / w, mode="valid")
        ax_train.plot(np.arange(w, len(train) + 1), smooth, color=COLOURS[v], lw=1.4, label=v)
    low = min(lowest) - 0.05
    ax_val.set_ylim(low, low + 0.75)  # the end of the curves, where the variants part (the start is off the top)
    ax_val.set_title("validation (eval mode): median over seeds, each seed faint", fontsize=10)
    ax_train.set_title("training batches (dropout on where asked), moving mean", fontsize=10)
    ax_val.set_ylabel("loss (nats per character)")
    ax_train.set_ylim(top=3.0)
    for ax in (ax_val, ax_train):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    ax_val.legend(fontsize=8)
    fig.suptitle(textwrap.fill(title, 140), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="shakespeare", help="bundled corpus or UTF-8 file (default shakespeare)")
    parser.add_argument("--chars", type=int, default=60_000, help="characters taken from its start (default 60000)")
    parser.add_argument("--val-fraction", type=float, default=1 / 6, help="held-out end of the excerpt (default 1/6)")
    parser.add_argument("--hidden", type=int, default=256, help="LSTM hidden size (default 256)")
    parser.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    parser.add_argument("--seq-len", type=int, default=64, help="truncated-BPTT window (default 64)")
    parser.add_argument("--batch", type=int, default=32, help="parallel streams (default 32)")
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate, Adam (default 1e-2)")
    parser.add_argument("--decay", choices=["cosine", "none"], default="cosine",
                        help="learning-rate decay after the warm-up (default cosine, as rnnlab train)")
    parser.add_argument("--steps", type=int, default=300, help="step budget per run (default 300)")
    parser.add_argument("--eval-every", type=int, default=20, help="evaluate every N steps (default 20)")
    parser.add_argument("--p", type=float, default=0.25, help="dropout probability of the dropout variants (default 0.25)")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1: the machine is shared)")
    parser.add_argument("--out", default=None, help="figure (PNG; default benchmarks/regularisers.png, with --quick "
                                                    "regularisers-quick.png in the temporary folder)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40k characters, 60 steps, one seed")
    args = parser.parse_args(argv)
    if args.quick:
        args.chars, args.steps, args.eval_every, args.seeds, args.hidden = 40_000, 60, 10, "0", 128
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"--variants: expected names among {', '.join(VARIANTS)}, got {', '.join(unknown)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    threads = pin_threads(args.threads)
    command = "python benchmarks/bench_regularisers.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    print(command.strip())
    runs = []
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-reg-") as tmp:
        excerpt = write_excerpt(args.corpus, args.chars, Path(tmp))
        for seed in seeds:
            for v in variants:
                r = train_one(excerpt, v, seed, args, Path(tmp))
                runs.append(r)
                print(f"  {v:<15} seed {seed}: best val {r['best']:.3f} at step {r['best_step']}, final {r['final']:.3f}, "
                      f"train (eval mode) {r['train_eval']:.3f}, gap {r['gap']:+.3f}, {r['seconds']:.0f} s", flush=True)
    r0 = runs[0]
    setup = (f"{args.corpus}, first {args.chars:,} characters: {r0['train_chars']:,} training / {r0['val_chars']:,} "
             f"validation; LSTM {args.layers}×{args.hidden} ({r0['params']:,} parameters plain), T={args.seq_len} "
             f"B={args.batch}, Adam lr {args.lr:g} {'cosine' if args.decay == 'cosine' else 'constant'}, {args.steps} steps "
             f"({args.steps * args.seq_len * args.batch / r0['train_chars']:.1f} epochs), p = {args.p:g}, "
             f"seeds {args.seeds}, {threads} thread(s)")
    print(setup)
    columns = ["variant", "best val (range)", "at step", "final val", "train (eval mode)", "gap", "steps", "s/run"]
    rows = summarise(runs, variants)
    print_table("Regularisers on an over-fitting character LM (nats/char, medians over seeds)", columns, rows,
                caption=setup)
    print(markdown_table(columns, rows))
    out = Path(args.out) if args.out else (Path(tempfile.gettempdir()) / "regularisers-quick.png" if args.quick
                                           else Path(__file__).resolve().parent / "regularisers.png")
    plot(runs, variants, setup, out)
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
