"""Every figure is drawn (PNG and SVG, English and French) and ``rnnlab plot`` works."""

import numpy as np
import pytest

import rnnlab
from rnnlab import cli
from rnnlab.analysis import compare_cells, state_jacobians
from rnnlab.errors import ConfigError
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
