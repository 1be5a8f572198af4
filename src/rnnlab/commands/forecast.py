"""``rnnlab forecast``: train a recurrent forecaster on a series, score it against the naive and
seasonal-naive baselines on the test span, plot forecast against actual."""

from __future__ import annotations

from ..i18n import integer, say
from . import _seqtasks as common
from ._options import model_cell


def register(subparsers):
    from ._options import fraction_float, positive_int

    p = subparsers.add_parser(
        "forecast", help=say("forecast a time series (airline, temperatures or a CSV column)",
                             "prévoir une série temporelle (airline, temperatures ou une colonne CSV)"),
        description=say("Train a many-to-one forecaster on windows of a time series, then forecast "
                        "the held-out end one step ahead and recursively; compare with the naive "
                        "and seasonal-naive baselines (RMSE, MAE) and draw the forecast.",
                        "Entraîner un prévisionniste plusieurs-à-un sur des fenêtres d'une série "
                        "temporelle, puis prévoir la fin mise de côté à un pas et en récursif ; "
                        "comparer aux références naïve et naïve saisonnière (RMSE, MAE) et tracer "
                        "la prévision."))
    p.add_argument("--series", default="airline",
                   help=say("airline, temperatures or a CSV file (default airline)",
                            "airline, temperatures ou un fichier CSV (défaut airline)"))
    p.add_argument("--column", default=None, help=say("CSV column to forecast (default: the last one)",
                                                      "colonne CSV à prévoir (défaut : la dernière)"))
    p.add_argument("--period", type=positive_int, default=None,
                   help=say("seasonal period for the seasonal-naive baseline",
                            "période saisonnière de la référence naïve saisonnière"))
    p.add_argument("--window", type=positive_int, default=12, help=say("input window (default 12)",
                                                              "fenêtre d'entrée (défaut 12)"))
    p.add_argument("--transform", default="logdiff", choices=["none", "log", "diff", "logdiff"],
                   help=say("what the model sees (default logdiff: growth rates)",
                            "ce que voit le modèle (défaut logdiff : taux de croissance)"))
    p.add_argument("--test-fraction", type=fraction_float, default=0.2,
                   help=say("last fraction of the series held out",
                            "dernière fraction de la série mise de côté"))
    common.add_train_args(p, steps=1500, lr=0.01, hidden=32, out="runs/forecast-<series>-<date>-<time>")
    p.set_defaults(run=run)


def run(args) -> int:
    common.setup(args)
    from ..data.series import load_series
    from ..forecast import ForecastConfig, fit_forecaster, plot_forecast
    from ..tasks import data_fingerprint
    from ..training import TrainingInterrupted

    resumed = common.resume_options(args, "forecast")
    series = load_series(args.series, args.column, args.period)
    fingerprint = data_fingerprint(series.values)
    if resumed:
        common.check_same_data(resumed, fingerprint, f"{args.series} ({series.column})")
    config = ForecastConfig(window=args.window, transform=args.transform,
                            test_fraction=args.test_fraction, cell=model_cell(args),
                            hidden_size=args.hidden, num_layers=args.layers,
                            dropout=args.dropout, recurrent_dropout=args.recurrent_dropout)
    train = common.train_config(args)
    out = common.run_folder(args, f"forecast-{series.name}", "forecast")
    settings = common.run_settings(args, "forecast", data_sha256=fingerprint)
    try:
        with common.training(args, out, settings, resumed, say("training", "entraînement")) as session:
            fc = fit_forecaster(series, config, train,
                                progress=session.progress, checkpoint=session.checkpoint,
                                backend=session.backend)
    except TrainingInterrupted as stop:
        return common.report_interrupted(stop, "forecast")
    common.save_run(out, "forecast", fc.model, {"task": "forecast", "train": train, **fc.meta()})
    figure = out / "forecast.png"
    plot_forecast(fc, figure)
    common.write_json(out / "scores.json", fc.scores)

    from rich.table import Table

    n_test = len(series) - fc.train_end
    table = Table(title=say(f"{series.name} ({series.column}): test span = last {n_test} "
                            f"of {len(series)} values",
                            f"{series.name} ({series.column}) : période de test = {integer(n_test)} "
                            f"dernières valeurs sur {integer(len(series))}"))
    table.add_column(say("forecast", "prévision"))
    table.add_column("RMSE", justify="right")
    table.add_column("MAE", justify="right")
    names = {"one-step": say(f"{args.cell.upper()}, one step ahead", f"{args.cell.upper()}, à un pas"),
             "recursive": say(f"{args.cell.upper()}, recursive ({n_test} steps)",
                              f"{args.cell.upper()}, récursive ({integer(n_test)} pas)"),
             "naive": say("naive  ŷ_t = y_{t−1}", "naïve  ŷ_t = y_{t−1}"),
             "seasonal-naive": say(f"seasonal naive  ŷ_t = y_{{t−{series.period}}}",
                                   f"naïve saisonnière  ŷ_t = y_{{t−{series.period}}}")}
    for key, sc in fc.scores.items():
        table.add_row(names[key], f"{sc['rmse']:.4g}", f"{sc['mae']:.4g}")
    con = common.console()
    con.print(table)
    beats = fc.scores["one-step"]["rmse"] < fc.scores["naive"]["rmse"]
    con.print(say(f"one-step forecast {'beats' if beats else 'does not beat'} the naive baseline (RMSE)",
                  f"la prévision à un pas {'bat' if beats else 'ne bat pas'} la référence naïve (RMSE)"))
    con.print(say(f"checkpoint: {out / 'forecast.safetensors'}  figure: {figure}",
                  f"point de sauvegarde : {out / 'forecast.safetensors'}  figure : {figure}"))
    return 0
