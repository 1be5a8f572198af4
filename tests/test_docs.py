"""The notebooks of ``docs/`` run top to bottom, as a reader would run them.

An equivalent of nbclient without Jupyter: each MyST Markdown notebook (jupytext format) is cut
into its ```` ```{code-cell} ipython3 ```` blocks, which are executed in order in one namespace,
in a temporary working directory, with matplotlib's Agg backend. As in Jupyter, the value of a
cell's last expression is "displayed": a matplotlib figure is saved when ``RNNLAB_DOCS_FIGURES``
names a folder (to look at every figure), anything else is printed. A cell that raises fails the
test with the notebook's name, the cell's number and its line in the file.

The notebooks read ``RNNLAB_DOCS_BUDGET`` in their first cell: ``small`` (the default, what CI
runs: a few seconds per notebook) or ``full`` (the budgets a reader would use).

Run one notebook by hand, keeping its figures::

    python tests/test_docs.py docs/fr/003_char_rnn.md --figures /tmp/figures
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
import time
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGS = ("fr", "en")
CELL_OPEN = re.compile(r"^```\{code-cell\}\s+ipython3\s*$")


def notebooks() -> list[Path]:
    return sorted(p for lang in LANGS for p in (DOCS / lang).glob("*.md"))


def header(text: str) -> str:
    """The YAML front matter (between the first two ``---`` lines), or ''."""
    if not text.startswith("---\n"):
        return ""
    end = text.find("\n---\n", 4)
    return text[4:end] if end > 0 else ""


def code_cells(text: str) -> list[tuple[int, str]]:
    """``(line, source)`` of every code cell, in order; ``line`` is 1-based (the opening fence).

    Cell options (``:tags: [...]`` lines, or a ``---`` YAML block, at the top of the cell) are
    dropped; IPython magics (``%…``) are refused: the notebooks are plain Python."""
    lines = text.split("\n")
    cells, i = [], 0
    while i < len(lines):
        if CELL_OPEN.match(lines[i]):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"line {start}: code cell never closed")
            if body and body[0].strip() == "---":
                end = body.index("---", 1)
                body = body[end + 1:]
            while body and body[0].startswith(":") and not body[0].startswith("::"):
                body = body[1:]
            cells.append((start, "\n".join(body)))
        i += 1
    return cells


def _display(value, figure_dir, name, counter):
    if value is None:
        return
    from matplotlib.figure import Figure

    if isinstance(value, Figure):
        if figure_dir:
            counter[0] += 1
            Path(figure_dir).mkdir(parents=True, exist_ok=True)
            value.savefig(Path(figure_dir) / f"{name}_{counter[0]:02d}.png", dpi=90, bbox_inches="tight")
        return
    print(repr(value))


def run_notebook(path: Path, workdir: Path, figure_dir=None, echo=False, timings=None) -> str:
    """Execute every code cell of ``path`` in ``workdir``; returns everything printed.

    Raises ``AssertionError`` naming the notebook, the cell and its line when a cell raises."""
    import matplotlib

    matplotlib.use("Agg")
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    namespace = {"__name__": "__main__"}
    counter = [0]
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        for number, (line, source) in enumerate(code_cells(text), start=1):
            where = f"{rel}, cell {number} (line {line})"
            try:
                tree = ast.parse(source, filename=where)
                last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                stream = out if not echo else _Tee(out, sys.stdout)
                started = time.perf_counter()
                with contextlib.redirect_stdout(stream):
                    exec(compile(tree, where, "exec"), namespace)
                    if last is not None:
                        value = eval(compile(ast.Expression(last.value), where, "eval"), namespace)
                        _display(value, figure_dir, f"{path.parent.name}_{path.stem}", counter)
                if timings is not None:
                    timings.append((number, line, time.perf_counter() - started))
            except Exception as exc:  # noqa: BLE001 - report any failure of a reader's cell
                raise AssertionError(f"{where} raised {type(exc).__name__}: {exc}\n"
                                     + "".join(traceback.format_exception(exc)[-6:])) from None
    finally:
        os.chdir(cwd)
        import matplotlib.pyplot as plt

        plt.close("all")
    return out.getvalue()


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for st in self.streams:
            st.write(s)
        return len(s)


# --- the tests --------------------------------------------------------------------------------


def test_every_notebook_has_both_languages():
    names = {lang: sorted(p.name for p in (DOCS / lang).glob("*.md")) for lang in LANGS}
    assert names["fr"], "no notebook in docs/fr"
    assert names["fr"] == names["en"], f"French and English notebooks differ: {names}"
    for seed in ("000", "001", "002", "003", "004"):
        assert any(n.startswith(seed) for n in names["fr"]), f"no notebook for seed {seed}"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_format(path):
    """A jupytext MyST notebook: front matter with jupytext and kernelspec, code cells that
    parse, and the same number of code cells as its translation."""
    text = path.read_text(encoding="utf-8")
    head = header(text)
    for key in ("jupytext:", "format_name: myst", "kernelspec:", "language: python"):
        assert key in head, f"{path.name}: front matter lacks {key!r}"
    cells = code_cells(text)
    assert len(cells) >= 3, f"{path.name}: expected code cells, got {len(cells)}"
    for line, source in cells:
        assert not re.search(r"^\s*[%!]", source, re.M), f"{path.name} line {line}: IPython magic or shell escape"
        ast.parse(source)
    other = DOCS / ("en" if path.parent.name == "fr" else "fr") / path.name
    assert len(code_cells(other.read_text(encoding="utf-8"))) == len(cells), \
        f"{path.name}: French and English versions have different numbers of code cells"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_DOCS_BUDGET", os.environ.get("RNNLAB_DOCS_BUDGET", "small"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from rnnlab.i18n import set_language

    try:
        output = run_notebook(path, tmp_path, figure_dir=os.environ.get("RNNLAB_DOCS_FIGURES"))
    finally:
        set_language(None)
    assert output.strip(), f"{path.name}: printed nothing"


def test_harness_reports_the_failing_cell(tmp_path):
    """The runner must fail, naming the cell, when a cell raises (a test that can fail)."""
    nb = tmp_path / "broken.md"
    nb.write_text("---\njupytext:\n  formats: md:myst\n---\n\n```{code-cell} ipython3\nx = 1\n```\n\n"
                  "text\n\n```{code-cell} ipython3\n:tags: [hide-input]\n\ny = x / 0\n```\n", encoding="utf-8")
    assert [src.strip() for _, src in code_cells(nb.read_text())] == ["x = 1", "y = x / 0"]
    with pytest.raises(AssertionError, match=r"cell 2 \(line 12\) raised ZeroDivisionError"):
        run_notebook(nb, tmp_path)


# --- the reference and the command-line help -----------------------------------------------------


def _load_gen_reference():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_up_to_date():
    gen = _load_gen_reference()
    current = (DOCS / "reference.md").read_text(encoding="utf-8")
    assert current == gen.generate(), "docs/reference.md is out of date: run python docs/gen_reference.py"


def test_reference_covers_the_exported_api():
    """Every name of ``rnnlab.__all__`` is in the reference, with a docstring where it is defined."""
    import inspect

    import rnnlab

    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    for name in rnnlab.__all__:
        assert f"`rnnlab.{name}`" in text, f"rnnlab.{name} is missing from docs/reference.md"
        assert inspect.getdoc(getattr(rnnlab, name)), f"rnnlab.{name} has no docstring"


def _command_helps(lang):
    """``{command: {"": (help, description), dest: help, …}}`` from the CLI's parser in ``lang``."""
    import argparse

    from rnnlab.cli import build_parser
    from rnnlab.i18n import set_language

    set_language(lang)
    try:
        parser = build_parser()
    finally:
        set_language(None)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    short = {a.dest: a.help for a in sub._choices_actions}
    helps = {"rnnlab": {"": (parser.description,)} | {a.dest: a.help for a in parser._actions
                                                     if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))}}
    for name, p in sub.choices.items():
        helps[name] = {"": (short.get(name), p.description)}
        helps[name].update({a.dest: a.help for a in p._actions if not isinstance(a, argparse._HelpAction)})
    return helps


def test_every_help_string_is_written_in_both_languages():
    import argparse

    en, fr = _command_helps("en"), _command_helps("fr")
    assert set(en) == set(fr)
    missing = []
    for command in en:
        for dest, text in en[command].items():
            for lang, value in (("en", text), ("fr", fr[command].get(dest))):
                values = value if isinstance(value, tuple) else (value,)
                if value == argparse.SUPPRESS:
                    continue
                if any(v is None or not str(v).strip() for v in values):
                    missing.append(f"{command} {dest or '(command)'} [{lang}]")
    assert not missing, "help strings missing: " + ", ".join(missing)


@pytest.mark.parametrize("command", sorted(_command_helps("en")))
def test_help_output_in_french_differs_from_english(command, capsys):
    from rnnlab.cli import main

    outputs = {}
    for lang in ("en", "fr"):
        argv = ["--lang", lang] + ([command] if command != "rnnlab" else []) + ["--help"]
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
        outputs[lang] = capsys.readouterr().out
        assert {"en": "usage:", "fr": "utilisation :"}[lang] in outputs[lang]
    assert outputs["fr"] != outputs["en"], f"rnnlab {command} --help is the same in French and English"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="run docs notebooks like the tests do")
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--figures", help="save the figures there")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--timings", action="store_true", help="print the time of each cell")
    a = parser.parse_args()
    import tempfile

    for p in a.paths:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            cells = []
            run_notebook(p.resolve(), Path(d), a.figures, echo=not a.quiet, timings=cells)
        if a.timings:
            for number, line, seconds in cells:
                print(f"    cell {number:2d} (line {line:4d}): {seconds:5.1f} s", file=sys.stderr)
        print(f"--- {p}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
