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

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRENCH = sorted((ROOT / "docs" / "fr").glob("*.md"))
SPACES = " \u00a0\u202f"  # ordinary, no-break, narrow no-break
HIDDEN = "\u27e6\u27e7"  # what replaces code, math and link targets: neither a word nor a digit

# English words found in the French notebooks or the course's French documents, and their usual
# companions; each is matched as a whole word, case-insensitively.
ENGLISH_WORDS = (
    "the", "and", "of", "with", "from", "scratch", "gate", "gates", "forget", "input", "output",
    "hidden", "layer", "layers", "run", "runs", "loss", "step", "steps", "batch", "batches",
    "clipping", "one-hot", "many-to-one", "many-to-many", "one-to-many", "one-to-one",
    "feedforward", "seed", "sweep", "checkpoint", "benchmark", "benchmarks", "embedding",
    "dropout", "forward", "backward", "tape", "cell", "state", "sequence-to-sequence", "learning",
    "rate", "training", "accuracy", "warning", "plot", "default", "bug", "bugs", "honest", "reset",
    "update", "preset", "presets", "heatmap", "feature", "features", "unit", "units", "first",
)


def _blank(match: re.Match) -> str:
    """The hidden marker, keeping the line breaks of what it replaces (for line numbers)."""
    return HIDDEN[0] + "\n" * match.group(0).count("\n") + HIDDEN[1]


def prose_paragraphs(text: str, keep_math: bool = False) -> list[tuple[int, str]]:
    """``(line, paragraph)`` for each paragraph of prose of a MyST notebook; ``line`` is 1-based.

    A table row is a paragraph of its own (it starts with ``|``). Code, link targets, HTML
    comments and inline math are replaced by a marker (⟦⟧) that keeps their line breaks (with
    ``keep_math``, inline math stays, between the marker's brackets: ⟦x = 0.5⟧); display math
    is left out."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0] == "---":
        start = lines.index("---", 1) + 1
    paragraphs, current, first, fence = [], [], 0, None

    def close():
        if current:
            paragraphs.append((first + 1, "\n".join(current)))
            current.clear()

    for number in range(start, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if fence is not None:  # inside a fenced block or display math
            if stripped == fence or (fence == "$$" and stripped.endswith("$$")):
                fence = None
            continue
        opening = re.match(r"^(`{3,}|~{3,})", stripped)
        if opening or stripped.startswith("$$"):
            close()
            if opening:
                fence = opening.group(1)
            elif not (len(stripped) > 2 and stripped.endswith("$$")):
                fence = "$$"
            continue
        if not stripped or stripped.startswith("|"):
            close()
            if stripped.startswith("|") and not re.fullmatch(r"[|:\- ]+", stripped):
                paragraphs.append((number + 1, stripped))
            continue
        if not current:
            first = number
        current.append(line)
    close()
    return [(line, _hide_non_prose(paragraph, keep_math)) for line, paragraph in paragraphs]


def _hide_non_prose(paragraph: str, keep_math: bool) -> str:
    paragraph = re.sub(r"<!--.*?-->", _blank, paragraph, flags=re.S)
    paragraph = re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", _blank, paragraph, flags=re.S)  # inline code
    paragraph = re.sub(r"\$([^$]+)\$", (lambda m: HIDDEN[0] + m.group(1) + HIDDEN[1]) if keep_math
                       else _blank, paragraph)
    paragraph = re.sub(r"\]\([^)]*\)", lambda m: "]" + _blank(m), paragraph)  # link targets
    paragraph = re.sub(r"<https?://[^>]*>", _blank, paragraph)  # autolinks
    return paragraph


def _line_of(paragraph_line: int, paragraph: str, index: int) -> int:
    return paragraph_line + paragraph.count("\n", 0, index)


def _without_italics(paragraph: str) -> str:
    """The paragraph without its italic spans (``*…*`` or ``_…_``, not bold): foreign words."""
    paragraph = re.sub(r"(?<![*\w])\*(?!\*)[^*\n]+?(?<!\*)\*(?![*\w])", _blank, paragraph)
    return re.sub(r"(?<![\w])_(?!_)[^_\n]+?_(?![\w])", _blank, paragraph)


# --- the rules: each returns (index in the paragraph, what is wrong) ----------------------------


def space_before_double_punctuation(paragraph: str) -> list[tuple[int, str]]:
    found = []
    for match in re.finditer(r"[:;?!»]", paragraph):
        i = match.start()
        before = paragraph[i - 1] if i else " "
        if before in SPACES + "\n" or (match.group() in "?!" and before in "?!"):
            continue
        found.append((i, f"no space before {match.group()!r}: {paragraph[max(0, i - 25):i + 5]!r}"))
    for match in re.finditer(r"«(?=[^" + SPACES + r"\n])", paragraph):
        found.append((match.start(), f"no space after '«': {paragraph[match.start():match.start() + 25]!r}"))
    return found


def french_quotes(paragraph: str) -> list[tuple[int, str]]:
    return [(m.start(), f"quotation mark {m.group()!r}: use « »: {_around(paragraph, m)!r}")
            for m in re.finditer(r"[\"“”‘]|(?<!\w)’|’(?!\w)", paragraph)]


def _around(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 25):match.end() + 15]


def thousands(paragraph: str) -> list[tuple[int, str]]:
    found = []
    for match in re.finditer(r"(?<![\w.,])\d+(?:[,.]\d+)*", paragraph):  # a number without spaces
        number = match.group()
        if re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+", number):  # 104,644 (or a decimal that reads so)
            found.append((match.start(), f"thousands grouped with a comma: {number!r}"))
        elif len(re.split(r"[,.]", number)[0]) >= 5:
            found.append((match.start(), f"five digits or more without grouping: {number!r}"))
    for match in re.finditer(r"(?<![\d,.])\d{1,3}(?: \d{3})+(?!\d)", paragraph):
        found.append((match.start(), f"thousands grouped with an ordinary space: {match.group()!r}"))
    return found


REFERENCE = re.compile(r"(?:exercices?|ex\.|§|parties?|questions?|sections?|étapes?)"
                       r"\s+\d+\.\d+(?:(?:\s*,\s*|\s+(?:et|à|ou)\s+|\s*[–-]\s*)\d+\.\d+)*"
                       r"|(?<![\w\\])\(\d+\.\d+(?:,\s*\d+\.\d+)*\)", re.I)
POINT_DECIMAL = re.compile(r"(?<![\w.,])\d+\.\d+(?![\w.])")
COMMA_DECIMAL = re.compile(r"(?<![\w.,])\d+,\d+(?![\w,])")


def _sentences(paragraph: str):
    """``(index, sentence)``: a paragraph cut after ``.`` ``?`` ``!`` ``…`` followed by a space."""
    index = 0
    for piece in re.split(r"(?<=[.?!…])\s+(?=\S)", paragraph):
        index = paragraph.index(piece, index)
        yield index, piece
        index += len(piece)


def one_decimal_convention(paragraph: str) -> list[tuple[int, str]]:
    """``paragraph`` with its inline math kept between ⟦ ⟧ (``prose_paragraphs(keep_math=True)``)."""
    if paragraph.startswith("|"):  # a table row: the course's 0.5 is at home there, alone
        points, commas = POINT_DECIMAL.findall(paragraph), COMMA_DECIMAL.findall(paragraph)
        return [(0, f"decimals written both ways ({points[0]} and {commas[0]}): {paragraph!r}")] \
            if points and commas else []
    found = []
    # references blanked to the same length, so that an index still gives the line
    without_references = REFERENCE.sub(lambda m: re.sub(r"[^\n]", "#", m.group()), paragraph)
    for index, sentence in _sentences(without_references):
        # in a formula, 2,2 is an index pair (W[2,2]); a decimal comma there would be 0{,}5
        prose = re.sub(r"\u27e6[^\u27e6\u27e7]*\u27e7", HIDDEN, sentence)
        points, commas = POINT_DECIMAL.findall(sentence), COMMA_DECIMAL.findall(prose)
        if points and commas:
            found.append((index, f"decimals written both ways ({points[0]} and {commas[0]}): "
                                 f"{sentence[:70]!r}…"))
            continue
        formulas = "".join(re.findall(r"\u27e6[^\u27e6\u27e7]*\u27e7", sentence))
        in_prose = POINT_DECIMAL.findall(prose)
        if in_prose and not POINT_DECIMAL.search(formulas):
            found.append((index, f"decimal point in French prose ({in_prose[0]}: write "
                                 f"{in_prose[0].replace('.', ',')}): {sentence[:70]!r}…"))
    return found


def english_words(paragraph: str) -> list[tuple[int, str]]:
    text = _without_italics(paragraph)
    found = [(m.start(), "'couche(s)': write the agreement") for m in re.finditer(r"couche\(s\)", text)]
    pattern = r"(?<![\w-])(?:" + "|".join(map(re.escape, ENGLISH_WORDS)) + r")(?![\w-])"
    for match in re.finditer(pattern, text, flags=re.I):
        found.append((match.start(), f"English word {match.group()!r}: {_around(text, match)!r}"))
    return found


RULES = (space_before_double_punctuation, french_quotes, thousands, english_words)


def problems(text: str) -> list[str]:
    """Every break of the rules in ``text`` (a MyST notebook), as ``line N: what``."""
    found = []
    for line, paragraph in prose_paragraphs(text):
        for rule in RULES:
            found += [f"line {_line_of(line, paragraph, i)}: {what}" for i, what in rule(paragraph)]
    for line, paragraph in prose_paragraphs(text, keep_math=True):
        found += [f"line {_line_of(line, paragraph, i)}: {what}"
                  for i, what in one_decimal_convention(paragraph)]
    return found


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
