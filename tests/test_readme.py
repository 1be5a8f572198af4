"""Every command the README shows runs, and the output it pastes is the output rnnlab prints.

The README's code blocks are read in order:

- ```` ```python ```` blocks are executed in one namespace, top to bottom;
- ```` ```console ```` blocks hold ``$ command`` lines followed by their output, ```` ```bash ````
  blocks hold commands only. Every ``rnnlab …`` command goes through :func:`rnnlab.cli.main` in a
  temporary folder (so ``runs/…`` written by ``rnnlab train`` is there for ``rnnlab sample``) and
  must exit with status 0: a command or an option that does not exist fails (argparse exits 2).
  The set-up commands ``pip install -e '.[test]'`` and ``pytest``, and the documentation site's
  ``pip install -e '.[docs]'`` and ``python docs/build.py``, are not run here: ``.ci/run`` runs
  exactly those lines (the CPU-only PyTorch install shown beside them is not run either: it
  downloads). The set-up's ``rnnlab train`` runs, on the budget below.
- For the commands whose output is deterministic (:data:`CHECK_OUTPUT`), every output line pasted
  in the README (``…`` marks a cut) must appear in what the command prints now.

Commands that are long by design get a small budget appended (:data:`BUDGET`): argparse keeps
the last value of a repeated option, so the command shown still runs with every option it shows.

What needs PyTorch (the ``torchrun`` line, a Python block that imports torch) is skipped without
it, as the README promises: everything else runs, then the test reports the skip; with
``RNNLAB_REQUIRE_TORCH=1`` (CI) a missing torch fails the test instead.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

import pytest

from helpers import torch_or_none

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```([\w-]*)\s*\n(.*?)^```\s*$", re.M | re.S)

# Budget overrides appended to long commands, so that the whole README runs in seconds.
# `rnnlab train` defaults to five minutes of training: here 2 steps of a 16-unit LSTM.
BUDGET = {
    "train": ["--steps", "2", "--hidden", "16", "--batch", "4", "--seq-len", "16", "--no-progress"],
    "task": ["--steps", "3", "--no-progress"],
    "sweep": ["--steps", "3", "--lengths", "5", "--no-progress"],
    "classify": ["--steps", "3", "--no-progress"],
    "forecast": ["--steps", "3", "--no-progress"],
}
# Not run by this test (see the module docstring): the README's two set-up commands.
SETUP = {"pip install -e '.[test]'", "pytest",
         "pip install torch --index-url https://download.pytorch.org/whl/cpu",
         "pip install -e '.[docs]'", "python docs/build.py"}  # .ci/run runs the documentation's two
# Commands whose pasted output must match what rnnlab prints now.
CHECK_OUTPUT = {"exercise", "tape", "gradients"}


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def commands(lang: str, body: str) -> list[tuple[str, list[str]]]:
    """``(command, pasted output lines)`` of a console or bash block."""
    out = []
    if lang == "console":
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:].strip(), []))
            elif out:
                out[-1][1].append(line)
    else:
        out = [(line.strip(), []) for line in body.splitlines() if line.strip() and not line.startswith("#")]
    return out


def readme_items() -> list:
    items = []
    for lang, body in blocks(README.read_text(encoding="utf-8")):
        if lang == "python":
            items.append(("python", body, None))
        elif lang in ("console", "bash", "sh"):
            items += [("command", cmd, output) for cmd, output in commands(lang, body)]
    return items


def needs_torch(kind: str, body: str) -> bool:
    """Whether a README item cannot run without PyTorch."""
    if kind == "python":
        return re.search(r"^\s*(import|from)\s+torch\b", body, re.M) is not None
    return shlex.split(body)[0] == "torchrun"


def _normalise(line: str) -> str:
    return " ".join(line.split())


def run_rnnlab(argv: list[str]) -> tuple[int, str]:
    from rnnlab.cli import main
    from rnnlab.i18n import set_language

    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse: unknown command or option
                code = stop.code
    finally:
        set_language(None)
    return code, buf.getvalue()


def test_readme_keeps_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    bash = [body for lang, body in blocks(text) if lang == "bash"]
    setup = ["pip install -e '.[test]'", "rnnlab train", "pytest"]
    assert bash and bash[0].split("\n")[:3] == setup, \
        "the README's first bash block must be the install, the default run and the tests (.ci/run mirrors them)"


def test_readme_links_exist():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert any(link.endswith(".png") for link in local), "the README shows no figure"
    for link in local:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_readme_commands_and_code_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("COLUMNS", "100")
    namespace = {"__name__": "__main__"}
    ran, without_torch = 0, []
    have_torch = torch_or_none() is not None
    for kind, body, shown in readme_items():
        if not have_torch and needs_torch(kind, body):
            without_torch.append(body.strip().splitlines()[0])
            continue
        if kind == "python":
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(body, "README.md (python block)", "exec"), namespace)
            ran += 1
            continue
        if body in SETUP:
            continue
        argv = shlex.split(body)
        if argv[0] == "torchrun":  # the rnnlab command it launches, run here as one process
            # (tests/test_backend_torch.py runs a real two-process torchrun)
            assert argv[argv.index("-m") + 1] == "rnnlab", body
            argv = argv[argv.index("-m") + 1:]
        assert argv[0] == "rnnlab", f"README shows a command this test does not know how to run: {body!r}"
        argv = argv[1:]
        for i, arg in enumerate(argv):  # folders of --out / --plot files exist, as in a checkout
            if arg in ("--out", "--plot") and i + 1 < len(argv) and Path(argv[i + 1]).suffix:
                Path(argv[i + 1]).parent.mkdir(parents=True, exist_ok=True)
        command = next((a for a in argv if not a.startswith("-") and a not in ("en", "fr")), None)
        code, output = run_rnnlab(argv + BUDGET.get(command, []))
        assert code == 0, f"`{body}` exited with {code}:\n{output[-2000:]}"
        ran += 1
        if command in CHECK_OUTPUT and shown:
            printed = {_normalise(line) for line in output.splitlines()}
            for line in shown:
                if line.strip() and line.strip() != "…":
                    assert _normalise(line) in printed, f"`{body}`: the README shows {line!r}, rnnlab prints:\n{output}"
    assert ran >= 10, f"only {ran} README blocks/commands ran"
    if without_torch:
        pytest.skip(f"torch is not installed: skipped {without_torch}")


def test_what_needs_torch_is_recognised():
    items = readme_items()
    torch_items = [body for kind, body, _ in items if needs_torch(kind, body)]
    assert any(body.startswith("torchrun ") for body in torch_items)
    assert any("import torch" in body for body in torch_items)
    assert not needs_torch("command", "rnnlab train --backend numpy")
    assert not needs_torch("python", "import torchvision\nx = 1")
    assert not needs_torch("python", "# from torch import nn, in a comment\nx = 1")


@pytest.mark.parametrize("bad", ["rnnlab exercise 000-9.9", "rnnlab train --no-such-option"])
def test_a_wrong_command_fails(bad):
    """The check that runs the README's commands can fail."""
    code, _ = run_rnnlab(shlex.split(bad)[1:])
    assert code != 0


def test_without_torch_its_items_skip_unless_torch_is_required(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    monkeypatch.delenv("RNNLAB_REQUIRE_TORCH", raising=False)
    assert torch_or_none() is None
    monkeypatch.setenv("RNNLAB_REQUIRE_TORCH", "1")
    with pytest.raises(pytest.fail.Exception, match="RNNLAB_REQUIRE_TORCH=1"):
        torch_or_none()
