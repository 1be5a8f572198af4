"""Series loading, transforms, windows, training-span scaling, baselines, and the forecaster."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data.series import (Scaler, chronological_split, load_series, mae, naive_forecast, rmse, transform,
                                untransform_step, windows)
from rnnlab.errors import ConfigError, DataError
from rnnlab.forecast import ForecastConfig, fit_forecaster, plot_forecast, prepare
from rnnlab.tasks import TrainConfig


def test_bundled_series_are_the_documented_ones():
    air = load_series("airline")
    assert len(air) == 144 and air.values.sum() == 40363 and air.values.min() == 104 and air.values.max() == 622
    assert air.labels[0] == "1949-01" and air.labels[-1] == "1960-12" and air.column == "Passengers" and air.period == 12
    temps = load_series("temperatures")
    assert len(temps) == 3650 and temps.values.min() == 0.0 and temps.values.max() == 26.3
    assert temps.labels[0] == "1981-01-01" and temps.period == 365


def _csv(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_any_csv_column(tmp_path):
    path = _csv(tmp_path, "date,a,b\n2020,1,10\n2021,2,20\n\n2022,3.5,30\n")
    s = load_series(str(path), column="a")
    assert s.values.tolist() == [1.0, 2.0, 3.5] and s.labels == ("2020", "2021", "2022") and s.period is None
    assert load_series(str(path)).values.tolist() == [10.0, 20.0, 30.0]  # default: the last column


def test_bad_csv_files_say_file_column_row(tmp_path):
    path = _csv(tmp_path, "date,value\n2020,1\n2021,oops\n")
    with pytest.raises(DataError, match=r"s\.csv: column 'value', row 3: expected a number, got 'oops'"):
        load_series(str(path))
    with pytest.raises(DataError, match=r"s\.csv: no column 'price' \(expected one of 'date', 'value'\)"):
        load_series(str(path), column="price")
    with pytest.raises(DataError, match="row 2: expected a finite number"):
        load_series(str(_csv(tmp_path, "v\nnan\n", "n.csv")))
    with pytest.raises(DataError, match="empty file"):
        load_series(str(_csv(tmp_path, "", "e.csv")))
    with pytest.raises(DataError, match="holds no values"):
        load_series(str(_csv(tmp_path, "v\n", "h.csv")))
    with pytest.raises(DataError, match="no such file"):
        load_series(str(tmp_path / "missing.csv"))


def test_series_shorter_than_the_window():
    with pytest.raises(DataError, match=r"short\.csv: series of 5 values is too short for a window of 5"):
        windows(np.arange(5.0), 5, "short.csv")
    air = load_series("airline")
    with pytest.raises(DataError, match=r"airline-passengers\.csv: column 'Passengers'.*too short for a window of 120"):
        prepare(air, ForecastConfig(window=120))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 40), w=st.integers(1, 10))
def test_windows_hold_the_past_and_the_next_value(n, w):
    values = np.arange(n, dtype=float) * 1.5
    if n <= w:
        with pytest.raises(DataError):
            windows(values, w)
        return
    X, y = windows(values, w)
    assert X.shape == (n - w, w) and y.shape == (n - w,)
    for k in range(n - w):
        assert np.array_equal(X[k], values[k:k + w]) and y[k] == values[k + w]


@pytest.mark.parametrize("kind", ["none", "log", "diff", "logdiff"])
def test_transform_inverts_step_by_step(kind):
    y = load_series("airline").values[:30]
    z = transform(y, kind)
    d = 1 if "diff" in kind else 0
    back = untransform_step(z, y[d - 1:len(y) - 1] if d else None, kind)
    assert np.allclose(back, y[d:])
    with pytest.raises(ConfigError):
        transform(y, "sqrt")
    if "log" in kind:
        with pytest.raises(DataError, match="positive"):
            transform(np.array([1.0, 0.0]), kind)


def test_scaler_is_fitted_on_the_training_span_only():
    air = load_series("airline")
    cfg = ForecastConfig(window=12, transform="none", test_fraction=0.25)
    s, scaler, train_end, d = prepare(air, cfg)
    assert train_end == 108 and d == 0
    assert scaler.mean == pytest.approx(air.values[:108].mean()) and scaler.std == pytest.approx(air.values[:108].std())
    # changing the test span does not change the scaler: no look-ahead
    from dataclasses import replace

    changed = replace(air, values=np.concatenate([air.values[:108], air.values[108:] * 10]))
    assert prepare(changed, cfg)[1] == scaler
    assert np.allclose(Scaler(2.0, 4.0).invert(Scaler(2.0, 4.0).apply([1.0, 6.0])), [1.0, 6.0])


def test_chronological_split_and_baselines():
    split = chronological_split(100, test_fraction=0.2, val_fraction=0.1)
    assert (split.train_end, split.val_end, split.n) == (70, 80, 100)
    with pytest.raises(ConfigError):
        chronological_split(3, test_fraction=0.9)
    y = np.arange(10.0) ** 2
    assert naive_forecast(y, 7).tolist() == [36.0, 49.0, 64.0]
    assert naive_forecast(y, 7, lag=3).tolist() == [16.0, 25.0, 36.0]
    with pytest.raises(DataError):
        naive_forecast(y, 2, lag=3)
    assert rmse([1, 2], [1, 4]) == pytest.approx(np.sqrt(2)) and mae([1, 2], [1, 4]) == 1.0


def test_forecaster_beats_the_naive_baseline_on_airline(tmp_path):
    """An LSTM on log-differences, 400 Adam steps: test RMSE below the naive forecast's (52.5)."""
    fc = fit_forecaster(load_series("airline"), ForecastConfig(window=12, transform="logdiff", hidden_size=16),
                        TrainConfig(steps=400, lr=0.01, eval_every=200, seed=0))
    assert fc.train_end == 115
    sc = fc.scores
    assert sc["naive"]["rmse"] == pytest.approx(52.49, abs=0.01)  # the baseline itself, on 1958-08 … 1960-12
    assert sc["one-step"]["rmse"] < sc["naive"]["rmse"] and sc["one-step"]["mae"] < sc["naive"]["mae"]
    # the recursive forecast starts from the true history, so its first step is the one-step one
    assert fc.recursive[fc.train_end] == pytest.approx(fc.one_step[fc.train_end])
    assert np.all(np.isnan(fc.recursive[:fc.train_end])) and np.all(np.isfinite(fc.recursive[fc.train_end:]))
    assert np.all(np.isnan(fc.one_step[:13])) and np.all(np.isfinite(fc.one_step[13:]))
    plot_forecast(fc, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
