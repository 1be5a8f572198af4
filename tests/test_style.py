"""House rules checked on the source: no line over 110 characters, and figures only through
matplotlib's object API (no pyplot, no ``matplotlib.use``: a notebook user's backend is never
switched)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnlab"
MAX_LINE = 110

# TEMPORARY: the lead's training files, which still draw with pyplot; he converts them to
# plots.save_figure and the object API, then deletes this list.
PYPLOT_ALLOWED: set = set()


def sources() -> dict:
    return {p.relative_to(PACKAGE).as_posix(): p for p in sorted(PACKAGE.rglob("*.py"))}


def long_lines(path: Path) -> list:
    return [(n, len(line)) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > MAX_LINE]


def test_no_source_line_is_over_110_characters():
    found = {name: long_lines(path) for name, path in sources().items()}
    offenders = {name: lines for name, lines in found.items() if lines}
    assert not offenders, "lines over 110 characters (line, length): " + "; ".join(
        f"{name}: {lines[:5]}" for name, lines in offenders.items())


def pyplot_uses(tree: ast.AST) -> list:
    """``(line, what)`` for each import of pyplot and each call of ``<something>.use(…)`` on
    matplotlib (``matplotlib.use``, ``mpl.use``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("matplotlib.pyplot")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("matplotlib.pyplot") or (
                    node.module == "matplotlib" and any(a.name in ("pyplot", "use") for a in node.names)):
                found.append((node.lineno, f"from {node.module} import …"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "use" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("matplotlib", "mpl"):
            found.append((node.lineno, f"{node.func.value.id}.use(…)"))
    return found


def test_no_pyplot_and_no_backend_switch_in_the_library():
    found = {name: pyplot_uses(ast.parse(path.read_text(encoding="utf-8"))) for name, path in sources().items()}
    offenders = {name: uses for name, uses in found.items() if uses and name not in PYPLOT_ALLOWED}
    assert not offenders, f"pyplot or matplotlib.use in library code (draw on a Figure instead): {offenders}"
    done = sorted(name for name in PYPLOT_ALLOWED if not found.get(name))
    assert not done, f"no pyplot left in {done}: remove them from PYPLOT_ALLOWED"


@pytest.mark.parametrize("code, expected", [
    ("import matplotlib\nmatplotlib.use('Agg')", 1),
    ("import matplotlib.pyplot as plt", 1),
    ("from matplotlib import pyplot", 1),
    ("from matplotlib.figure import Figure\nfig = Figure()", 0),
    ("matplotlib.rcParams['lines.linewidth'] = 2  # pyplot in a comment", 0),
])
def test_the_pyplot_check_finds_what_it_should(code, expected):
    assert len(pyplot_uses(ast.parse(code))) == expected
