"""``rnnlab sweep adding --cells rnn,lstm,gru --lengths 10,50,100``: which cell solves which length."""

from __future__ import annotations

from ..i18n import integer, say
from . import _seqtasks as common
from ._tables import number_column
from ._options import cell_choices, comma_list, positive_int
from .task import TASK_DEFAULTS

LENGTHS = {"adding": "10,50,100", "copy": "10,20,50"}  # default --lengths per task


def register(subparsers):
    p = subparsers.add_parser(
        "sweep", help=say("train several cells at several lengths, table and plot",
                          "entraîner plusieurs cellules à plusieurs longueurs, tableau et figure"),
        description=say("Train every cell of --cells at every length of --lengths on the adding "
                        "problem or the copy task (the memorisation study of the Chapitre), then print "
                        "a table of the final test losses and draw them against T.",
                        "Entraîner chaque cellule de --cells à chaque longueur de --lengths sur le "
                        "problème d'addition ou la copie (l'étude de mémorisation du Chapitre), "
                        "puis afficher le tableau des pertes finales de test et les tracer selon T."))
    p.add_argument("task", choices=["adding", "copy"], help=say("adding problem or copy (memorisation) task",
                                                                "problème d'addition ou tâche de copie "
                                                                "(mémorisation)"))
    p.add_argument("--cells", default="rnn,lstm,gru", help=say("comma-separated cells",
                                                               "cellules, séparées par des virgules"))
    p.add_argument("--lengths", type=comma_list(positive_int), default=None,
                   help=say(f"comma-separated lengths T (default {LENGTHS['adding']}; "
                            f"copy: {LENGTHS['copy']})",
                            f"longueurs T, séparées par des virgules (défaut {LENGTHS['adding']} ; "
                            f"copie : {LENGTHS['copy']})"))
    common.add_train_args(p, steps=TASK_DEFAULTS["adding"]["steps"], lr=0.01,
                          hidden=TASK_DEFAULTS["adding"]["hidden"],
                          cells=True, copy_defaults=TASK_DEFAULTS["copy"], skip=("resume",),
                          out="runs/sweep-<task>-<date>-<time>")
    p.set_defaults(run=run)


def results_table(results, title):
    from rich.table import Table

    table = Table(title=title)
    number_column(table, "T")  # the counts, grouped in French (12 000): kept whole
    for col in (say("cell", "cellule"), say("test loss", "perte de test"), say("baseline", "référence"),
                say("solved", "résolu")):
        table.add_column(col, justify="right")
    number_column(table, say("steps", "pas"))
    table.add_column(say("seconds", "secondes"), justify="right")
    for r in results:
        table.add_row(integer(r.T), r.cell.upper(), f"{r.test_loss:.3g}", f"{r.baseline:.3g}",
                      say("yes", "oui") if r.solved else say("no", "non"), integer(r.steps),
                      f"{r.seconds:.1f}")
    return table


def run(args) -> int:
    common.setup(args)
    from ..errors import ConfigError
    from ..tasks import check_task_memory, plot_sweep, sweep, task_name

    cells = common.parse_list(args.cells, str, "--cells")
    choices = cell_choices()
    bad = [c for c in cells if c not in choices]
    if bad:
        raise ConfigError(say(f"--cells: expected cells among {', '.join(choices)}, "
                              f"got {', '.join(bad)}",
                              f"--cells : cellules parmi {', '.join(choices)} attendues, "
                              f"reçu {', '.join(bad)}"))
    if args.layer_norm and cells != ["lstm"]:
        raise ConfigError(say("--layer-norm: expected --cells lstm (the layer-normalised LSTM)",
                              "--layer-norm : --cells lstm attendu (le LSTM normalisé par couche)"))
    for dest in ("hidden", "steps"):
        if dest not in args.given and not (dest == "steps" and "minutes" in args.given):
            setattr(args, dest, TASK_DEFAULTS[args.task][dest])  # the task's own default
    lengths = args.lengths if args.lengths is not None else comma_list(positive_int)(LENGTHS[args.task])
    train = common.train_config(args)
    chosen = ["lnlstm"] if args.layer_norm else cells
    for cell in chosen:  # the longest length of each cell, before the folder is made
        check_task_memory(args.task, cell, max(lengths), train, args.hidden, args.layers)
    out = common.out_dir(args, f"sweep-{args.task}", "sweep")
    results = sweep(args.task, chosen, lengths, train, hidden_size=args.hidden,
                    backend=common.backend(args), num_layers=args.layers, dropout=args.dropout,
                    recurrent_dropout=args.recurrent_dropout,
                    progress=lambda cell, T: common.progress(args, f"{args.task} {cell} T={T}"))
    if args.force:  # the finished sweep --out holds, replaced now that this one has its results
        from ..training.folders import remove_run_files

        if out.is_dir():
            remove_run_files(out)
    common.write_json(out / "sweep.json", [r.to_json() for r in results])
    figure = out / f"sweep-{args.task}.png"
    plot_sweep(results, figure)
    con = common.console()
    con.print(results_table(results, say(f"{args.task}: {train.steps} steps of {train.batch_size} per run",
                                         f"{task_name(args.task)} : {integer(train.steps)} pas de "
                                         f"{integer(train.batch_size)} par essai")))
    con.print(say(f"results: {out / 'sweep.json'}  figure: {figure}",
                  f"résultats : {out / 'sweep.json'}  figure : {figure}"))
    return 0
