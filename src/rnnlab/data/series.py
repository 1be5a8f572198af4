"""Time series for forecasting: loading, transforms, scaling, windows, splits, baselines, scores.

The course's "day 5" (Cours): read the values of days 1–4, predict day 5. In general a
window of ``w`` past values ``(y_{t−w}, …, y_{t−1})`` is the input sequence of a many-to-one
regressor whose target is ``y_t``.

Bundled series (``load_series("airline")``, ``load_series("temperatures")``; origins and
licences in ``data/series/ORIGINS.md``):

- ``airline``: monthly international airline passengers (thousands), 1949-01 … 1960-12 (144);
- ``temperatures``: daily minimum temperature in Melbourne (°C), 1981 … 1990 (3,650).

Any CSV file with a header row works too: ``load_series("my.csv", column="value")``.

Three rules keep the evaluation honest:

1. the split is chronological (train, then validation, then test: never shuffled);
2. the scaler is fitted on the training span only (no look-ahead into the test span);
3. every score is reported next to the naive forecast ``ŷ_t = y_{t−1}`` and the seasonal naive
   forecast ``ŷ_t = y_{t−m}`` on the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from ..i18n import integer, say
from .table import expect_column, expect_unique, read_csv, read_number

SERIES_DIR = Path(__file__).with_name("series")

#: bundled name -> (file, value column, period of the seasonality, description)
BUNDLED = {
    "airline": ("airline-passengers.csv", "Passengers", 12,
                "monthly airline passengers (thousands), 1949-01 … 1960-12, Box & Jenkins series G"),
    "temperatures": ("daily-min-temperatures.csv", "Temp", 365,
                     "daily minimum temperature in Melbourne (°C), 1981 … 1990, Bureau of Meteorology"),
}


@dataclass(frozen=True)
class Series:
    """A univariate series: ``values (N,)`` float64, the ``labels`` (dates) of the first column,
    where it came from, and its seasonal period (``None`` when unknown)."""

    name: str
    values: np.ndarray
    labels: tuple
    source: str
    column: str
    period: int | None = None

    def __len__(self):
        return len(self.values)


def load_series(name_or_path: str, column: str | None = None, period: int | None = None) -> Series:
    """A bundled series by name, or a column of a CSV file with a header row.

    ``column`` defaults to the bundled column, or for a CSV to its last column. Raises
    :class:`DataError` naming the file, the column and the row (the file's line number) for a
    missing file or column, an empty file, a non-numeric or non-finite value.
    """
    if name_or_path in BUNDLED:
        file, default_column, default_period, _ = BUNDLED[name_or_path]
        path, name = SERIES_DIR / file, name_or_path
        column = column or default_column
        period = period if period is not None else default_period
    else:
        path, name = Path(name_or_path), Path(name_or_path).stem
        if not path.is_file():
            raise DataError(say(f"{path}: no such file (expected a CSV file or one of "
                                f"{', '.join(sorted(BUNDLED))})",
                                f"{path} : fichier introuvable (un fichier CSV ou l'une des séries "
                                f"{', '.join(sorted(BUNDLED))} attendus)"))
    labels, values, column = _read_csv_column(path, column)
    return Series(name, values, labels, str(path), column, period)


def _read_csv_column(path: Path, column: str | None):
    """The labels (the first column, each time step once) and the values of ``column``
    (:mod:`rnnlab.data.table`: strict rows, finite numbers of a bounded magnitude)."""
    header, rows = read_csv(path)
    column = header[-1] if column is None else column
    expect_column(path, column, header)
    k = header.index(column)
    values = [read_number(path, column, line, row[k]) for line, row in rows]
    if k != 0:
        expect_unique(path, header[0], ((line, row[0]) for line, row in rows))
    labels = [row[0] if k != 0 else str(line - 1) for line, row in rows]
    if not values:
        raise DataError(say(f"{path}: column {column!r} holds no values "
                            "(expected at least one row after the header)",
                            f"{path} : la colonne « {column} » ne contient aucune valeur "
                            "(au moins une ligne attendue après l'en-tête)"))
    return tuple(labels), np.asarray(values, dtype=np.float64), column


# --- transforms -----------------------------------------------------------------------------------


TRANSFORMS = ("none", "log", "diff", "logdiff")


def transform(values, kind: str):
    """The series the model sees: ``none`` y_t; ``log`` log y_t; ``diff`` y_t − y_{t−1};
    ``logdiff`` log y_t − log y_{t−1} (growth rates, for a trend with multiplicative
    seasonality such as the airline series). The differenced series is one value shorter."""
    values = np.asarray(values, dtype=np.float64)
    if kind not in TRANSFORMS:
        raise ConfigError(say(f"transform: expected one of {', '.join(TRANSFORMS)}, got {kind!r}",
                              f"transformation : l'une de {', '.join(TRANSFORMS)} attendue, reçu « {kind} »"))
    if kind in ("log", "logdiff") and np.any(values <= 0):
        raise DataError(say(f"transform {kind!r}: expected positive values, got minimum {values.min():g}",
                            f"transformation « {kind} » : valeurs positives attendues, reçu un minimum de "
                            f"{values.min():g}"))
    v = np.log(values) if kind in ("log", "logdiff") else values
    return np.diff(v) if kind in ("diff", "logdiff") else v


def untransform_step(z_next, previous_value, kind: str):
    """Back from the model's scale to a value: the inverse of :func:`transform` for one step,
    given ``y_{t−1}`` (``previous_value``) for the differenced kinds."""
    if kind == "none":
        return z_next
    if kind == "log":
        return np.exp(z_next)
    if kind == "diff":
        return previous_value + z_next
    return previous_value * np.exp(z_next)


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``(z − μ) / σ`` with μ, σ fitted on the training span only."""

    mean: float
    std: float

    @classmethod
    def fit(cls, train_values):
        train_values = np.asarray(train_values, dtype=np.float64)
        std = float(train_values.std())
        return cls(float(train_values.mean()), std if std > 0 else 1.0)

    def apply(self, z):
        return (np.asarray(z) - self.mean) / self.std

    def invert(self, s):
        return np.asarray(s) * self.std + self.mean


# --- windows and splits ---------------------------------------------------------------------------


def windows(values, window: int, source: str | None = None):
    """All windows of ``window`` values and the value after each one.

    Returns ``X (N, window)`` with ``X[n] = values[n : n + window]`` and ``y (N,)`` with
    ``y[n] = values[n + window]``, N = len(values) − window.
    """
    values = np.asarray(values, dtype=np.float64)
    source = source or say("series", "série")
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ConfigError(say(f"window: expected a positive integer, got {window!r}",
                              f"fenêtre : entier positif attendu, reçu {window!r}"))
    if len(values) <= window:
        n, w, least = integer(len(values)), integer(window), integer(window + 1)
        raise DataError(say(f"{source}: series of {len(values)} values is too short for a window of {window} "
                            f"(expected at least {window + 1} values)",
                            f"{source} : une série de {n} valeurs est trop courte pour une fenêtre de {w} "
                            f"(au moins {least} valeurs attendues)"))
    idx = np.arange(window)[None, :] + np.arange(len(values) - window)[:, None]
    return values[idx], values[window:]


@dataclass(frozen=True)
class Split:
    """Chronological split points: the training span is ``[0, train_end)``, validation
    ``[train_end, val_end)``, test ``[val_end, N)`` (indices into the original series)."""

    train_end: int
    val_end: int
    n: int


def chronological_split(n: int, test_fraction=0.2, val_fraction=0.0, test_size: int | None = None) -> Split:
    """Split points for a series of ``n`` values: the last ``test_size`` values (or the last
    ``test_fraction``) for the test, the ``val_fraction`` before them for validation."""
    for name, f in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 <= f < 1.0:
            raise ConfigError(say(f"{name}: expected a fraction in [0, 1), got {f!r}",
                                  f"{name} : fraction dans [0, 1[ attendue, reçu {f!r}"))
    n_test = int(test_size) if test_size is not None else int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    if n_test < 1 or n - n_test - n_val < 2:
        raise ConfigError(say(f"split: a series of {n} values cannot hold {n_test} test and {n_val} "
                              "validation values and a training span of at least 2",
                              f"découpage : une série de {integer(n)} valeurs ne peut contenir "
                              f"{integer(n_test)} valeurs de test, {integer(n_val)} de validation et une "
                              "période d'entraînement d'au moins 2 valeurs"))
    return Split(n - n_test - n_val, n - n_test, n)


# --- baselines and scores -------------------------------------------------------------------------


def naive_forecast(values, start: int, stop: int | None = None, lag: int = 1):
    """``ŷ_t = y_{t−lag}`` for t in [start, stop): naive (lag 1) or seasonal naive (lag m)."""
    values = np.asarray(values, dtype=np.float64)
    stop = len(values) if stop is None else stop
    if start - lag < 0:
        raise DataError(say(f"naive forecast: lag {lag} needs {lag} values before index {start}",
                            f"prévision naïve : un décalage de {lag} demande {lag} valeurs avant "
                            f"l'indice {start}"))
    return values[start - lag:stop - lag]


def rmse(pred, target) -> float:
    """√(mean (ŷ − y)²)."""
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(target)) ** 2)))


def mae(pred, target) -> float:
    """mean |ŷ − y|."""
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(target))))
