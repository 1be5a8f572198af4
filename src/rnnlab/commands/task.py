"""``rnnlab task adding|copy``: train one cell on a long-memory task of length T."""

from __future__ import annotations

import textwrap

from ..i18n import integer, say
from . import _seqtasks as common
from ._options import model_cell

# The options whose default depends on the task (the others are shared). Copy: the default LSTM
# solves T = 20 in about 1,300 of the 2,000 steps, well under a minute (benchmarks/README.md).
TASK_DEFAULTS = {"adding": {"length": 30, "hidden": 32, "steps": 1500},
                 "copy": {"length": 20, "hidden": 64, "steps": 2000}}


def register(subparsers):
    p = subparsers.add_parser(
        "task", help=say("train a cell on the adding problem or the copy task",
                         "entraîner une cellule sur le problème d'addition ou la copie"),
        description=say("Train one cell on a long-memory task of length T (the adding problem, or "
                        "the copy task with a delay T), score it on a fixed test set, say whether "
                        "it solved the task, and save the checkpoint, the result (JSON) and the "
                        "loss curve.",
                        "Entraîner une cellule sur une tâche de mémoire longue de longueur T (le "
                        "problème d'addition, ou la copie avec un délai T), la noter sur un jeu de "
                        "test fixe, dire si elle a résolu la tâche, et sauvegarder le point de "
                        "reprise, le résultat (JSON) et la courbe de perte."))
    p.add_argument("task", nargs="?", choices=["adding", "copy"],
                   help=say("adding problem or copy (memorisation) task (with --resume: the run's)",
                            "problème d'addition ou tâche de copie (mémorisation) "
                            "(avec --resume : celle de l'entraînement repris)"))
    p.add_argument("--length", "-T", type=int, default=TASK_DEFAULTS["adding"]["length"],
                   help=say("sequence length T (default 30); copy: the delay between the symbols and "
                            "the delimiter (default 20)",
                            "longueur T (défaut 30) ; copie : le délai entre les symboles et le "
                            "délimiteur (défaut 20)"))
    common.add_train_args(p, steps=1500, lr=0.01, hidden=32, copy_defaults=TASK_DEFAULTS["copy"],
                          out="runs/<task>-<cell>-T<length>-<date>-<time>")
    p.set_defaults(run=run)


def describe(result) -> str:
    from .. import cells
    from ..tasks import task_name

    name = cells.get(result.cell).label_in()  # "LSTM", "LN-LSTM", …
    verdict = say("SOLVED", "RÉSOLU") if result.solved else say("not solved", "non résolu")
    acc = "" if result.accuracy is None else say(f", recall accuracy {result.accuracy:.3f}",
                                                 f", exactitude du rappel {result.accuracy:.3f}")
    return say(f"{result.task} T={result.T} {name}: test loss {result.test_loss:.3g} "
               f"(baseline {result.baseline:.3g}{acc}) after {result.steps} steps, "
               f"{result.seconds:.1f} s: {verdict}",
               f"{task_name(result.task)} T={result.T} {name} : perte de test {result.test_loss:.3g} "
               f"(référence {result.baseline:.3g}{acc}) après {integer(result.steps)} pas, "
               f"{result.seconds:.1f} s : {verdict}")


def run(args) -> int:
    common.setup(args)
    from ..errors import ConfigError
    from ..training import TrainingInterrupted
    from ..tasks import RUNNERS, check_task_memory
    from ..training.history import plot as plot_loss

    resumed = common.resume_options(args, "task")
    if args.task is None:
        raise ConfigError(say("task: expected adding or copy (or --resume RUN_DIR)",
                              "tâche : adding ou copy attendu (ou --resume DOSSIER)"))
    if not resumed:  # a resumed run has its own options
        given = getattr(args, "given", set())
        for dest, value in TASK_DEFAULTS[args.task].items():
            if dest not in given and not (dest == "steps" and "minutes" in given):
                setattr(args, dest, value)
    train = common.train_config(args)
    cell = model_cell(args)
    check_task_memory(args.task, cell, args.length, train, args.hidden, args.layers)  # before the folder
    out = common.run_folder(args, f"{args.task}-{cell}-T{args.length}", "task")
    try:
        with common.training(args, out, common.run_settings(args, "task"), resumed,
                             f"{args.task} {cell} T={args.length}") as session:
            result, model, history = RUNNERS[args.task](
                cell, args.length, train, hidden_size=args.hidden, recurrent_dropout=args.recurrent_dropout,
                num_layers=args.layers, dropout=args.dropout,
                progress=session.progress, return_model=True, backend=session.backend,
                checkpoint=session.checkpoint)
    except TrainingInterrupted as stop:
        return common.report_interrupted(stop, "task")
    common.save_run(out, args.task, model, {"task": args.task, "train": train, "result": result.to_json()})
    common.write_json(out / "result.json", result.to_json())
    figure = out / "loss.png"  # the engine's figure, titled with the verdict
    plot_loss(figure, history, textwrap.fill(describe(result), 60),
              "mse" if args.task == "adding" else "loss")
    con = common.console()
    con.print(describe(result))
    con.print(say(f"checkpoint: {out / (args.task + '.safetensors')}  figure: {figure}",
                  f"point de sauvegarde : {out / (args.task + '.safetensors')}  figure : {figure}"))
    return 0
