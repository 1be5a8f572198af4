"""How many steps a ``rnnlab train`` configuration runs in five idle minutes, measured on a busy machine.

A run with a step budget is exactly reproducible: its validation loss depends on its settings and
its number of steps, not on the machine's load. What a configuration reaches in five minutes on two
idle cores is therefore its loss after the number of steps it would run there, and that number is

    N = (300 s − k · e) / t,        t = ρ · t_ref,   e = ε · t_ref

with ``t_ref`` the idle time of the reference configuration's step (the README's run of the old
default: 1,914 steps at 27,113 chars/s of training, so t_ref = 64 · 64 / 27,113 = 0.1511 s),
ρ the configuration's step time over the reference's and ε one evaluation's time over a reference
step (what :meth:`rnnlab.training.Run.evaluate` does during a run: validation, sample, checkpoints,
CSV and figure), both **measured in this process, interleaved** with the reference (medians over
rounds), so that the machine's load, which slows both alike, cancels; ``k`` is the number of
evaluations inside the five minutes (the run's last one comes after them). Then train the
configuration with ``rnnlab train --steps N`` (any load: the result is the same) and read its
validation loss.

    python benchmarks/bench_five_minutes.py --threads 1 "batch_size=128 lr=0.02" "hidden_size=384"

Each argument is a configuration: ``field=value`` pairs of :class:`rnnlab.train.TrainConfig`
replacing the *reference* ones (``--reference``, by default the old default LSTM 1×256, E = 64,
T = 64, B = 64). The step timed is the one ``rnnlab train`` runs (``Run.step_once``).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import interleaved_medians, markdown_table, pin_threads, print_table  # noqa: E402

from rnnlab.train import TrainConfig, Trainer  # noqa: E402

REFERENCE = "hidden_size=256 num_layers=1 embedding_dim=64 seq_len=64 batch_size=64 lr=0.01"
T_REF = 64 * 64 / 27_113  # seconds per step of the reference on two idle cores (README's run)
BUDGET_SECONDS = 300.0


def parse_config(spec: str, base: TrainConfig) -> TrainConfig:
    """``"batch_size=128 lr=0.02"`` → ``base`` with those fields replaced (typed as the field)."""
    types = {f.name: type(getattr(base, f.name)) for f in fields(base)}
    changes = {}
    for pair in spec.split():
        name, _, value = pair.partition("=")
        if name not in types:
            raise SystemExit(f"{spec!r}: {name!r} is not a TrainConfig field")
        kind = types[name]
        changes[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return replace(base, **changes)


def trainer_for(cfg: TrainConfig) -> Trainer:
    from rich.console import Console

    return Trainer(replace(cfg, steps=10**9, minutes=0), Path(tempfile.mkdtemp(prefix="bench-5min-")) / "run",
                   console=Console(file=io.StringIO()), progress=False)


def evaluations_within(cfg: TrainConfig, step_seconds: float, eval_seconds: float) -> int:
    """Evaluations a time-budget run of :data:`BUDGET_SECONDS` makes before its end (every
    ``cfg.eval_seconds`` of the clock, evaluations included; the final one is not counted)."""
    k, clock = 0, 0.0
    while True:
        clock += cfg.eval_seconds
        if clock >= BUDGET_SECONDS:
            return k
        k += 1
        clock += eval_seconds


def measure(cfg: TrainConfig, ref: TrainConfig, rounds: int) -> dict:
    """ρ and ε of ``cfg`` against ``ref``, interleaved in this process."""
    ours, theirs = trainer_for(cfg), trainer_for(ref)
    for t in (ours, theirs):  # warm-up (numba, first allocations), and a history for the evaluation
        for _ in range(3):
            t.engine.step_once()
    fns = {"reference step": lambda: theirs.engine.step_once(),
           "step": lambda: ours.engine.step_once(),
           "evaluation": lambda: ours.engine.evaluate()}
    seconds = interleaved_medians(fns, rounds, min_seconds=1.0)
    rho = seconds["step"] / seconds["reference step"]
    eps = seconds["evaluation"] / seconds["reference step"]
    t, e = rho * T_REF, eps * T_REF
    k = evaluations_within(cfg, t, e)
    return {"rho": rho, "eps": eps, "k": k, "steps": int((BUDGET_SECONDS - k * e) / t),
            "chars_per_step": cfg.batch_size * cfg.seq_len}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="*", help='configurations: "field=value …" (TrainConfig fields)')
    parser.add_argument("--reference", default=REFERENCE,
                        help=f"the reference configuration (default {REFERENCE!r})")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: BLAS's)")
    args = parser.parse_args(argv)
    threads = pin_threads(args.threads, torch_too=False)
    ref = parse_config(args.reference, TrainConfig())
    rows = []
    for spec in args.configs or [""]:
        cfg = parse_config(spec, ref)
        m = measure(cfg, ref, args.rounds)
        rows.append([spec or "(reference)", f"{m['rho']:.3f}", f"{m['eps']:.1f}", m["k"], m["steps"],
                     f"{m['steps'] * m['chars_per_step'] / 1e6:.2f}"])
        print(rows[-1], flush=True)
    columns = ["configuration (over the reference)", "step time / reference", "evaluation / reference step",
               "evaluations in 5 min", "estimated steps in 5 idle min", "M chars"]
    print_table(f"five idle minutes, estimated ({threads} thread(s); t_ref = {T_REF * 1000:.1f} ms)",
                columns, rows)
    print(markdown_table(columns, rows))


if __name__ == "__main__":
    main()
