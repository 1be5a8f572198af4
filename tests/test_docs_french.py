"""The French notebooks (docs/fr) follow French typography, checked mechanically on their prose.

The prose is what a reader reads as French text: the Markdown outside the front matter, the code
cells and every other fenced block, display and inline math (``$…$``, ``$$…$$``), inline code,
link targets and HTML comments. In it:

- ``:`` ``;`` ``?`` ``!`` and ``»`` have a space before them, ``«`` one after it (an ordinary, a
  no-break or a narrow no-break space);
- numbers of five digits or more are grouped by thousands with a no-break space, narrow or not
  (``104 644``), never with a comma (``104,644``, which a reader cannot tell from a decimal: so
  ``1,234`` is refused too, ``0,985`` is not), an ordinary space or nothing (``104644``);
- a sentence writes its decimals one way, its inline formulas included: ``0,5`` or ``0.5``, never
  both; the course's formulas and tables keep ``0.5``, so the prose writes ``0,5`` unless the
  sentence holds such a formula; dotted numbers that name an exercise (``exercice 1.2``,
  ``l'ex. 2.1``, ``(2.1)``) are references, not decimals;
- quotation marks are French (« »), not ``"``, “ ” or ‘ ’;
- none of the English words that crept into the text, nor the inclusive ``couche(s)``; a term
  kept from the course in English is written in italics, as French typography writes foreign
  words (``*many-to-one*``), and is then not counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from french_rules import problems, prose_paragraphs

ROOT = Path(__file__).resolve().parents[1]
FRENCH = sorted((ROOT / "docs" / "fr").glob("*.md"))


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FRENCH, ids=lambda p: p.name)
def test_french_notebook_typography(path):
    found = problems(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)


def test_the_french_notebooks_are_there():
    assert len(FRENCH) == 5, [p.name for p in FRENCH]


def test_prose_excludes_code_math_and_links():
    text = ("---\njupytext:\n  formats: md:myst\n---\n\n# Titre : ok\n\n```{code-cell} ipython3\n"
            "print('a: b')  # 104644\n```\n\nLe `x:y` et $a:b$ et [lien](http://x.org/a:b).\n\n"
            "$$\nf(x) = 0.5, 0,5\n$$\n\n| a | 0.5 |\n|---|:---:|\n<!-- the: x -->\n")
    paragraphs = [p for _, p in prose_paragraphs(text)]
    assert paragraphs[0] == "# Titre : ok"
    assert "x:y" not in paragraphs[1] and "a:b" not in paragraphs[1] and "lien" in paragraphs[1]
    assert "| a | 0.5 |" in paragraphs and not any("104644" in p or "0,5" in p for p in paragraphs)
    assert not problems(text)


@pytest.mark.parametrize("bad, rule", [
    ("Le résultat: 3.", "no space before ':'"),
    ("Pourquoi?", "no space before '?'"),
    ("Un « mot» ici.", "no space before '»'"),
    ("Un «mot » ici.", "no space after '«'"),
    ("Le corpus compte 104644 caractères.", "five digits or more"),
    ("Le corpus compte 104,644 caractères.", "thousands grouped with a comma"),
    ("Le corpus compte 1,104,644 caractères.", "thousands grouped with a comma"),
    ("Le corpus compte 104 644 caractères.", "ordinary space"),
    ("On passe de 0.5 à 0,25 en un pas.", "decimals written both ways"),
    ("Avec $x = 0.5$ on obtient 0,25.", "decimals written both ways"),
    ("La pente vaut 0.07 en 2.", "decimal point in French prose"),
    ('Le mot "porte" ici.', "quotation mark"),
    ("La Input Gate décide.", "English word 'Input'"),
    ("Chaque run dure une minute.", "English word 'run'"),
    ("Trois couche(s) empilées.", "couche(s)"),
    ("La dérivée d'écrasement vaut 1.", "calque"),
])
def test_each_rule_catches_its_fault(bad, rule):
    found = problems(bad + "\n")
    assert any(rule in what for what in found), found


@pytest.mark.parametrize("good", [
    "Le résultat\u202f: 3 ; pourquoi ? Parce que !",
    "Le corpus compte 104\u202f644 caractères, soit 1\u00a0000\u00a0000 octets à peu près.",
    "L'exercice 1.2 donne 0,25 ; les exercices 1.1 et 2.3 aussi (2.1), comme l'ex. 2.2.",
    "Avec $x = 0.5$ et $y = 0.25$, la sortie vaut 0.75 (la phrase suit la formule).",
    "| 0.5 | 0.25 |",
    "Le modèle *many-to-one* du Cours, ici plusieurs-vers-un.",
    "En 2026, une valeur de 0,985. Une autre, $0.5$, dans la phrase suivante ; 12\u202f345\u202f678 et 4096.",
])
def test_good_french_passes(good):
    assert not problems(good + "\n"), problems(good + "\n")
