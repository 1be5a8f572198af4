"""Helpers shared by the test modules (imported as ``from helpers import …``; pytest puts this
folder on the path through ``conftest.py``)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest


def torch_or_none():
    """The ``torch`` module, or ``None`` when it cannot be imported; with
    ``RNNLAB_REQUIRE_TORCH=1`` (CI) a missing torch fails the test instead."""
    try:
        import torch
    except ImportError:
        if os.environ.get("RNNLAB_REQUIRE_TORCH") == "1":
            pytest.fail("RNNLAB_REQUIRE_TORCH=1 but torch cannot be imported")
        return None
    return torch


def quiet() -> dict:
    """Keyword arguments that keep a trainer silent: its console writes to a string, no progress bar."""
    from rich.console import Console

    return {"console": Console(file=io.StringIO(), width=100), "progress": False}


def layer_case(cell, option, *, seed, data_seed, T, B, D, H, hx_scale=1.0):
    """A float64 layer and inputs for one case of the layer tests: ``(layer, x, hx, lengths)``.

    ``cell`` is ``(layer class, cell options)``; ``option`` is ``(layer options, run options)``.
    The layer options go to the constructor (``"eval": True`` puts the layer in evaluation
    mode); the run options say ``unbatched`` (x is ``(T, D)``), ``hx`` (a random initial state,
    times ``hx_scale``) and ``lengths`` (the sequence lengths). The layer's weights come from
    ``seed``, x and hx from ``data_seed``.
    """
    cls, cell_options = cell
    layer_options, run = option
    layer_options = dict(layer_options)
    to_eval = layer_options.pop("eval", False)
    layer = cls(D, H, **layer_options, **cell_options, dtype=np.float64, seed=seed)
    if to_eval:
        layer.eval()
    rng = np.random.default_rng(data_seed)
    LD = layer.num_layers * layer.num_directions
    if run.get("unbatched"):
        x, lead = rng.normal(size=(T, D)), (LD,)
    else:
        x, lead = rng.normal(size=(B, T, D) if layer.batch_first else (T, B, D)), (LD, B)
    hx = None
    if run.get("hx"):  # each state's width: H, or P for h with a projection
        hx = tuple(rng.normal(size=lead + (width,)) * hx_scale for width in layer.state_sizes)
        hx = hx if len(hx) == 2 else hx[0]
    lengths = None if run.get("lengths") is None else np.array(run["lengths"])
    return layer, x, hx, lengths


class CliResult:
    """What one in-process ``rnnlab`` call gave: its exit status and what it wrote."""

    def __init__(self, code: int, out: str, err: str, exception: BaseException | None):
        self.code, self.out, self.err, self.exception = code, out, err, exception

    def __repr__(self):
        return f"CliResult(code={self.code}, err={self.err[-300:]!r}, exception={self.exception!r})"


def run_cli(argv, cwd=None) -> CliResult:
    """Run ``rnnlab argv`` in this process (the CLI's own entry point, ``rnnlab.cli.main``), in
    ``cwd`` if given, and return its status and output. An exception that escapes ``main`` (a
    traceback a user would see) is kept in ``exception`` with status 1, not raised."""
    import contextlib
    import traceback

    from rnnlab import cli

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    exception = None
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main([str(a) for a in argv])
            except SystemExit as exc:  # argparse's own refusals
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception as exc:  # noqa: BLE001 - a traceback the user would see
                exception, code = exc, 1
                err.write(traceback.format_exc())
    finally:
        os.chdir(previous)
    return CliResult(int(code or 0), out.getvalue(), err.getvalue(), exception)


def tree_hashes(*folders) -> dict:
    """``{path: sha256}`` of every file under ``folders``: compare before and after a call to
    prove that it changed nothing."""
    import hashlib
    from pathlib import Path

    hashes = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def assert_refused(result: CliResult, *culprits: str) -> None:
    """A clean refusal: non-zero status, no traceback, and a last line on stderr (the message,
    after argparse's usage if any) that names every culprit."""
    assert result.exception is None, result.err
    assert result.code != 0, result
    assert "Traceback" not in result.err, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines, result
    for culprit in culprits:
        assert culprit.lower() in lines[-1].lower(), (culprit, lines[-1])


LAB_TEXT = "".join(f'the cat "sat" on (the) mat {k % 7}\nand a dog ran\n' for k in range(60))


def train_tiny_run(root):
    """A tiny run of ``rnnlab train`` under ``root/run`` (LSTM, H = 8, 12 steps on a small corpus
    with quotes, brackets and digits): what the lab's tests inspect and monitor."""
    from pathlib import Path

    root = Path(root)
    corpus = root / "tiny.txt"
    corpus.write_text(LAB_TEXT, encoding="utf-8")
    got = run_cli(["train", "--corpus", corpus, "--hidden", 8, "--steps", 12, "--eval-every", 6,
                   "--seq-len", 16, "--batch", 4, "--out", root / "run", "--no-progress"])
    assert got.code == 0, got
    return root / "run"
