"""Every error message rnnlab raises speaks the user's language.

A message written as a literal (a string, an f-string, or a sum of them) in a ``raise`` must be
built by ``i18n.say(en, fr)``, so that ``rnnlab --lang fr`` never shows an English-only refusal;
the French of every ``say`` is then checked by ``test_cli_french``'s rules. ``AttributeError``
is exempt: Python's attribute protocol raises it, never a user's input.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rnnlab

ROOT = Path(rnnlab.__file__).parent
EXEMPT = {"AttributeError"}


def _is_literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_literal(node.left) or _is_literal(node.right)
    return False


def english_only_raises(path: Path):
    """``line: source`` of every ``raise E(<literal message>)`` in ``path`` that bypasses ``say``."""
    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
            continue
        func = node.exc.func
        name = getattr(func, "id", getattr(func, "attr", ""))
        if name not in EXEMPT and _is_literal(node.exc.args[0]):
            yield f"{node.lineno}: {ast.get_source_segment(source, node).splitlines()[0]}"


SOURCES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_raised_message_is_bilingual(path):
    found = list(english_only_raises(path))
    assert not found, f"{path.relative_to(ROOT)}: messages without say(en, fr):\n" + "\n".join(found)


def test_the_check_finds_an_english_only_message(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('def f(x):\n    raise ValueError(f"x must be positive, got {x}")\n'
                   'def g():\n    raise ConfigError("a" + str(1))\n'
                   'def h():\n    raise ConfigError(say("en", "fr"))\n'
                   'def k():\n    raise AttributeError("name")\n')
    assert [line.split(":")[0] for line in english_only_raises(bad)] == ["2", "4"]
    assert len(SOURCES) > 50  # the walk sees the package
