"""``rnnlab classify``: a many-to-one sequence classifier on a synthetic or a CSV data set."""

from __future__ import annotations

from ..i18n import integer, say
from . import _seqtasks as common


def register(subparsers):
    from ._options import fraction_float, positive_int

    p = subparsers.add_parser(
        "classify", help=say("train a sequence classifier (synthetic or CSV data)",
                             "entraîner un classifieur de séquences (données synthétiques ou CSV)"),
        description=say("Train a many-to-one sequence classifier (the state at each sequence's "
                        "true length, then a linear head) on synthetic or CSV data, and report its "
                        "accuracy on held-out sequences.",
                        "Entraîner un classifieur de séquences plusieurs-à-un (l'état à la vraie "
                        "longueur de chaque séquence, puis une tête linéaire) sur des données "
                        "synthétiques ou CSV, et donner son exactitude sur des séquences mises de "
                        "côté."))
    p.add_argument("--data", default="synthetic", help=say(
        "'synthetic' (rising / falling / oscillating, variable lengths) or a long-format CSV: columns "
        "sequence, t, label and numeric features",
        "« synthetic » (montante / descendante / oscillante, longueurs variables) ou un CSV au "
        "format long : colonnes « sequence », « t », « label » et des variables numériques"))
    p.add_argument("--label-column", default="label",
                   help=say("CSV: the column holding the class (default label)",
                            "CSV : la colonne de la classe (défaut « label »)"))
    p.add_argument("--sequence-column", default="sequence",
                   help=say("CSV: the column naming each sequence (default sequence)",
                            "CSV : la colonne qui nomme chaque séquence (défaut « sequence »)"))
    p.add_argument("--samples", type=positive_int, default=600, help=say("synthetic: number of sequences",
                                                                "synthétique : nombre de séquences"))
    p.add_argument("--test-fraction", type=fraction_float, default=0.2,
                   help=say("fraction of the sequences held out for the test (default 0.2)",
                            "part des séquences mise de côté pour le test (défaut 0,2)"))
    p.add_argument("--bidirectional", action="store_true",
                   help=say("read each sequence in both directions",
                            "lire chaque séquence dans les deux sens"))
    common.add_train_args(p, steps=300, lr=0.01, hidden=16, out="runs/classify-<date>-<time>")
    p.set_defaults(run=run)


def run(args) -> int:
    common.setup(args)
    from ..tasks import classification_data, run_classification
    from ..training import TrainingInterrupted
    from ..training.history import plot as plot_loss

    resumed = common.resume_options(args, "classify")
    unused = ("label_column", "sequence_column") if args.data == "synthetic" else ("samples",)
    common.refuse_unused(args, unused, f"--data {args.data}")
    data = classification_data(args.data, samples=args.samples, test_fraction=args.test_fraction,
                               label_column=args.label_column, sequence_column=args.sequence_column,
                               seed=args.seed)
    if resumed:
        common.check_same_data(resumed, data.fingerprint, args.data)
    train = common.train_config(args)
    out = common.run_folder(args, "classify", "classify")
    settings = common.run_settings(args, "classify", data_sha256=data.fingerprint)
    try:
        with common.training(args, out, settings, resumed, say("training", "entraînement")) as session:
            result = run_classification(
                data, train, hidden_size=args.hidden, cell=args.cell, layer_norm=args.layer_norm,
                num_layers=args.layers, bidirectional=args.bidirectional, dropout=args.dropout,
                recurrent_dropout=args.recurrent_dropout,
                progress=session.progress, backend=session.backend, checkpoint=session.checkpoint)
    except TrainingInterrupted as stop:
        return common.report_interrupted(stop, "classify")
    scores = result.to_json(data)
    common.save_run(out, "classifier", result.model, {"task": "classify", "data": args.data,
                                                      "features": data.features, "train": train,
                                                      "result": scores})
    common.write_json(out / "result.json", scores)
    figure = out / "loss.png"  # the engine's figure, titled with the result
    plot_loss(figure, result.history, say(f"classifier: test accuracy {result.accuracy:.3f}",
                                          f"classifieur : exactitude de test {result.accuracy:.3f}"),
              "accuracy")
    lengths, n, K = data.lengths, len(data.y), data.classes
    n_train, n_test = len(data.train), len(data.test)
    con = common.console()
    con.print(say(f"{n} sequences ({n_train} train, {n_test} test), {K} classes, lengths "
                  f"{lengths.min()}–{lengths.max()}: test accuracy {result.accuracy:.3f} (majority class "
                  f"{result.majority_baseline:.3f})",
                  f"{integer(n)} séquences ({integer(n_train)} d'entraînement, {integer(n_test)} de test), "
                  f"{K} classes, longueurs {lengths.min()}–{lengths.max()} : exactitude de test "
                  f"{result.accuracy:.3f} (classe majoritaire {result.majority_baseline:.3f})"))
    con.print(say(f"checkpoint: {out / 'classifier.safetensors'}  figure: {figure}",
                  f"point de sauvegarde : {out / 'classifier.safetensors'}  figure : {figure}"))
    return 0
