"""Every figure is drawn (PNG and SVG, English and French) and ``rnnlab plot`` works."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab import cli
from rnnlab.analysis import compare_cells, state_jacobians
from rnnlab.errors import ConfigError, WriteError
from rnnlab.plots import (FIGURES, exercise_1_1_states, gradient_profile_figure, make_figure, save_figure,
                          unrolled_graph_figure)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = {  # quick settings for the figures that compute something
    "cell-comparison": dict(hidden=4, steps=8, train_steps=4, batch=4, probes=1),
    "spectral-radius": dict(hidden=6, steps=20),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_is_written_as_png(name, tmp_path):
    path = save_figure(make_figure(name, lang="en", **SMALL.get(name, {})), tmp_path / f"{name}.png")
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 20_000  # a drawn figure, not an empty canvas
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.png"]  # no temporary file left behind


def test_svg_and_french_labels(tmp_path):
    path = save_figure(make_figure("sigmoid", lang="fr"), tmp_path / "s.svg")
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "borne" in text  # the legend "borne σ' ≤ 0,25" (text kept as text in the SVG)
    english = save_figure(make_figure("sigmoid", lang="en"), tmp_path / "e.svg").read_text(encoding="utf-8")
    assert "bound" in english and "borne" not in english


def test_bad_figure_requests_raise_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"\.png or \.svg"):
        save_figure(make_figure("tanh"), tmp_path / "x.pdf")
    with pytest.raises(ConfigError, match="does not exist"):
        save_figure(make_figure("tanh"), tmp_path / "missing" / "x.png")
    with pytest.raises(ConfigError, match="expected one of"):
        make_figure("nope")
    with pytest.raises(ConfigError, match="1 to 4"):
        unrolled_graph_figure(xs=[0.1] * 5)


def test_a_failed_save_keeps_the_old_figure_and_leaves_no_temporary_file(tmp_path):
    target = save_figure(make_figure("tanh", lang="en"), tmp_path / "t.png")
    before = target.read_bytes()
    fig = make_figure("sigmoid", lang="en")

    def half_written(fname, **kw):  # matplotlib writes part of the file, then the disk is full
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    fig.savefig = half_written
    with pytest.raises(WriteError, match="t.png: cannot write: no space left on the device; the previous file is kept"):
        save_figure(fig, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]


# Every kind of figure rnnlab draws, made and saved in a fresh interpreter whose matplotlib
# backend is "svg" (any backend but Agg): a notebook user's backend must come out unchanged, and
# pyplot (global figure state) is never imported.
BACKEND_SCRIPT = """
import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
out = Path(sys.argv[1])
import rnnlab
from rnnlab.data.series import load_series
from rnnlab.forecast import ForecastConfig, fit_forecaster, plot_forecast
from rnnlab.plots import FIGURES, make_figure, save_figure
from rnnlab.tasks import TrainConfig
from rnnlab.trace.presets import build
from rnnlab.trace.render import render

small = {"cell-comparison": dict(hidden=3, steps=6, train_steps=2, batch=2, probes=1),
         "spectral-radius": dict(hidden=4, steps=10)}
for name in FIGURES:
    save_figure(make_figure(name, **small.get(name, {})), out / f"{name}.png")
for pid in ("000-1.1", "000-1.2"):
    for fmt in ("md", "html"):  # saved PNG/SVG files, and the SVG inlined in the page
        render(build(pid), fmt, figure_dir=str(out), figure_stem=f"{pid}-{fmt}")
fc = fit_forecaster(load_series("airline"), ForecastConfig(window=12, hidden_size=4),
                    TrainConfig(steps=2, eval_every=2, seed=0))
plot_forecast(fc, out / "forecast.png")
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules, len(list(out.iterdir())))
"""


def test_figures_never_switch_the_users_backend_nor_use_pyplot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(rnnlab.__file__).parents[1]), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", BACKEND_SCRIPT, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    backend, pyplot, files = done.stdout.split()
    assert backend == "svg" and pyplot == "False"
    assert int(files) == len(FIGURES) + 1 + 2 * 2  # each figure, the forecast, the presets' PNG and SVG (md)


def test_exercise_1_1_states_are_the_hand_computation():
    hs = exercise_1_1_states()
    W_xh, W_hh, b = np.array([0.3, 0.4]), np.array([[0.2, 0.1], [-0.1, 0.3]]), np.array([0.1, 0.0])
    h = np.zeros(2)
    expected = [h]
    for x in (0.5, 0.8, 0.2):
        h = np.tanh(W_xh * x + W_hh @ h + b)
        expected.append(h)
    np.testing.assert_allclose(hs, expected, rtol=1e-14, atol=1e-16)
    assert hs[1] == pytest.approx([np.tanh(0.25), np.tanh(0.2)])


def test_gradient_profile_figure_for_each_cell(tmp_path):
    rng = np.random.default_rng(0)
    for layer in (rnnlab.RNN(1, 3, dtype=np.float64, rng=rng), rnnlab.LSTM(1, 3, dtype=np.float64, rng=rng),
                  rnnlab.GRU(1, 3, dtype=np.float64, rng=rng)):
        jac = state_jacobians(layer, rng.normal(size=(10, 2, 1)))
        path = save_figure(gradient_profile_figure(jac, 0.9 if layer.mode == "rnn" else None), tmp_path / f"{layer.mode}.png")
        assert path.stat().st_size > 20_000


def test_cell_comparison_figure_accepts_a_computed_comparison(tmp_path):
    cmp = compare_cells(hidden=3, steps=6, train_steps=3, batch=2, probes=1)
    path = save_figure(make_figure("cell-comparison", comparison=cmp, lang="fr"), tmp_path / "c.svg")
    assert "après 3 pas" in path.read_text(encoding="utf-8")


# --- the command line ---------------------------------------------------------------------------


def test_cli_plot_list_and_one_figure(tmp_path, capsys):
    assert cli.main(["plot", "list"]) == 0
    listed = capsys.readouterr().out
    for name in FIGURES:
        assert name in listed
    out = tmp_path / "t.svg"
    assert cli.main(["--lang", "fr", "plot", "tanh", "--out", str(out)]) == 0
    assert "écrit" in capsys.readouterr().out
    assert "tanh et sa dérivée" in out.read_text(encoding="utf-8")


def test_cli_plot_errors_without_traceback(tmp_path, capsys):
    assert cli.main(["plot", "nope", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "unrolled-graph" in err and "Traceback" not in err
    assert cli.main(["plot", "tanh", "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png or .svg" in capsys.readouterr().err
    assert not (tmp_path / "x.jpg").exists()
