"""Files, folders, crashes and signals (issue 14): every failure to write says, in one line, which
of the user's files could not be written and why; a failed call leaves nothing behind (no
temporary file, no empty folder, no old run removed); a run cut short anywhere resumes exactly.

In-process cases go through the CLI's entry point (``helpers.run_cli``). A crash is injected
into a forked copy of this process, which ``os._exit``\\s at the k-th ``os.replace`` or
``os.fsync`` of a save, as ``kill -9`` would stop it: no ``finally``, no clean-up. The read-only
folders, the file-size limit and the real signals are in ``test_faults_processes.py``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_refused, run_cli, tree_hashes

from rnnlab import checkpoint as ckpt
from rnnlab.checkpoint import (atomic_path, load_checkpoint, make_folder, remove_stale_temps,
                               save_checkpoint, user_path, write_error)
from rnnlab.errors import WriteError
from rnnlab.training.folders import reports_written

TEXT = "the quick brown fox jumps over the lazy dog. " * 30
SMALL = ["--hidden", "8", "--batch", "2", "--seq-len", "8", "--no-progress"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _train(corpus, out, steps=6, every=2):
    return ["train", "--corpus", corpus, "--steps", steps, "--eval-every", every, "--out", out, *SMALL]


def _temporary_files(*folders):
    return sorted(str(p) for folder in folders for p in Path(folder).rglob("*") if p.name.endswith(".tmp"))


def _same_tensors(a_dir, b_dir, name="last"):
    a, meta_a = load_checkpoint(a_dir, name)
    b, meta_b = load_checkpoint(b_dir, name)
    assert a.keys() == b.keys() and meta_a["step"] == meta_b["step"]
    for k in a:
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)  # bit for bit
    assert [r["train_loss"] for r in meta_a["history"]["rows"]] == [r["train_loss"] for r in meta_b["history"]["rows"]]


# --- the write mechanism -----------------------------------------------------------------------------


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, "permission denied (the folder"), (errno.EROFS, "read-only"),
    (errno.ENOSPC, "no space left on the device"), (errno.EFBIG, "file-size limit (ulimit -f)"),
    (errno.EIO, "input/output error")])
def test_a_write_error_names_the_users_file_and_what_the_errno_means(tmp_path, code, words):
    error = write_error(tmp_path / "out" / "x.txt", OSError(code, os.strerror(code)), kept=False)
    assert isinstance(error, WriteError)
    message = str(error)
    assert message.startswith(f"{tmp_path / 'out' / 'x.txt'}: cannot write: ") and words in message
    assert message.endswith("nothing was written") and "\n" not in message and ".tmp" not in message


def test_the_temporary_names_map_back_to_the_users_file():
    assert user_path("runs/a/.loss.csv.1a2b3c4d.tmp") == Path("runs/a/loss.csv")
    assert user_path("runs/a/.last.safetensors.prev.4242.tmp") == Path("runs/a/last.safetensors.prev")
    assert user_path("notes.tmp") == Path("notes.tmp")


@pytest.mark.parametrize("where", ["first", "tmp", "write", "fsync", "replace"])
def test_atomic_path_leaves_no_temporary_file_whatever_fails(tmp_path, monkeypatch, where):
    """The temporary file is registered before its first byte: a failure at any point of the write
    (even the creation of the temporary file itself) leaves the folder as it was."""
    target = tmp_path / "figure.svg"
    full = OSError(errno.ENOSPC, "No space left on device")
    if where == "tmp":
        monkeypatch.setattr(ckpt, "_new_temp", lambda folder, name: (_ for _ in ()).throw(full))
    elif where == "fsync":
        monkeypatch.setattr(ckpt.os, "fsync", lambda fd: (_ for _ in ()).throw(full))
    elif where == "replace":
        monkeypatch.setattr(ckpt.os, "replace", lambda a, b: (_ for _ in ()).throw(full))
    with pytest.raises(WriteError, match=r"figure.svg: cannot write: no space left on the device; nothing was"):
        with atomic_path(target) as tmp:
            if where in ("first", "write"):
                tmp.write_text("<sv", encoding="utf-8")
                raise full
            tmp.write_text("<svg/>", encoding="utf-8")
    assert list(tmp_path.iterdir()) == []


def test_a_first_save_that_fails_leaves_nothing_and_says_so(tmp_path, monkeypatch):
    """A fresh run has no previous checkpoint: nothing is said to be kept, nothing is left (not
    the folder made for it, not the weights renamed before the JSON failed)."""
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(errno.EFBIG, "File too large")
        return real(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", replace)
    with pytest.raises(WriteError) as info:
        save_checkpoint(tmp_path / "run", "last", {"w": np.ones(3)}, {"step": 1})
    assert "previous" not in str(info.value) and "nothing was written" in str(info.value)
    assert "run/last.json: cannot write: file too large" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_during_the_write_of_a_temporary_file_leaks_nothing(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, "best", {"w": np.zeros(3)}, {"step": 1})
    before = tree_hashes(tmp_path)
    calls = []

    def write_bytes(tmp, data):  # the temporary file exists; writing its bytes fails
        calls.append(tmp)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "_write_bytes", write_bytes)
    with pytest.raises(WriteError, match="best.json: cannot write: no space left.*previous checkpoint is kept"):
        save_checkpoint(tmp_path, "best", {"w": np.ones(3)}, {"step": 2})
    assert calls and tree_hashes(tmp_path) == before and _temporary_files(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill is a forked process's os._exit")
def test_two_saves_killed_between_their_renames_keep_the_committed_checkpoint(tmp_path):
    """Killed between the weights' rename and the JSON's, twice in a row: the JSON still describes
    the first weights, which .prev keeps (the second save must not overwrite .prev with weights no
    JSON describes); the next whole save leaves no .prev and no temporary file."""
    def killed_save(value):
        pid = os.fork()
        if pid == 0:
            try:
                real, count = os.replace, [0]

                def replace(src, dst):  # the weights' rename is the last but one of a save
                    real(src, dst)
                    count[0] += 1
                    if str(dst).endswith(".safetensors"):
                        os._exit(137)
                os.replace = replace
                save_checkpoint(tmp_path, "last", {"w": np.full(3, value)}, {"step": value})
            finally:
                os._exit(1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 137

    save_checkpoint(tmp_path, "last", {"w": np.full(3, 1.0)}, {"step": 1})
    for value in (2.0, 3.0):
        killed_save(value)
        tensors, meta = load_checkpoint(tmp_path, "last")
        assert meta == {"step": 1} and np.array_equal(tensors["w"], np.full(3, 1.0)), value
    save_checkpoint(tmp_path, "last", {"w": np.full(3, 4.0)}, {"step": 4})
    assert load_checkpoint(tmp_path, "last")[1] == {"step": 4}
    remove_stale_temps(tmp_path)  # what the killed saves left, as a resumed run does
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json", "last.safetensors"]


def test_make_folder_refuses_a_file_and_undoes_what_it_made(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="file: expected a folder, got a file"):
        make_folder(tmp_path / "file")
    real = Path.mkdir

    def mkdir(self, *a, **k):
        if self.name == "c":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(WriteError, match=r"a/b/c: cannot make the folder: permission denied \(the folder .*a/b is"):
        make_folder(tmp_path / "a" / "b" / "c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # a and b removed again


def test_stale_temporary_files_are_removed_and_nothing_else(tmp_path):
    names = [".last.json.0123abcd.tmp", ".last.safetensors.prev.777.tmp", ".loss.png.deadbeef.tmp"]
    keep = ["last.json", "notes.tmp", ".hidden", ".x.nothex!.tmp"]
    for name in names + keep:
        (tmp_path / name).write_text("x")
    assert sorted(p.name for p in remove_stale_temps(tmp_path)) == sorted(names)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_the_kernels_compile_without_their_cache_when_it_cannot_be_written(monkeypatch):
    """numba writes its cache beside rnnlab's sources on a first compile: a full disk there (or a
    file-size limit) makes that write fail, and the kernels then compile without a cache instead
    of the run dying with numba's OSError."""
    from rnnlab import kernels

    calls, compiled = [], []

    def call(name, rows, cols, *args):
        calls.append(name)
        if len(calls) == 1:
            raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(kernels, "_call", call)
    monkeypatch.setattr(kernels, "_compile", lambda cache=True: compiled.append(cache))
    kernels._run("lstm_backward", 2, 3)
    assert calls == ["lstm_backward", "lstm_backward"] and compiled == [False]


# --- wrong kinds of paths, missing folders ------------------------------------------------------------


def test_wrong_kinds_of_paths_are_refused_in_one_line(tmp_path, corpus):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    before = tree_hashes(tmp_path)
    assert_refused(run_cli(_train(corpus, "afile"), tmp_path), "--out afile", "expected a folder, got a file")
    assert_refused(run_cli(["trace", "adir"], tmp_path), "adir", "expected a config file", "got a folder")
    assert_refused(run_cli(["exercise", "cours-lstm", "--out", "adir"], tmp_path), "adir",
                   "it is a folder, expected a file")
    assert_refused(run_cli(["exercise", "cours-lstm", "--out", "afile/x.md"], tmp_path), "afile",
                   "expected a folder, got a file")
    assert_refused(run_cli(["plot", "tanh", "--out", "nodir/x.png"], tmp_path), "nodir")
    assert_refused(run_cli(["sample", "afile"], tmp_path), "afile")
    assert tree_hashes(tmp_path) == before and _temporary_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile", "tiny.txt"]


def test_an_output_file_in_a_missing_folder_is_written_there(tmp_path):
    result = run_cli(["exercise", "cours-lstm", "--out", "nodir/x.txt"], tmp_path)
    assert result.code == 0, result
    assert (tmp_path / "nodir" / "x.txt").read_text(encoding="utf-8") and _temporary_files(tmp_path) == []


def test_an_uncaught_os_error_is_one_line_with_the_users_path(tmp_path, monkeypatch):
    """Whatever OSError a command meets (here one no layer of rnnlab translated, on a temporary
    file's name), the CLI says it in one line, names the user's file, exits 2."""
    from rnnlab.commands import exercise

    def emit(doc, args):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / ".x.txt.0a1b2c3d.tmp"))

    monkeypatch.setattr(exercise, "emit", emit)
    result = run_cli(["exercise", "cours-lstm", "--out", "x.txt"], tmp_path)
    assert_refused(result, f"{tmp_path / 'x.txt'}: no such file or folder")
    assert result.code == 2 and ".tmp" not in result.err


# --- nothing left behind by a refused call --------------------------------------------------------------


@pytest.mark.parametrize("argv, culprit", [
    (["task", "adding", "-T", "0", "--steps", "2", "--no-progress"], "T"),
    (["task", "copy", "--length=-3", "--steps", "2", "--no-progress"], "T"),
    (["classify", "--data", "missing.csv", "--steps", "2", "--no-progress"], "missing.csv"),
    (["forecast", "--series", "missing.csv", "--steps", "2", "--no-progress"], "missing.csv"),
    (["train", "--corpus", "missing.txt", "--steps", "2", "--no-progress"], "missing.txt"),
    (["sweep", "adding", "--cells", "lstm", "--lengths", "0", "--steps", "2", "--no-progress"], "T"),
])
def test_a_refused_run_leaves_no_folder(tmp_path, argv, culprit):
    result = run_cli(argv, tmp_path)
    assert_refused(result, culprit)
    assert list(tmp_path.iterdir()) == [], sorted(tmp_path.rglob("*"))  # no runs/, no runs/<name>-<date>


def test_force_removes_the_old_run_only_when_the_new_one_starts(tmp_path):
    task = ["task", "adding", "-T", "5", "--steps", "4", "--hidden", "4", "--no-progress", "--out", "run"]
    assert run_cli(task, tmp_path).code == 0
    before = tree_hashes(tmp_path)
    assert_refused(run_cli([*task, "-T", "0", "--force"], tmp_path), "T")  # refused: the old run intact
    assert tree_hashes(tmp_path) == before
    assert_refused(run_cli(task, tmp_path), "--out run", "already holds a run (finished)", "--force")
    assert tree_hashes(tmp_path) == before
    assert run_cli([*task, "--seed", "1", "--force"], tmp_path).code == 0
    assert tree_hashes(tmp_path) != before and _temporary_files(tmp_path) == []


def test_a_sweep_folder_is_not_overwritten_without_force(tmp_path):
    sweep = ["sweep", "adding", "--cells", "lstm", "--lengths", "3", "--steps", "2", "--hidden", "3",
             "--no-progress", "--out", "s"]
    assert run_cli(sweep, tmp_path).code == 0
    before = tree_hashes(tmp_path)
    result = run_cli(sweep, tmp_path)
    assert_refused(result, "--out s", "already holds a run (finished)", "--force")
    assert "--resume" not in result.err  # sweep has none
    assert tree_hashes(tmp_path) == before
    assert run_cli([*sweep, "--force"], tmp_path).code == 0


# --- recovery ----------------------------------------------------------------------------------------


def test_a_run_cut_between_its_first_best_and_last_resumes_from_best(tmp_path, corpus):
    """Killed during the first save, after best.* and before last.*: not a dead
    end. --out says the run is unfinished and how to continue it; --resume continues it from
    best.*, exactly, and removes the temporary files the kill left. (The first evaluation renames
    samples.txt, best.safetensors, best.json, then last.*.)"""
    assert run_cli(_train(corpus, "whole"), tmp_path).code == 0
    assert _forked(_train(corpus, "cut"), tmp_path, ("replace", 4, "before")) == 137
    cut = tmp_path / "cut"
    assert sorted(p.name for p in cut.iterdir() if not p.name.startswith(".")) == [
        "best.json", "best.safetensors", "samples.txt"]
    assert len(_temporary_files(cut)) == 2  # last.*'s, written but never renamed
    before = tree_hashes(cut)
    result = run_cli(_train(corpus, "cut"), tmp_path)
    assert_refused(result, "--out cut", "unfinished run (step 2 of 6)", "rnnlab train --resume cut")
    assert tree_hashes(cut) == before
    result = run_cli(["train", "--resume", "cut", "--no-progress"], tmp_path)
    assert result.code == 0, result
    _same_tensors(tmp_path / "whole", cut)
    assert _temporary_files(cut) == []


def test_a_checkpoint_names_its_corpus_by_sha256(tmp_path, corpus):
    """A corpus path edited in a checkpoint (or a corpus changed on disk) is refused before it is
    used, by evaluate and by --resume, in a message naming the corpus and the checkpoint."""
    assert run_cli(_train(corpus, "run", steps=2), tmp_path).code == 0
    other = tmp_path / "other.txt"
    other.write_text(TEXT.upper(), encoding="utf-8")
    for name in ("last", "best"):
        path = tmp_path / "run" / f"{name}.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert len(doc["meta"]["job"]["corpus_sha256"]) == 64
        doc["meta"]["config"]["corpus"] = str(other)
        path.write_text(json.dumps(doc), encoding="utf-8")
    before = tree_hashes(tmp_path / "run")
    assert_refused(run_cli(["evaluate", "run"], tmp_path), str(other), "run/last.json",
                   "not the text the run was trained on")
    assert_refused(run_cli(["train", "--resume", "run", "--steps", "4", "--no-progress"], tmp_path), str(other),
                   "run/last.json", "not the text the run was trained on")
    assert tree_hashes(tmp_path / "run") == before


def test_non_finite_weights_in_a_checkpoint_name_the_file_and_the_tensor(tmp_path, corpus):
    assert run_cli(_train(corpus, "run", steps=2), tmp_path).code == 0
    for name in ("best", "last"):
        tensors, meta = load_checkpoint(tmp_path / "run", name)
        tensors["rnn.weight_hh_l0"][0, 0] = np.nan
        save_checkpoint(tmp_path / "run", name, tensors, meta)
    for argv in (["sample", "run"], ["evaluate", "run"], ["train", "--resume", "run", "--steps", "4"]):
        assert_refused(run_cli(argv, tmp_path), "run/", "'rnn.weight_hh_l0'", "1 NaN or infinite")


# --- exit statuses --------------------------------------------------------------------------------------


def test_every_help_says_the_exit_statuses(tmp_path):
    for argv in (["--help"], ["train", "--help"], ["task", "--help"], ["sweep", "--help"]):
        out = " ".join(run_cli(argv, tmp_path).out.split())  # argparse wraps the lines
        assert "exit status: 0" in out and "2 refused" in out and "130 interrupted" in out, argv
        assert "3 a training run diverged" in out, argv


def test_a_diverging_forecast_exits_3_naming_the_step(tmp_path):
    result = run_cli(["forecast", "--lr", "1000", "--steps", "30", "--hidden", "4", "--no-progress",
                      "--out", "f"], tmp_path)
    assert result.code == 3 and result.exception is None, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "the recursive forecast is inf at step" in lines[0], result.err
    assert (tmp_path / "f" / "last.json").is_file()  # the trained model is kept


def test_ctrl_c_during_train_exits_130_and_resumes_exactly(tmp_path, corpus, monkeypatch):
    from rnnlab.training.run import Run

    assert run_cli(_train(corpus, "whole"), tmp_path).code == 0
    real = Run.step_once

    def step_once(self):
        row = real(self)
        if self.step == 3:
            signal.raise_signal(signal.SIGINT)
        return row

    monkeypatch.setattr(Run, "step_once", step_once)
    result = run_cli(_train(corpus, "split"), tmp_path)
    assert result.code == 130 and "Interrupted at step 3" in result.out, result
    monkeypatch.undo()
    assert run_cli(["train", "--resume", "split", "--no-progress"], tmp_path).code == 0
    _same_tensors(tmp_path / "whole", tmp_path / "split")


def test_a_run_killed_after_its_last_checkpoint_is_finished_by_resume(tmp_path, corpus):
    """Killed once its last checkpoint is committed, before its loss curve is written: --resume
    writes the reports (no step trained) instead of refusing a spent budget; a second --resume
    then refuses it, as for any finished run."""
    assert run_cli(_train(corpus, "whole", steps=4), tmp_path).code == 0
    assert _forked(_train(corpus, "cut", steps=4), tmp_path, ("replace", 2, "after", "last.json")) == 137
    cut = tmp_path / "cut"
    assert (cut / "loss.csv").read_text().splitlines()[-1].startswith("2,")  # the curve stopped at step 2
    result = run_cli(["train", "--resume", "cut", "--no-progress"], tmp_path)
    assert result.code == 0 and "Finishing cut at step 4" in result.out, result
    assert (cut / "loss.csv").read_text().splitlines()[-1].startswith("4,") and reports_written(cut, 4)
    _same_tensors(tmp_path / "whole", cut)
    assert _temporary_files(cut) == [] and not list(cut.glob("*.prev"))
    assert_refused(run_cli(["train", "--resume", "cut", "--no-progress"], tmp_path), "spent its budget (step 4")


# --- crashes injected into every write of a save ------------------------------------------------------


def _crash_at(call: str, k: int, when: str, onto: str | None = None):
    """In a forked child: ``os._exit(137)`` (as ``kill -9``: nothing cleaned up) at the k-th call of
    ``os.replace`` or ``os.fsync`` (with ``onto``: the k-th rename onto a file of that name), before
    or after it is done."""
    real = getattr(os, call)
    count = [0]

    def crashing(*args, **kwargs):
        if onto is not None and Path(args[1]).name != onto:
            return real(*args, **kwargs)
        count[0] += 1
        if count[0] == k and when == "before":
            os._exit(137)
        result = real(*args, **kwargs)
        if count[0] == k:
            os._exit(137)
        return result

    setattr(os, call, crashing)


def _forked(argv, cwd, crash=None) -> int:
    """Run ``rnnlab argv`` in a forked copy of this process (a crash injected there only); its exit
    status (137: the crash happened)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if crash is not None:
                _crash_at(*crash)
            code = run_cli(argv, cwd).code
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _resume_after_crash(argv, resume, cwd, whole, folder, crash) -> str:
    """Run ``argv`` crashing at ``crash``, then resume it (or, when no checkpoint was committed,
    check the refusal and run it again); the result must equal ``whole`` bit for bit."""
    code = _forked(argv, cwd, crash)
    if code != 137:
        assert code == 0
        outcome = "no crash"
    elif (folder / "last.json").exists() or (folder / "best.json").exists():
        result = run_cli(resume, cwd)
        if "the run has spent its budget" in result.err:  # killed after its last checkpoint, its results
            assert_refused(result, "spent its budget (step 4", "--steps")  # written (train: its reports)
            outcome = "complete"
        else:  # a task killed after its last checkpoint is finished: its results written
            assert result.code == 0, (crash, result)
            outcome = "resumed"
    else:  # nothing committed: resume says so in one line, a new run in the same folder is accepted
        assert_refused(run_cli(resume, cwd), str(folder.name), "not found")
        result = run_cli(argv, cwd)
        assert result.code == 0, (crash, result)
        outcome = "started again"
    _same_tensors(whole, folder)
    assert _temporary_files(folder) == [], crash
    if outcome != "complete":  # complete: maybe killed after the JSON's rename, before .prev's removal:
        assert not list(folder.glob("*.prev")), crash  # harmless (its weights match their JSON, above)
    return outcome


def _train_crash_cases(corpus, tmp_path, crashes):
    argv = _train(corpus, "whole", steps=4, every=2)
    assert run_cli(argv, tmp_path).code == 0
    outcomes = []
    for n, crash in enumerate(crashes):
        folder = tmp_path / f"run{n}"
        outcomes.append(_resume_after_crash(_train(corpus, folder.name, steps=4, every=2),
                                            ["train", "--resume", folder.name, "--no-progress"], tmp_path,
                                            tmp_path / "whole", folder, crash))
    return outcomes


def _task_crash_cases(tmp_path, crashes):
    task = ["task", "adding", "-T", "5", "--steps", "4", "--eval-every", "2", "--hidden", "4", "--no-progress"]
    assert run_cli([*task, "--out", "whole"], tmp_path).code == 0
    outcomes = []
    for n, crash in enumerate(crashes):
        folder = tmp_path / f"run{n}"
        outcomes.append(_resume_after_crash([*task, "--out", folder.name],
                                            ["task", "--resume", folder.name, "--no-progress"], tmp_path,
                                            tmp_path / "whole", folder, crash))
    return outcomes


# a few positions in the non-slow run: the first save's first rename (weights before their JSON), the
# gap between best.* and last.* of the first save, and a later save's renames and flushes
FEW = [("replace", 2, "after"), ("replace", 4, "before"), ("replace", 5, "after"), ("replace", 10, "after"),
       ("fsync", 1, "after"), ("fsync", 9, "before")]
# every rename and flush of the first two evaluations (a run of 4 steps evaluated every 2 renames 16 files)
EVERY = [(call, k, when) for call, n in (("replace", 16), ("fsync", 12)) for k in range(1, n + 1)
         for when in ("before", "after")]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash is injected into a forked process")
def test_train_resumes_exactly_after_a_crash_at_a_few_writes(tmp_path, corpus):
    outcomes = _train_crash_cases(corpus, tmp_path, FEW)
    assert "resumed" in outcomes and "started again" in outcomes, outcomes


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash is injected into a forked process")
def test_train_resumes_exactly_after_a_crash_at_every_write(tmp_path, corpus):
    outcomes = _train_crash_cases(corpus, tmp_path, EVERY)
    assert outcomes.count("resumed") > len(EVERY) // 2, outcomes


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash is injected into a forked process")
def test_task_resumes_exactly_after_a_crash_at_every_write(tmp_path):
    outcomes = _task_crash_cases(tmp_path, EVERY)
    assert outcomes.count("resumed") > len(EVERY) // 2, outcomes
