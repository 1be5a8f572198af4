"""The cell registry (:mod:`rnnlab.cells`): what every cell file declares, and the one spelling of
the layer-normalised LSTM from the Python API to every command line."""

import numpy as np
import pytest

import rnnlab
from rnnlab import cells
from rnnlab.cli import main
from rnnlab.errors import ConfigError


@pytest.mark.parametrize("name", cells.names(variants=True))
def test_every_cell_file_declares_its_facts(name):
    spec = cells.get(name)
    assert spec.module.NAME == name and len(spec.label) == 2 and all(spec.label)
    assert spec.state_names[0] == "h" and spec.gates == len(spec.gate_names) >= 1
    assert spec.color and spec.direct_label.startswith("Π")
    H = 3
    layer = rnnlab.layers.make_layer(spec.base, 2, H, layer_norm=spec.layer_norm, dtype=np.float64, seed=0)
    assert layer.mode == name and layer.params["weight_hh_l0"].shape == (spec.gates * H, H)
    layer.forward(np.random.default_rng(0).normal(size=(4, 2, 2)))
    factor = spec.direct_factor(layer._tapes[0][0].caches[0], H)
    assert factor.shape == (2, H) and np.all((factor >= 0) & (factor <= 1))  # a gate or a tanh' slope
    rows = [spec.gate_rows(g, H) for g in spec.gate_names]
    assert [r.start for r in rows] == list(range(0, spec.gates * H, H))


def test_the_layer_normalised_lstm_is_a_variant_not_a_choice():
    assert cells.names() == ("rnn", "lstm", "gru") and cells.resolve("lstm", True) == "lnlstm"
    assert cells.spelling("lnlstm") == ("lstm", True) and cells.spelling("gru") == ("gru", False)
    assert cells.resolve("lnlstm") == "lnlstm"  # the old spelling, still read
    ln = rnnlab.LSTM(2, 3, layer_norm=True)
    assert ln.mode == "lnlstm" and ln.layer_norm and "layer_norm=True" in repr(ln)
    with pytest.raises(ConfigError, match="layer_norm: expected cell 'lstm' .* got cell 'rnn'"):
        cells.resolve("rnn", True)
    with pytest.raises(ConfigError, match=r"expected one of \['gru', 'lnlstm', 'lstm', 'rnn'\], got 'elman'"):
        cells.get("elman")
    with pytest.raises(ConfigError, match="has a layer-normalised variant registered"):
        cells.unregister("lstm")


@pytest.mark.parametrize("command", [["task", "adding", "--length", "5"], ["classify", "--samples", "40"],
                                     ["forecast"]])
def test_every_task_command_spells_it_cell_lstm_layer_norm(tmp_path, command):
    """``--cell lstm --layer-norm`` trains the layer-normalised LSTM; ``--cell lnlstm`` is no choice."""
    from rnnlab.commands._seqtasks import load_run

    out = tmp_path / "run"
    assert main([*command, "--cell", "lstm", "--layer-norm", "--steps", "2", "--hidden", "3", "--no-progress",
                 "--out", str(out)]) == 0
    (saved,) = [p for p in out.glob("*.safetensors") if p.stem != "last"]  # not the resumable state
    model, meta = load_run(out, saved.stem)
    assert model.rnn.layer_norm and meta["model"]["cell"] == "lstm" and meta["model"]["layer_norm"] is True
    with pytest.raises(SystemExit):
        main([*command, "--cell", "lnlstm", "--steps", "2", "--no-progress", "--out", str(tmp_path / "old")])


def test_layer_norm_needs_a_cell_that_has_it_on_the_command_line(tmp_path, capsys):
    assert main(["classify", "--cell", "gru", "--layer-norm", "--steps", "2", "--samples", "40",
                 "--no-progress", "--out", str(tmp_path / "x")]) == 2
    assert "layer_norm: expected cell 'lstm'" in capsys.readouterr().err
