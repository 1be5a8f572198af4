"""Faults that need a process of their own (issue 14): read-only folders, a file-size limit (a
full disk), and real signals (Ctrl-C, ``kill -9``) for ``train`` and each task command.

Read-only folders: as root, permissions do not bite. The child process then runs as root without
the capabilities that bypass them (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``,
dropped from its bounding set before ``exec``: the files' mode bits apply to it as to any user,
and it can still read the interpreter under ``/root``, which ``nobody`` cannot). Where that is
impossible the tests say why and skip. The many cases of a kind run in one child interpreter
(one start-up, then ``rnnlab.cli.main`` per case through ``helpers.run_cli``).
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import tree_hashes

import rnnlab
from rnnlab.checkpoint import load_checkpoint

TESTS = Path(__file__).resolve().parent
SOURCE = Path(rnnlab.__file__).resolve().parents[1]
TEXT = "the quick brown fox jumps over the lazy dog. " * 30
SMALL = ["--hidden", "8", "--batch", "2", "--seq-len", "8", "--no-progress"]
DRIVER = """
import json, sys
from helpers import run_cli
results = []
for argv, cwd in json.loads(sys.argv[1]):
    r = run_cli(argv, cwd)
    results.append({"argv": argv, "code": r.code, "out": r.out, "err": r.err,
                    "exception": None if r.exception is None else repr(r.exception)})
print(json.dumps(results))
"""
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, PR_CAPBSET_DROP = 1, 2, 3, 24


def _example_config(cell) -> str:
    from rnnlab.trace import config

    return config.dump_config(config.example(cell))


def _env(**extra):
    path = os.pathsep.join([str(SOURCE), str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "RNNLAB_LANG": "en",
            "RNNLAB_NUM_THREADS": "1", **extra}


def _as_a_user():
    """preexec_fn: this child obeys the files' permission bits (see the module docstring)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _why_permissions_cannot_bite(tmp_path) -> str | None:
    """None when a child started with :func:`_as_a_user` is refused a read-only folder; else why."""
    folder = tmp_path / "probe"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        child = subprocess.run([sys.executable, "-c", f"open({str(folder / 'x')!r}, 'w')"], preexec_fn=_as_a_user,
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"running as root, and a child without CAP_DAC_OVERRIDE cannot be started: {e}"
    finally:
        folder.chmod(0o755)
    if child.returncode == 0:
        return "running as root, and dropping CAP_DAC_OVERRIDE does not make permissions bite here"
    if "PermissionError" not in child.stderr:
        return f"the probe child failed otherwise: {child.stderr.strip().splitlines()[-1:]}"
    return None


def _drive(cases, preexec=None, timeout=300) -> list[dict]:
    """Run each ``(argv, cwd)`` through the CLI in one child interpreter; their results. (The
    compiled kernels are off: compiling them is slow and not what these tests are about.)"""
    child = subprocess.run([sys.executable, "-c", DRIVER, json.dumps([[list(map(str, a)), str(c)] for a, c in cases])],
                           env=_env(RNNLAB_NO_NUMBA="1"), preexec_fn=preexec, capture_output=True, text=True,
                           timeout=timeout)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def _refused_in_one_line(result, *culprits):
    assert result["exception"] is None and "Traceback" not in result["err"], result
    assert result["code"] == 2, result
    lines = [line for line in result["err"].splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result
    for culprit in culprits:
        assert culprit in lines[0], (culprit, lines[0])


def _temporary_files(folder):
    return sorted(str(p) for p in Path(folder).rglob("*") if p.name.endswith(".tmp"))


def _read_only(folder: Path):
    for path in sorted(folder.rglob("*"), reverse=True) + [folder]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def _writable(folder: Path):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# --- read-only folders ----------------------------------------------------------------------------------


def test_a_read_only_folder_is_refused_in_one_line_and_left_as_it_was(tmp_path):
    why = _why_permissions_cannot_bite(tmp_path)
    if why:
        pytest.skip(why)
    ro = tmp_path / "ro"
    ro.mkdir()
    (tmp_path / "tiny.txt").write_text(TEXT, encoding="utf-8")
    (ro / "cfg.json").write_text(_example_config("rnn"), encoding="utf-8")
    setup = _drive([(["train", "--corpus", "../tiny.txt", "--steps", "2", "--eval-every", "2", "--out", "run", *SMALL], ro),
                    (["task", "adding", "-T", "5", "--steps", "2", "--hidden", "4", "--no-progress", "--out", "trun"],
                     ro)])
    assert [r["code"] for r in setup] == [0, 0], setup
    _read_only(ro)
    before = tree_hashes(ro)
    cases = {
        "train --out": (["train", "--corpus", "../tiny.txt", "--steps", "2", "--out", "new", *SMALL],
                        ("new: cannot make the folder: permission denied", f"the folder {ro} is not writable")),
        "train runs/": (["train", "--corpus", "../tiny.txt", "--steps", "2", *SMALL],
                        ("runs/tiny-lstm-", "cannot make the folder: permission denied")),
        "train --resume": (["train", "--resume", "run", "--steps", "4", "--no-progress"],
                           ("run: cannot write: permission denied (the folder run is not writable)",)),
        "task --out": (["task", "adding", "-T", "5", "--steps", "2", "--no-progress", "--out", "t"],
                       ("t: cannot make the folder: permission denied",)),
        "task runs/": (["task", "adding", "-T", "5", "--steps", "2", "--no-progress"],
                       ("runs/adding-lstm-T5-", "permission denied")),
        "task --resume": (["task", "--resume", "trun", "--steps", "4", "--no-progress"],
                          ("trun: cannot write: permission denied",)),
        "forecast": (["forecast", "--steps", "2", "--no-progress", "--out", "f"], ("f: cannot make the folder",)),
        "classify": (["classify", "--steps", "2", "--no-progress", "--out", "c"], ("c: cannot make the folder",)),
        "sweep": (["sweep", "adding", "--cells", "lstm", "--lengths", "3", "--steps", "2", "--no-progress",
                   "--out", "s"], ("s: cannot make the folder",)),
        "exercise": (["exercise", "cours-lstm", "--out", "x.md"], ("x.md: cannot write: permission denied",)),
        "plot": (["plot", "tanh", "--out", "x.png"], ("x.png: cannot write: permission denied",)),
        "trace": (["trace", "cfg.json", "--out", "t.txt"], ("t.txt: cannot write: permission denied",)),
    }
    reading = {"evaluate": ["evaluate", "run"], "sample": ["sample", "run", "--length", "5"],
               "exercise to the terminal": ["exercise", "cours-lstm"]}
    try:
        results = _drive([(argv, ro) for argv, _ in cases.values()] + [(argv, ro) for argv in reading.values()],
                         preexec=_as_a_user)
    finally:
        after = tree_hashes(ro)
        _writable(ro)
    for (name, (argv, culprits)), result in zip(cases.items(), results):
        _refused_in_one_line(result, *culprits)
        assert "nothing was written" in result["err"], (name, result["err"])
    for name, result in zip(reading, results[len(cases):]):
        assert result["code"] == 0, (name, result)  # reading a read-only run works
    assert after == before and _temporary_files(ro) == []


# --- a full disk: the file-size limit ---------------------------------------------------------------------


def _file_size_limit(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_a_full_disk_is_refused_in_one_line_and_leaves_no_temporary_file(tmp_path):
    """``ulimit -f``: every write beyond the limit fails with EFBIG (rnnlab ignores SIGXFSZ, which
    would kill it). Each command says which file and why, keeps what was there, leaks nothing."""
    (tmp_path / "tiny.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "cfg.json").write_text(_example_config("lstm"), encoding="utf-8")
    (tmp_path / "x.md").write_text("the previous text\n", encoding="utf-8")
    before = tree_hashes(tmp_path)
    cases = {  # every file written here is over the 6,000 bytes of the limit
        "train": (["train", "--corpus", "tiny.txt", "--steps", "2", "--out", "run", *SMALL],
                  ("run/best.json: cannot write: file too large", "nothing was written")),
        "task": (["task", "adding", "-T", "5", "--steps", "2", "--hidden", "64", "--no-progress", "--out", "t"],
                 ("t/last.json: cannot write: file too large", "nothing was written")),
        "trace": (["trace", "cfg.json", "--format", "html", "--out", "t.html"],
                  ("t.html: cannot write: file too large: the file-size limit (ulimit -f) is reached",)),
        "exercise": (["exercise", "cours-lstm", "--format", "html", "--out", "x.md"],
                     ("x.md: cannot write: file too large", "the previous file is kept")),
        "plot": (["plot", "tanh", "--out", "x.png"], ("x.png: cannot write: file too large",)),
    }
    results = _drive([(argv, tmp_path) for argv, _ in cases.values()], preexec=_file_size_limit(6_000))
    for (name, (argv, culprits)), result in zip(cases.items(), results):
        _refused_in_one_line(result, *culprits)
    assert tree_hashes(tmp_path) == before  # no run folder left, x.md as it was
    assert _temporary_files(tmp_path) == []


# --- real signals: Ctrl-C and kill -9 chains ------------------------------------------------------------


def _start(argv, cwd):
    return subprocess.Popen([sys.executable, "-m", "rnnlab", *map(str, argv)], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process, timeout=120):
    """Until ``path`` exists (a first checkpoint) or the process ends."""
    end = time.monotonic() + timeout
    while not path.exists() and process.poll() is None and time.monotonic() < end:
        time.sleep(0.02)


def _same_weights(a_dir, b_dir):
    a, meta_a = load_checkpoint(a_dir, "last")
    b, meta_b = load_checkpoint(b_dir, "last")
    assert meta_a["step"] == meta_b["step"] and a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)


COMMANDS = {
    "train": (["train", "--corpus", "../tiny.txt", "--steps", "240", "--eval-every", "20", "--hidden", "32",
               "--batch", "4", "--seq-len", "16", "--no-progress"], "train"),
    "task": (["task", "adding", "-T", "20", "--steps", "400", "--eval-every", "25", "--hidden", "32",
              "--no-progress"], "task"),
    "classify": (["classify", "--steps", "300", "--eval-every", "20", "--hidden", "32", "--no-progress"],
                 "classify"),
    "forecast": (["forecast", "--steps", "400", "--eval-every", "25", "--hidden", "32", "--no-progress"],
                 "forecast"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_ctrl_c_then_kill_9_chains_resume_exactly(tmp_path, name):
    """Ctrl-C once (exit 130, the run saved, the command that continues it printed), then
    ``kill -9`` at random moments of the resumed runs, then a last resume to the end: the final
    weights equal the uninterrupted run's bit for bit, and no temporary file is left."""
    argv, command = COMMANDS[name]
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "tiny.txt").write_text(TEXT, encoding="utf-8")
    whole = subprocess.run([sys.executable, "-m", "rnnlab", *argv, "--out", "whole"], cwd=work, env=_env(),
                           capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    split = work / "split"
    process = _start([*argv, "--out", "split"], work)
    _wait_for(split / "last.json", process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    if process.returncode != 0:  # finished before the signal arrived: nothing to chain
        assert process.returncode == 130, err
        assert f"rnnlab {command} --resume" in out and "Traceback" not in err, (out, err)
    rng = random.Random(name)
    for _ in range(3):
        stamp = (split / "last.json").stat().st_mtime_ns
        process = _start([command, "--resume", "split", "--no-progress"], work)
        end = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < end and (split / "last.json").stat().st_mtime_ns == stamp:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the next steps or saves
        process.kill()
        out, err = process.communicate(timeout=60)
        if process.returncode == 0 or "spent its budget" in err:
            break
        assert process.returncode in (-signal.SIGKILL, 2), (process.returncode, err)
    final = subprocess.run([sys.executable, "-m", "rnnlab", command, "--resume", "split", "--no-progress"], cwd=work,
                           env=_env(), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0 or "spent its budget" in final.stderr, final.stderr
    _same_weights(work / "whole", split)
    assert _temporary_files(split) == []


@pytest.mark.slow
def test_ctrl_c_of_a_sweep_exits_130_and_leaves_no_folder(tmp_path):
    process = _start(["sweep", "adding", "--cells", "lstm,gru", "--lengths", "10,20", "--steps", "3000",
                      "--no-progress", "--out", "s"], tmp_path)
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and err.strip().splitlines()[-1] == "interrupted", err
    assert not (tmp_path / "s").exists()


def test_the_cli_ignores_sigxfsz():
    """A file-size limit must give an OSError to report, not SIGXFSZ's kill (CPython ignores it at
    start-up; rnnlab.cli.main makes sure for a host that does not)."""
    from rnnlab import cli

    previous = signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    try:
        cli._ignore_file_size_signal()
        assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGXFSZ, previous)
