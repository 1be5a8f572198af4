"""``rnnlab classify``: a many-to-one sequence classifier on a synthetic or a CSV data set."""

from __future__ import annotations

import numpy as np

from ..i18n import say
from . import _seqtasks as common


def register(subparsers):
    p = subparsers.add_parser("classify", help=say("train a sequence classifier (synthetic or CSV data)",
                                                   "entraîner un classifieur de séquences (données synthétiques ou CSV)"),
                              description=say("Train a many-to-one sequence classifier (the state at each sequence's "
                                              "true length, then a linear head) on synthetic or CSV data, and report its "
                                              "accuracy on held-out sequences.",
                                              "Entraîner un classifieur de séquences many-to-one (l'état à la vraie "
                                              "longueur de chaque séquence, puis une tête linéaire) sur des données "
                                              "synthétiques ou CSV, et donner son exactitude sur des séquences mises de "
                                              "côté."))
    p.add_argument("--data", default="synthetic", help=say(
        "'synthetic' (rising / falling / oscillating, variable lengths) or a long-format CSV: columns "
        "sequence, t, label and numeric features",
        "'synthetic' (montante / descendante / oscillante, longueurs variables) ou un CSV long : colonnes "
        "sequence, t, label et des variables numériques"))
    p.add_argument("--label-column", default="label", help=say("CSV: the column holding the class (default label)",
                                                               "CSV : la colonne de la classe (défaut label)"))
    p.add_argument("--sequence-column", default="sequence", help=say("CSV: the column naming each sequence (default sequence)",
                                                                     "CSV : la colonne qui nomme chaque séquence (défaut sequence)"))
    p.add_argument("--samples", type=int, default=600, help=say("synthetic: number of sequences", "synthétique : nombre de séquences"))
    p.add_argument("--test-fraction", type=float, default=0.2, help=say("fraction of the sequences held out for the test (default 0.2)",
                                                                      "part des séquences mise de côté pour le test (défaut 0,2)"))
    p.add_argument("--bidirectional", action="store_true", help=say("read each sequence in both directions",
                                                                    "lire chaque séquence dans les deux sens"))
    common.add_train_args(p, steps=300, lr=0.01, hidden=16)
    p.set_defaults(run=run)


def run(args) -> int:
    common.setup(args)
    from ..errors import ConfigError
    from ..seqmodels import SeqModelConfig, build_model
    from ..training import TrainingInterrupted
    from ..tasks import load_classification_csv, make_classification, train_model
    from ..training.history import plot as plot_loss

    resumed = common.resume_options(args, "classify")
    rng = np.random.default_rng(args.seed)
    if args.data == "synthetic":
        x, y, lengths = make_classification(args.samples, rng)
        names = ["shape", "noise1", "noise2"]
    else:
        x, y, lengths, names = load_classification_csv(args.data, args.label_column, args.sequence_column)
    n = len(y)
    n_test = int(round(n * args.test_fraction))
    if not 0 < n_test < n:
        raise ConfigError(f"--test-fraction {args.test_fraction}: leaves {n - n_test} training and {n_test} test "
                          f"sequences of {n} (expected at least one of each)")
    order = rng.permutation(n)
    test, train_idx = order[:n_test], order[n_test:]
    K = int(y.max()) + 1
    config = SeqModelConfig("classifier", x.shape[2], args.hidden, K, cell=args.cell, layer_norm=args.layer_norm,
                            num_layers=args.layers, bidirectional=args.bidirectional, dropout=args.dropout,
                            recurrent_dropout=args.recurrent_dropout)
    model = build_model(config, seed=args.seed)
    fingerprint = common.data_fingerprint(x, y, lengths)
    if resumed:
        common.check_same_data(resumed, fingerprint, args.data)

    def draw(r, b):
        idx = r.choice(train_idx, size=min(b, len(train_idx)), replace=False)
        T = int(lengths[idx].max())
        return x[:T, idx], y[idx], lengths[idx]

    def evaluate(m):
        logits = m(x[:, test], lengths[test])
        return {"accuracy": float(np.mean(np.argmax(logits, axis=1) == y[test]))}

    train = common.train_config(args)
    out = common.run_folder(args, "classify", "classify")
    settings = common.run_settings(args, "classify", data_sha256=fingerprint)
    try:
        with common.training(args, out, settings, resumed, train.steps, say("training", "entraînement")) as session:
            history = train_model(model, draw, train, evaluate, callback=lambda s, loss, sc: session.update(loss=loss),
                                  checkpoint=session.checkpoint, backend=session.backend)
    except TrainingInterrupted as stop:
        return common.report_interrupted(stop, "classify")
    accuracy = history.eval_scores[-1]["accuracy"]
    majority = float(np.mean(y[test] == np.bincount(y[train_idx], minlength=K).argmax()))
    meta = {"task": "classify", "data": args.data, "features": names, "train": train,
            "result": {"accuracy": accuracy, "majority_baseline": majority, "n_train": len(train_idx), "n_test": n_test}}
    common.save_run(out, "classifier", model, meta)
    common.write_json(out / "result.json", meta["result"])
    figure = out / "loss.png"  # the engine's figure, titled with the result
    plot_loss(figure, history, say(f"classifier: test accuracy {accuracy:.3f}",
                                   f"classifieur : exactitude de test {accuracy:.3f}"), "accuracy")
    con = common.console()
    con.print(say(f"{n} sequences ({len(train_idx)} train, {n_test} test), {K} classes, lengths "
                  f"{lengths.min()}–{lengths.max()}: test accuracy {accuracy:.3f} (majority class {majority:.3f})",
                  f"{n} séquences ({len(train_idx)} entraînement, {n_test} test), {K} classes, longueurs "
                  f"{lengths.min()}–{lengths.max()} : exactitude de test {accuracy:.3f} (classe majoritaire {majority:.3f})"))
    con.print(say(f"checkpoint: {out / 'classifier.safetensors'}  figure: {figure}",
                  f"point de sauvegarde : {out / 'classifier.safetensors'}  figure : {figure}"))
    return 0
