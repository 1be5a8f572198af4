"""The one option vocabulary of the training commands and the run-folder policy."""

import argparse
import json

import pytest

from rnnlab.cli import build_parser, main

TRAINING = ("train", "task", "classify", "forecast", "sweep")
SHARED = ("--hidden", "--layers", "--batch", "--lr", "--optimizer", "--clip", "--dropout", "--recurrent-dropout",
          "--layer-norm", "--steps", "--minutes", "--eval-every", "--seed", "--out", "--force", "--backend",
          "--device", "--amp", "--no-progress", "--lang")


def _actions(command):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {o: a for a in sub.choices[command]._actions for o in a.option_strings}


@pytest.mark.parametrize("command", TRAINING)
def test_every_training_command_has_the_shared_options_with_the_same_choices(command):
    actions, train = _actions(command), _actions("train")
    for option in SHARED:
        assert option in actions, (command, option)
        assert actions[option].choices == train[option].choices, (command, option)
        assert type(actions[option].type) is type(train[option].type), (command, option)
    if command != "sweep":
        assert actions["--cell"].choices == train["--cell"].choices and "lnlstm" not in actions["--cell"].choices
        assert "--resume" in actions
    for option in ("--hidden", "--lr", "--steps"):  # the default is in the help
        assert "default" in actions[option].help, (command, option)


@pytest.mark.parametrize("argv", [["--lang", "fr", "exercise", "list"], ["exercise", "list", "--lang", "fr"]])
def test_lang_before_or_after_the_command(argv, capsys):
    assert main(argv) == 0
    assert "document" in capsys.readouterr().out.lower()
    assert main(["exercise", "nope", "--lang", "fr"]) == 2
    assert capsys.readouterr().err.startswith("erreur : ")


def test_bad_shared_values_are_one_line_errors(capsys):
    for argv in (["task", "adding", "--optimizer", "lbfgs"], ["classify", "--dropout", "1"],
                 ["forecast", "--hidden", "0"], ["task", "adding", "--steps", "5", "--minutes", "1"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "error:" in err and "Traceback" not in err, argv


TASK = ["task", "adding", "-T", "5", "--hidden", "4", "--steps", "4", "--eval-every", "2", "--no-progress"]


def test_default_run_folders_are_unique_and_a_finished_run_needs_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(TASK) == 0 and main(TASK) == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(folders) == 2 and all(f.startswith("adding-lstm-T5-") for f in folders), folders
    out = tmp_path / "runs" / folders[0]
    before = (out / "last.json").read_bytes()
    assert main([*TASK, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds a run (finished)" in err and "--force" in err and "--resume" in err
    assert (out / "last.json").read_bytes() == before
    assert main([*TASK, "--out", str(out), "--seed", "3", "--force"]) == 0
    meta = json.loads((out / "last.json").read_text())["meta"]
    assert meta["settings"]["options"]["seed"] == 3 and meta["step"] == 4


def test_a_time_budget_for_a_task_and_its_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["task", "adding", "-T", "5", "--hidden", "4", "--minutes", "0.002", "--no-progress",
                 "--out", str(out)]) == 0
    meta = json.loads((out / "last.json").read_text())["meta"]
    assert meta["config"]["steps"] == 0 and meta["config"]["minutes"] == 0.002 and meta["step"] >= 1
    assert main(["task", "--resume", str(out), "--no-progress"]) == 2
    assert "spent" in capsys.readouterr().err
    more = meta["elapsed_seconds"] / 60 + 0.005  # the first step's compile time may pass the first budget
    assert main(["task", "--resume", str(out), "--minutes", f"{more:.4f}", "--no-progress"]) == 0
    again = json.loads((out / "last.json").read_text())["meta"]
    assert again["step"] > meta["step"] and again["elapsed_seconds"] >= float(f"{more:.4f}") * 60


def test_layer_norm_is_one_spelling(tmp_path, capsys):
    assert main([*TASK, "--layer-norm", "--cell", "gru", "--out", str(tmp_path / "a")]) == 2
    assert "--layer-norm: expected --cell lstm" in capsys.readouterr().err
    assert main([*TASK, "--layer-norm", "--out", str(tmp_path / "b")]) == 0
    tensors = json.loads((tmp_path / "b" / "last.json").read_text())["weights"]["tensors"]
    assert any(k.startswith("rnn.ln_ih_gain_l0") for k in tensors)


@pytest.mark.parametrize("argv", [["--threads", "2", "exercise", "list"], ["exercise", "list", "--threads", "2"]])
def test_threads_before_or_after_the_command(argv, capsys):
    from rnnlab import threads

    try:
        assert main(argv) == 0 and threads.get_threads() == 2
    finally:
        threads.set_threads(None)  # back to RNNLAB_NUM_THREADS (the suite's)
    with pytest.raises(SystemExit):
        main(["exercise", "list", "--threads", "0"])
    assert "--threads" in capsys.readouterr().err
