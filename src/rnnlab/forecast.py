r"""Forecasting a series with a many-to-one recurrent regressor (the Cours' "day 5", for real).

The pipeline, each step a small function of :mod:`rnnlab.data.series`:

1. load the series; split it chronologically: training span ``[0, train_end)``, test span
   ``[test_start, N)``;
2. transform it (``logdiff``: z_t = log y_t − log y_{t−1}, which turns the airline series'
   growing trend and multiplicative seasonality into a stationary one);
3. standardise with μ, σ fitted on the training span only;
4. train on the windows whose target lies in the training span: ``(z_{t−w}, …, z_{t−1}) ↦ z_t``;
5. forecast one step ahead from the true history (every t), and recursively over the test span
   from the end of the training span (each prediction fed back as the next input);
6. score RMSE and MAE on the test span next to the naive ``ŷ_t = y_{t−1}`` and the seasonal
   naive ``ŷ_t = y_{t−m}`` forecasts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .data.series import (Scaler, Series, chronological_split, mae, naive_forecast, rmse,
                          transform, untransform_step, windows)
from .errors import DataError
from .i18n import integer, say
from .seqmodels import SeqModelConfig, build_model
from .tasks import TrainConfig, train_model


@dataclass(frozen=True)
class ForecastConfig:
    """Everything a forecast run depends on (saved in its checkpoint)."""

    window: int = 12
    transform: str = "logdiff"
    test_fraction: float = 0.2
    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0
    recurrent_dropout: float = 0.0


@dataclass
class Forecast:
    """What :func:`fit_forecaster` returns: the model, the arrays and the scores."""

    series: Series
    config: ForecastConfig
    train_end: int
    model: object
    scaler: Scaler
    one_step: np.ndarray  # (N,) NaN where no window fits
    recursive: np.ndarray  # (N,) NaN outside the test span
    scores: dict
    history: object

    def meta(self) -> dict:
        return {"series": self.series.name, "source": self.series.source, "column": self.series.column,
                "period": self.series.period, "train_end": self.train_end, "forecast": asdict(self.config),
                "model": self.model.config.to_json(),
                "scaler": {"mean": self.scaler.mean, "std": self.scaler.std}, "scores": self.scores}


def _offset(kind):
    return 1 if kind in ("diff", "logdiff") else 0


def prepare(series: Series, config: ForecastConfig):
    """Transformed, scaled series and the split: ``(s (N−d,), scaler, train_end, d)``.

    ``s[i]`` belongs to ``y[i + d]`` (d = 1 for the differenced transforms)."""
    split = chronological_split(len(series), config.test_fraction)
    d = _offset(config.transform)
    z = transform(series.values, config.transform)
    if split.train_end - d <= config.window:
        raise DataError(say(f"{series.source}: column {series.column!r}: a training span of "
                            f"{split.train_end} values is too short for a window of {config.window} "
                            f"(expected more than {config.window + d} training values)",
                            f"{series.source} : colonne « {series.column} » : une période d'entraînement de "
                            f"{integer(split.train_end)} valeurs est trop courte pour une fenêtre de "
                            f"{integer(config.window)} (plus de {integer(config.window + d)} valeurs "
                            f"d'entraînement attendues)"))
    scaler = Scaler.fit(z[:split.train_end - d])  # the training span only
    return scaler.apply(z), scaler, split.train_end, d


def _predict_next(model, s_windows, prev_values, scaler, kind):
    """One step ahead from windows ``(N, w)`` of scaled values: back to the series' units."""
    s_next = model(s_windows.T[:, :, None].astype(model.dtype))[:, 0].astype(np.float64)  # (N,)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by the caller, once
        return untransform_step(scaler.invert(s_next), prev_values, kind)


def one_step_forecasts(model, series, s, scaler, config, d):
    """ŷ_t from the true history for every t that has a full window; NaN before."""
    X, _ = windows(s, config.window, series.source)  # X[n] predicts s[n + w] = y[n + w + d]
    targets = np.arange(len(X)) + config.window + d
    out = np.full(len(series), np.nan)
    out[targets] = _predict_next(model, X, series.values[targets - 1], scaler, config.transform)
    return out


def _check_forecast(value: float, k: int, steps: int) -> None:
    """A recursive forecast that left the finite numbers (each prediction feeds the next, and
    ``log``/``logdiff`` exponentiate it) stops there: :class:`rnnlab.training.Diverged`, saying
    which step, rather than a model fed with infinity."""
    from .training import Diverged

    if not math.isfinite(value):
        raise Diverged(say(f"forecast: the recursive forecast is {value} at step {k + 1} of {steps}: the "
                           "model diverges when fed its own predictions (its checkpoint is kept); try a "
                           "smaller --lr, or --transform diff",
                           f"prévision : la prévision récursive vaut {value} au pas {k + 1} sur {steps} : "
                           "le modèle diverge quand il reçoit ses propres prévisions (son point de "
                           "sauvegarde est conservé) ; essayer un --lr plus petit, ou --transform diff"))


def recursive_forecast(model, series, s, scaler, config, d, start, steps):
    """ŷ_start … ŷ_{start+steps−1}, each prediction fed back as history (multi-step, recursive)."""
    history = list(s[:start - d])  # scaled values known at time start
    level = series.values[start - 1]
    out = np.empty(steps)
    for k in range(steps):
        window = np.asarray(history[-config.window:])[None, :]
        value = float(_predict_next(model, window, np.array([level]), scaler, config.transform)[0])
        _check_forecast(value, k, steps)
        out[k] = value
        # the value's own transform, scaled, joins the history
        if config.transform == "none":
            z = value
        elif config.transform == "log":
            z = np.log(value)
        elif config.transform == "diff":
            z = value - level
        else:
            z = np.log(value) - np.log(level)
        history.append(float(scaler.apply(z)))
        level = value
    return out


def score(series: Series, train_end: int, one_step, recursive) -> dict:
    """RMSE and MAE on the test span ``[train_end, N)`` of the model and of the baselines."""
    y = series.values[train_end:]
    scores = {"one-step": {"rmse": rmse(one_step[train_end:], y), "mae": mae(one_step[train_end:], y)},
              "recursive": {"rmse": rmse(recursive[train_end:], y), "mae": mae(recursive[train_end:], y)}}
    naive = naive_forecast(series.values, train_end, lag=1)
    scores["naive"] = {"rmse": rmse(naive, y), "mae": mae(naive, y)}
    m = series.period
    if m and train_end - m >= 0:
        seasonal = naive_forecast(series.values, train_end, lag=m)
        scores["seasonal-naive"] = {"rmse": rmse(seasonal, y), "mae": mae(seasonal, y)}
    return scores


def fit_forecaster(series: Series, config: ForecastConfig, train: TrainConfig, callback=None,
                   checkpoint=None, backend=None, progress=None) -> Forecast:
    """Train a forecaster on the training span of ``series`` and score it on the test span;
    ``checkpoint``, ``backend``: see :func:`rnnlab.tasks.train_model` (save the run, resume it;
    NumPy or torch)."""
    s, scaler, train_end, d = prepare(series, config)
    X, y = windows(s, config.window, series.source)
    n_train = train_end - d - config.window  # windows whose target y[n + w + d] < train_end
    X_train, y_train = X[:n_train], y[:n_train]
    model = build_model(SeqModelConfig("regressor", 1, config.hidden_size, 1, cell=config.cell,
                                       num_layers=config.num_layers, dropout=config.dropout,
                                       recurrent_dropout=config.recurrent_dropout),
                        seed=train.seed)

    def draw(rng, b):
        idx = rng.integers(0, n_train, size=min(b, n_train))
        return X_train[idx].T[:, :, None], y_train[idx][:, None], None

    def evaluate(m):
        pred = m(X_train.T[:, :, None].astype(m.dtype))[:, 0]
        return {"mse": float(np.mean((pred - y_train) ** 2))}

    history = train_model(model, draw, train, evaluate, callback, checkpoint, backend, progress)
    one = one_step_forecasts(model, series, s, scaler, config, d)
    rec = np.full(len(series), np.nan)
    rec[train_end:] = recursive_forecast(model, series, s, scaler, config, d, train_end,
                                         len(series) - train_end)
    return Forecast(series, config, train_end, model, scaler, one, rec, score(series, train_end, one, rec),
                    history)


def plot_forecast(fc: Forecast, path, title=None):
    """Actual series, one-step and recursive forecasts; the training span shaded. Written to
    ``path`` (.png or .svg; the folder is created) by :func:`rnnlab.plots.save_figure`."""
    from matplotlib.figure import Figure

    from .plots import save_figure

    n = len(fc.series)
    t = np.arange(n)
    fig = Figure(figsize=(8.0, 4.2))
    ax = fig.add_subplot()
    ax.axvspan(-0.5, fc.train_end - 0.5, color="0.9", label=say("training span", "période d'entraînement"))
    ax.plot(t, fc.series.values, color="black", lw=1.2, label=say("actual", "observé"))
    ax.plot(t, fc.one_step, color="tab:blue", lw=1.0, label=say("one step ahead", "à un pas"))
    ax.plot(t, fc.recursive, color="tab:red", lw=1.2, ls="--",
            label=say("recursive (multi-step)", "récursive (plusieurs pas)"))
    ticks = np.linspace(0, n - 1, 7).astype(int)
    ax.set_xticks(ticks, [fc.series.labels[k] for k in ticks], fontsize=8)
    ax.set_xlim(-0.5, n - 0.5)
    one, naive = fc.scores["one-step"]["rmse"], fc.scores["naive"]["rmse"]
    ax.set_title(title or say(f"{fc.series.name}: test RMSE one-step {one:.3g}, naive {naive:.3g}",
                              f"{fc.series.name} : RMSE de test à un pas {one:.3g}, naïve {naive:.3g}"))
    ax.set_ylabel(fc.series.column)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=120)
