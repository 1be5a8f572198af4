"""Interrupting and resuming the task runs (rnnlab.tasks.train_model with a checkpoint; ``rnnlab
task``, ``classify``, ``forecast --resume``): a resumed run repeats the uninterrupted one step for
step (same losses, scores and bit-identical weights), whether Ctrl-C came between two steps (the
state of that step is saved) or broke a step off (the last evaluation's state is kept); clear
errors for a missing, corrupt or foreign checkpoint and for options that contradict the run."""

import contextlib
import json
import signal

import numpy as np
import pytest

from rnnlab.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.cli import main
from rnnlab.commands import _seqtasks
from rnnlab.data.tasks import adding_problem, copy_task
from rnnlab.errors import CheckpointError, ConfigError
from rnnlab.seqmodels import SeqModelConfig, build_model
from rnnlab.training import RunFolder as Checkpointing
from rnnlab.training import TrainingInterrupted, load_run


def load_training_state(directory):
    return load_run(directory, "task")
from rnnlab.tasks import TrainConfig, make_classification, train_model


def adding_draw(rng, b):
    x, y = adding_problem(b, 6, rng)
    return x, y, None


def classification_draw(rng, b):
    return make_classification(b, rng, T_min=3, T_max=8)


def copy_draw(rng, b):
    x, y = copy_task(b, 4, rng, 3, 2)
    return x, y, None


CASES = {  # recurrent dropout: the model's own generator must be saved too
    "adding-lstm-dropout": (SeqModelConfig("regressor", 2, 5, 1, cell="lstm", recurrent_dropout=0.3), adding_draw, "adam"),
    "classify-gru-bi": (SeqModelConfig("classifier", 3, 4, 3, cell="gru", bidirectional=True), classification_draw,
                        "rmsprop"),
    "copy-rnn-2layers": (SeqModelConfig("tagger", 5, 4, 5, cell="rnn", num_layers=2), copy_draw, "adagrad"),
}
TRAIN = dict(steps=24, batch_size=4, lr=0.03, eval_every=5, seed=2)


def score(m):
    """A test score that sees every weight (so an evaluation from different weights differs)."""
    return {"norm": float(sum(np.sum(v.astype(np.float64) ** 2) for v in m.params.values()))}


def _same_run(a, ha, b, hb):
    assert hb.train_loss == ha.train_loss
    assert hb.eval_steps == ha.eval_steps and hb.eval_scores == ha.eval_scores
    for k in a.params:
        np.testing.assert_array_equal(b.params[k], a.params[k], err_msg=k)


def _interrupt_at(step):
    def callback(s, loss, scores):
        if s == step:
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("case", sorted(CASES))
def test_resume_after_ctrl_c_repeats_the_uninterrupted_run(case, tmp_path):
    config, draw, optimizer = CASES[case]
    train = TrainConfig(**TRAIN, optimizer=optimizer)
    whole = build_model(config, seed=5)
    h_whole = train_model(whole, draw, train, score)
    for stop in (7, 10):  # between two evaluations; right after one
        folder = tmp_path / f"at{stop}"
        part = build_model(config, seed=5)
        with pytest.raises(TrainingInterrupted) as info:
            train_model(part, draw, train, score, _interrupt_at(stop), checkpoint=Checkpointing(folder, {"k": 1}))
        assert (info.value.step, info.value.saved_step, info.value.checkpoint) == (stop, stop, folder / "last.json")
        _, meta = load_training_state(folder)
        assert meta["step"] == stop and meta["settings"] == {"k": 1} and len(meta["history"]["rows"]) == stop
        assert meta["kind"] == "task" and [r["step"] for r in meta["history"]["rows"]] == list(range(1, stop + 1))
        resumed = build_model(config, seed=99)  # other initial weights: all of them come from the checkpoint
        h = train_model(resumed, draw, train, score, checkpoint=Checkpointing(folder, resume=True))
        _same_run(whole, h_whole, resumed, h)
        assert json.loads((folder / "last.json").read_text())["meta"]["step"] == 24  # the end is saved too


def test_a_real_sigint_finishes_the_step_saves_and_restores_the_handler(tmp_path):
    config, draw, _ = CASES["adding-lstm-dropout"]
    train = TrainConfig(**TRAIN)
    whole = build_model(config, seed=1)
    h_whole = train_model(whole, draw, train, score)

    def ctrl_c_at_13(s, loss, scores):
        if s == 13:
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as info:
        train_model(build_model(config, seed=1), draw, train, score, ctrl_c_at_13, checkpoint=Checkpointing(tmp_path))
    assert info.value.step == info.value.saved_step == 13
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    resumed = build_model(config, seed=1)
    _same_run(whole, h_whole, resumed, train_model(resumed, draw, train, score,
                                                   checkpoint=Checkpointing(tmp_path, resume=True)))


def test_ctrl_c_inside_a_step_keeps_the_last_evaluation(tmp_path):
    """A second Ctrl-C breaks step 13 off after its batch was drawn: that half step is not saved;
    the checkpoint of step 10 is, and resuming from it still repeats the whole run."""
    config, draw, _ = CASES["classify-gru-bi"]
    train = TrainConfig(**TRAIN)
    whole = build_model(config, seed=1)
    h_whole = train_model(whole, draw, train, score)
    calls = {"n": 0}

    def draw_then_break(rng, b):
        batch = draw(rng, b)
        calls["n"] += 1
        if calls["n"] == 13:
            raise KeyboardInterrupt
        return batch

    with pytest.raises(TrainingInterrupted) as info:
        train_model(build_model(config, seed=1), draw_then_break, train, score, checkpoint=Checkpointing(tmp_path))
    assert (info.value.step, info.value.saved_step) == (12, 10)
    resumed = build_model(config, seed=1)
    _same_run(whole, h_whole, resumed, train_model(resumed, draw, train, score,
                                                   checkpoint=Checkpointing(tmp_path, resume=True)))


def test_more_steps_extend_a_finished_run(tmp_path):
    config, draw, _ = CASES["copy-rnn-2layers"]
    whole = build_model(config, seed=3)
    h_whole = train_model(whole, draw, TrainConfig(**TRAIN), score)
    first = build_model(config, seed=3)
    h = train_model(first, draw, TrainConfig(**{**TRAIN, "steps": 12}), score, checkpoint=Checkpointing(tmp_path))
    assert h.eval_steps == [5, 10, 12]
    more = build_model(config, seed=3)
    h = train_model(more, draw, TrainConfig(**TRAIN), score, checkpoint=Checkpointing(tmp_path, resume=True))
    assert h.train_loss == h_whole.train_loss and h.eval_steps == [5, 10, 12, 15, 20, 24]
    for k in whole.params:
        np.testing.assert_array_equal(more.params[k], whole.params[k], err_msg=k)


def test_resume_refuses_other_settings(tmp_path):
    config, draw, _ = CASES["adding-lstm-dropout"]
    train_model(build_model(config, seed=0), draw, TrainConfig(**TRAIN), score, checkpoint=Checkpointing(tmp_path))
    again = Checkpointing(tmp_path, resume=True)
    with pytest.raises(ConfigError, match=r"last\.json: key 'config'.*lr=0\.03.*lr=0\.05"):
        train_model(build_model(config, seed=0), draw, TrainConfig(**{**TRAIN, "lr": 0.05}), score, checkpoint=again)
    other = SeqModelConfig("regressor", 2, 6, 1, cell="lstm", recurrent_dropout=0.3)
    with pytest.raises(ConfigError, match=r"key 'model'.*hidden_size=5.*hidden_size=6"):
        train_model(build_model(other, seed=0), draw, TrainConfig(**TRAIN), score, checkpoint=again)
    with pytest.raises(ConfigError, match=r"key 'model'.*dtype='float32'.*dtype='float64'"):
        train_model(build_model(config, dtype=np.float64, seed=0), draw, TrainConfig(**TRAIN), score, checkpoint=again)
    with pytest.raises(ConfigError, match=r"at step 24, beyond steps=20"):
        train_model(build_model(config, seed=0), draw, TrainConfig(**{**TRAIN, "steps": 20}), score, checkpoint=again)


def test_missing_corrupt_and_foreign_checkpoints(tmp_path):
    config, draw, _ = CASES["adding-lstm-dropout"]
    model = build_model(config, seed=0)
    with pytest.raises(CheckpointError, match="no such directory"):
        load_training_state(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"empty/last\.json: not found"):
        load_training_state(tmp_path / "empty")
    good = tmp_path / "good"
    train_model(model, draw, TrainConfig(**{**TRAIN, "steps": 5}), score, checkpoint=Checkpointing(good))
    tensors, meta = load_checkpoint(good, "last")
    weights = (good / "last.safetensors").read_bytes()

    bad = tmp_path / "bad"
    save_checkpoint(bad, "last", tensors, meta)
    (bad / "last.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(CheckpointError, match=r"last\.safetensors: truncated"):
        load_training_state(bad)
    (bad / "last.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"last\.json: corrupt JSON"):
        load_training_state(bad)
    save_checkpoint(bad, "last", tensors, {**meta, "kind": "charlm"})
    with pytest.raises(CheckpointError, match=r"last\.json: expected a run of kind 'task', got 'charlm'"):
        load_training_state(bad)
    save_checkpoint(bad, "last", tensors, {**meta, "format": "rnnlab.task-run"})  # written by rnnlab 0.1
    with pytest.raises(CheckpointError, match=r"last\.json: a run written by rnnlab 0\.1.*format 'rnnlab\.run' version 2"):
        load_training_state(bad)
    save_checkpoint(bad, "last", tensors, {k: v for k, v in meta.items() if k != "rng"})
    with pytest.raises(CheckpointError, match=r"last\.json: key 'meta.rng' is missing"):
        load_training_state(bad)
    save_checkpoint(bad, "last", {k: v for k, v in tensors.items() if not k.startswith("optimizer/")}, meta)
    with pytest.raises(CheckpointError, match=r"last\.json:.*optimizer/.*missing"):
        train_model(build_model(config, seed=0), draw, TrainConfig(**TRAIN), score,
                    checkpoint=Checkpointing(bad, resume=True))


# --- the torch backend: the same checkpoints --------------------------------------------------------


def test_torch_backend_resumes_exactly(torch, tmp_path):
    from rnnlab.backends.torch_tasks import train_model as torch_train_model

    config = SeqModelConfig("classifier", 3, 4, 3, cell="lstm", num_layers=2)
    train = TrainConfig(**TRAIN)
    whole = build_model(config, dtype=np.float64, seed=4)
    h_whole = torch_train_model(whole, classification_draw, train, score)
    with pytest.raises(TrainingInterrupted):
        torch_train_model(build_model(config, dtype=np.float64, seed=4), classification_draw, train, score,
                          _interrupt_at(8), checkpoint=Checkpointing(tmp_path / "t"))
    resumed = build_model(config, dtype=np.float64, seed=4)
    _same_run(whole, h_whole, resumed, torch_train_model(resumed, classification_draw, train, score,
                                                         checkpoint=Checkpointing(tmp_path / "t", resume=True)))
    # a NumPy checkpoint goes on under torch (the same format): the NumPy run's losses, to rounding
    numpy_whole = build_model(config, dtype=np.float64, seed=4)
    h_numpy = train_model(numpy_whole, classification_draw, train, score)
    with pytest.raises(TrainingInterrupted):
        train_model(build_model(config, dtype=np.float64, seed=4), classification_draw, train, score,
                    _interrupt_at(8), checkpoint=Checkpointing(tmp_path / "n"))
    h = torch_train_model(build_model(config, dtype=np.float64, seed=4), classification_draw, train, score,
                          checkpoint=Checkpointing(tmp_path / "n", resume=True))
    assert h.train_loss[:8] == h_numpy.train_loss[:8]
    np.testing.assert_allclose(h.train_loss, h_numpy.train_loss, rtol=0, atol=1e-9)
    dropped = SeqModelConfig("classifier", 3, 4, 3, cell="lstm", num_layers=2, dropout=0.2)
    with pytest.raises(ConfigError, match="torch's generator"):
        torch_train_model(build_model(dropped, seed=0), classification_draw, train, score,
                          checkpoint=Checkpointing(tmp_path / "d"))


# --- the commands ------------------------------------------------------------------------------------


@pytest.fixture
def ctrl_c_at(monkeypatch):
    """``ctrl_c_at(k)``: the commands' progress bar (the engine's, updated after every step) sends a
    real SIGINT after step k (None: never)."""
    def install(step):
        class Bar:
            @contextlib.contextmanager
            def bar(self, budget, completed, elapsed):
                def update(run, loss):
                    if run.step == step:
                        signal.raise_signal(signal.SIGINT)
                yield update

        monkeypatch.setattr(_seqtasks, "progress", lambda args, description: Bar())
    return install


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _same_weights(a_dir, b_dir, name):
    a, _ = load_checkpoint(a_dir, name)
    b, _ = load_checkpoint(b_dir, name)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)


TASK = ["task", "adding", "-T", "6", "--steps", "20", "--eval-every", "5", "--hidden", "4", "--no-progress"]


def test_task_ctrl_c_then_resume_through_the_cli(tmp_path, capsys, ctrl_c_at):
    assert _run(capsys, *TASK, "--out", str(tmp_path / "whole"))[0] == 0
    ctrl_c_at(7)
    split = tmp_path / "split"
    code, out, err = _run(capsys, *TASK, "--out", str(split))
    assert code == 130 and f"Interrupted at step 7; saved {split / 'last.json'}. Continue with: rnnlab task --resume {split}" in out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not (split / "result.json").exists() and json.loads((split / "last.json").read_text())["meta"]["step"] == 7
    code, out, err = _run(capsys, *TASK, "--out", str(split))  # a new run would overwrite it: refused
    assert code == 2 and "unfinished run (step 7 of 20)" in err and f"rnnlab task --resume {split}" in err
    code, out, err = _run(capsys, "task", "--resume", str(split), "--hidden", "8", "--out", "x")
    assert code == 2 and "remove --hidden, --out" in err
    code, out, err = _run(capsys, "task", "copy", "--resume", str(split))
    assert code == 2 and "remove task" in err
    code, out, err = _run(capsys, "task", "adding", "-T", "6", "--resume", str(split), "--no-progress")  # same values
    assert code == 0 and f"Resuming {split} at step 7 of 20" in out
    assert json.loads((split / "result.json").read_text())["steps"] == 20
    _same_weights(tmp_path / "whole", split, "adding")
    whole, resumed = ([{k: v for k, v in row.items() if k != "seconds"}  # the clock differs, nothing else
                       for row in json.loads((d / "last.json").read_text())["meta"]["history"]["rows"]]
                      for d in (tmp_path / "whole", split))
    assert resumed == whole and len(whole) == 20
    code, out, err = _run(capsys, "task", "--resume", str(split), "--no-progress")
    assert code == 2 and "spent its budget (step 20 of 20)" in err and "--steps" in err
    code, out, err = _run(capsys, "task", "--resume", str(split), "--steps", "10")
    assert code == 2 and "--steps 10" in err and "at step 20 already" in err
    assert _run(capsys, "task", "--resume", str(split), "--steps", "25", "--no-progress")[0] == 0
    assert json.loads((split / "result.json").read_text())["steps"] == 25


def test_classify_and_forecast_resume_in_french(tmp_path, capsys, ctrl_c_at):
    runs = {"classify": ["classify", "--samples", "60", "--hidden", "4", "--steps", "12", "--eval-every", "5",
                         "--no-progress"],
            "forecast": ["forecast", "--hidden", "4", "--steps", "12", "--eval-every", "5", "--no-progress"]}
    names = {"classify": "classifier", "forecast": "forecast"}
    for command, argv in runs.items():
        ctrl_c_at(None)
        assert _run(capsys, *argv, "--out", str(tmp_path / f"{command}-whole"))[0] == 0
        split = tmp_path / f"{command}-split"
        ctrl_c_at(6)
        code, out, err = _run(capsys, "--lang", "fr", *argv, "--out", str(split))
        assert code == 130 and f"Interrompu au pas 6 ; sauvegardé dans {split / 'last.json'}" in out
        assert f"Reprendre avec : rnnlab {command} --resume {split}" in out
        code, out, err = _run(capsys, "--lang", "fr", command, "--resume", str(split), "--no-progress")
        assert code == 0 and f"Reprise de {split} au pas 6 sur 12" in out
        _same_weights(tmp_path / f"{command}-whole", split, names[command])
    code, out, err = _run(capsys, "forecast", "--resume", str(tmp_path / "classify-split"))
    assert code == 2 and "classify-split/last.json: a run of rnnlab classify, not of rnnlab forecast" in err
    code, out, err = _run(capsys, "classify", "--resume", str(tmp_path / "nowhere"))
    assert code == 2 and "no such directory" in err


def test_classify_resume_refuses_changed_data(tmp_path, capsys, ctrl_c_at):
    data = tmp_path / "seqs.csv"
    rows = ["sequence,t,label,v"] + [f"s{k},{t},{k % 2},{(k % 2) * t + 0.1 * k}" for k in range(12) for t in range(4)]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ctrl_c_at(3)
    argv = ["classify", "--data", str(data), "--hidden", "3", "--steps", "8", "--no-progress"]
    assert _run(capsys, *argv, "--out", str(tmp_path / "run"))[0] == 130  # interrupted at step 3
    data.write_text("\n".join(rows[:-1] + ["s11,3,1,9.5"]) + "\n", encoding="utf-8")
    code, out, err = _run(capsys, "classify", "--resume", str(tmp_path / "run"))
    assert code == 2 and "seqs.csv: the data differ from those the run began with" in err
