"""``rnnlab forecast``, ``task``, ``sweep``, ``classify`` end to end (tiny budgets): exit codes,
tables, checkpoints that rebuild the model, figures, clear errors without tracebacks, French."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.commands._seqtasks import load_run


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_airline(tmp_path, capsys):
    code, out, err = _run(capsys, "forecast", "--series", "airline", "--steps", "60", "--hidden", "8",
                          "--no-progress", "--out", str(tmp_path))
    assert code == 0, err
    assert "RMSE" in out and "naive" in out and "seasonal naive" in out
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert set(scores) == {"one-step", "recursive", "naive", "seasonal-naive"}
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    model, meta = load_run(tmp_path, "forecast")
    assert meta["series"] == "airline" and meta["forecast"]["window"] == 12
    assert meta["scores"]["naive"]["rmse"] == scores["naive"]["rmse"]
    assert model.config.kind == "regressor" and model(np.zeros((12, 2, 1))).shape == (2, 1)


def test_forecast_csv_errors_are_one_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("day,temp\n1,3\n2,x\n", encoding="utf-8")
    code, out, err = _run(capsys, "forecast", "--series", str(path), "--column", "price", "--no-progress",
                          "--out", str(tmp_path / "o"))
    assert code == 2 and "no column 'price'" in err and "Traceback" not in err
    code, out, err = _run(capsys, "forecast", "--series", str(path), "--column", "temp", "--no-progress",
                          "--out", str(tmp_path / "o"))
    assert code == 2 and "column 'temp', row 3: expected a number, got 'x'" in err
    path.write_text("day,temp\n" + "".join(f"{k},{k + 1}\n" for k in range(10)), encoding="utf-8")
    code, out, err = _run(capsys, "forecast", "--series", str(path), "--window", "12", "--no-progress",
                          "--out", str(tmp_path / "o"))
    assert code == 2 and "too short for a window of 12" in err and "s.csv" in err


def test_task_adding_and_copy(tmp_path, capsys):
    code, out, err = _run(capsys, "task", "adding", "--cell", "gru", "--length", "8", "--steps", "20",
                          "--hidden", "4", "--no-progress", "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert "adding T=8 GRU" in out and "baseline" in out
    result = json.loads((tmp_path / "a" / "result.json").read_text())
    assert result["T"] == 8 and result["steps"] == 20
    model, meta = load_run(tmp_path / "a", "adding")
    assert meta["result"]["cell"] == "gru" and model.rnn.mode == "gru"
    assert (tmp_path / "a" / "loss.png").exists() and (tmp_path / "a" / "loss.csv").exists()
    code, out, err = _run(capsys, "--lang", "fr", "task", "copy", "--length", "3", "--steps", "5", "--hidden", "4",
                          "--no-progress", "--out", str(tmp_path / "c"))
    assert code == 0, err
    assert "perte de test" in out and "exactitude du rappel" in out


def test_sweep(tmp_path, capsys):
    code, out, err = _run(capsys, "sweep", "adding", "--cells", "rnn,lstm", "--lengths", "4,6", "--steps", "10",
                          "--hidden", "4", "--no-progress", "--out", str(tmp_path))
    assert code == 0, err
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [(r["cell"], r["T"]) for r in rows] == [("rnn", 4), ("lstm", 4), ("rnn", 6), ("lstm", 6)]
    assert (tmp_path / "sweep-adding.png").exists() and "solved" in out
    code, out, err = _run(capsys, "sweep", "adding", "--cells", "rnn,transformer", "--no-progress",
                          "--out", str(tmp_path))
    assert code == 2 and "transformer" in err
    with pytest.raises(SystemExit) as stop:  # argparse's refusal of the option's type
        _run(capsys, "sweep", "adding", "--lengths", "ten", "--no-progress", "--out", str(tmp_path))
    assert stop.value.code == 2 and "--lengths" in capsys.readouterr().err


def test_classify_synthetic_and_csv(tmp_path, capsys):
    code, out, err = _run(capsys, "classify", "--samples", "60", "--steps", "10", "--hidden", "4", "--bidirectional",
                          "--no-progress", "--out", str(tmp_path / "s"))
    assert code == 0, err
    assert "test accuracy" in out and "majority class" in out
    model, meta = load_run(tmp_path / "s", "classifier")
    assert model.config.bidirectional and model.config.output_size == 3
    lines = ["sequence,t,x,label"] + [f"s{k},{t},{(k % 2) * t},{k % 2}" for k in range(10) for t in range(3 + k % 3)]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "classify", "--data", str(path), "--steps", "10", "--hidden", "4", "--no-progress",
                          "--out", str(tmp_path / "c"))
    assert code == 0, err
    assert "10 sequences (8 train, 2 test), 2 classes, lengths 3–5" in out
    code, out, err = _run(capsys, "classify", "--data", str(tmp_path / "missing.csv"), "--no-progress",
                          "--out", str(tmp_path / "c"))
    assert code == 2 and "missing.csv" in err


def test_load_run_rejects_a_checkpoint_without_a_model_config(tmp_path):
    import pytest

    from rnnlab.checkpoint import save_checkpoint
    from rnnlab.errors import CheckpointError

    save_checkpoint(tmp_path, "x", {"head.weight": np.zeros((1, 2), np.float32)}, {"task": "adding"})
    with pytest.raises(CheckpointError, match=r"x\.json: key 'model'"):
        load_run(tmp_path, "x")
    save_checkpoint(tmp_path, "y", {"head.weight": np.zeros((1, 2), np.float32)},
                    {"model": {"kind": "classifier", "input_size": 2, "hidden_size": 3, "output_size": 2}})
    with pytest.raises(CheckpointError, match=r"y\.safetensors: load_state_dict: missing keys"):
        load_run(tmp_path, "y")
