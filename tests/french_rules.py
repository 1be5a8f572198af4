"""The rules of French typography that the tests check mechanically on French prose: the
notebooks (``test_docs_french.py``) and every output of the command line (``test_cli_french.py``).

See ``test_docs_french.py`` for the rules as a reader meets them.
"""

from __future__ import annotations

import re

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


# English turns of phrase translated word for word (squashing derivative, the honest answer)
CALQUES = ("dérivée d'écrasement", "dérivée de l'écrasement", "réponse honnête")


def calques(paragraph: str) -> list[tuple[int, str]]:
    return [(m.start(), f"calque {m.group()!r}: say it in French")
            for m in re.finditer("|".join(map(re.escape, CALQUES)), paragraph, flags=re.I)]


RULES = (space_before_double_punctuation, french_quotes, thousands, english_words, calques)


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


# --- the command line's output ------------------------------------------------------------------
# What the terminal prints is not Markdown: there is no italics, so a course term kept in English
# is written between « » (``« many-to-one »``), and a literal the user types (a value, a key, a
# command) is quoted the same way. Numbers printed by rnnlab are written like the course's formulas
# and tables (``0.5``); a sentence never mixes that with ``0,5``.

CLI_ENGLISH_WORDS = ENGLISH_WORDS + (
    "backend", "file", "files", "folder", "name", "path", "command", "commands", "wrote", "usage",
    "error", "show", "number", "exit", "help", "column", "window", "samples", "autocast", "wrong",
    "only", "at", "every", "by", "for", "is", "not", "then", "when", "this", "that", "it", "candidate",
    "value", "values", "each", "coordinate",
)
_COMMANDS = ("classify", "evaluate", "exercise", "forecast", "gradients", "plot", "sample", "sweep",
             "tape", "task", "trace", "train", "lab")
_ARGUMENT = (r"(?:--?[A-Za-z][\w-]*(?:=\S+)?|\[[^\]\n]*\]|<[^>\n]*>|\{[^}\n]*\}|[A-Z][A-Z_|]+"
             r"|[^\s«»]*[./=|\d][^\s«»]*|list|errata|rnn|lstm|gru|adding|copy|[a-z]+-[\w.]+)")
_HIDE_IN_TERMINAL = (
    r"``.+?``|`[^`\n]+`",  # code marked as such
    r"\bdef \w+\([^()\n]*\):",  # a Python definition
    r"[\w)\]]+\[[^\[\]\n]*(?:\[[^\[\]\n]*\][^\[\]\n]*)*\]",  # an index or a slice: out[:, -1], a[b[t]]
    r"\brnnlab(?: (?:" + "|".join(_COMMANDS) + r"))?(?: " + _ARGUMENT + r")*",  # a command line
    r"(?<=«[" + SPACES + r"])[^\s«»]+(?=[" + SPACES + r"]»)",  # a literal quoted: « list », « ; »
    r"(?<![\w-])--?[A-Za-z][\w-]*(?:=\S+)?",  # an option
    r"\b(?=[\w.]*[A-Za-z])\w+(?:\.\w+)+\b(?:\(\))?",  # a dotted name: rnnlab.seqmodels, np.tanh
    r"[^\s«»(]*/[^\s«»),;:!?]*",  # a path, a fraction, a URL
    r"[^\s«»(]*[_{}^=*\\\[\]][^\s«»(),;:!?]*",  # an identifier or a formula's token: W_hh, h_{t-1}, a=1
    r"\b\d+:\d+(?::\d+)?\b",  # a time
)


def _hide(text: str, patterns) -> str:
    for pattern in patterns:
        text = re.sub(pattern, HIDDEN, text)
    return text


# what starts an item of a --help: options and their placeholders, a command, a config key
_HELP_ITEM = re.compile(r"^( {2,4})((?:-\S+|\{[^}]*\}|[A-Z][\w|]*|[a-z][\w-]*\*?)"
                        r"(?:,? (?:-\S+|[A-Z]\S*|\{[^}]*\}))*)(?= {2,}|$)")
_HELP_NAMES = re.compile(r"-\S+?(?=,? |,?$)|\{[^}]*\}|(?<![A-Z])\b[a-z][\w-]*\*?")
_BOX = re.compile(r"[│┃║]")


def terminal_paragraphs(text: str, help: bool = False) -> list[str]:
    """The prose of what the command line printed, as paragraphs, with what is not prose hidden.

    Paragraphs are separated by blank lines; a line of a table (drawn with │) is a paragraph of
    its own, its cells apart. Hidden: argparse's usage lines (after ``utilisation :``), lines
    indented by four spaces or more outside ``--help`` (displayed formulas and code), in a
    ``--help`` the option or command that starts an item (which starts a paragraph), and
    everywhere the patterns of ``_HIDE_IN_TERMINAL`` (code, command lines, options, paths,
    identifiers, formulas' tokens, literals between « »). A placeholder of ``--help`` (``FILE``) is
    prose: French writes ``FICHIER``."""
    paragraphs, current, in_usage = [], [], False

    def close():
        if current:
            paragraphs.append("\n".join(current))
            current.clear()

    for line in text.split("\n"):
        line = line.rstrip()
        if in_usage and line[:1].isspace() and line.strip():  # the usage's indented lines
            continue
        in_usage = False
        if not line.strip() or set(line.strip()) <= set("─━═-┏┓┗┛┡┩└┘┌┐╇╋┼┬┴├┤╭╮╰╯│┃ "):
            close()
            continue
        usage = re.match(r"^(utilisation|usage) ?: ", line)
        if usage:
            close()
            current.append(usage.group(0) + HIDDEN)
            close()
            in_usage = True
            continue
        if _BOX.search(line):
            close()
            paragraphs.append("| " + _hide(" | ".join(_BOX.split(line)), _HIDE_IN_TERMINAL))
            continue
        if help:
            item = _HELP_ITEM.match(line)
            if item:  # the options, choices and command names are hidden, the placeholders read
                close()
                line = item.group(1) + _HELP_NAMES.sub(HIDDEN, item.group(2)) + line[item.end():]
        elif line.startswith("    "):  # a displayed formula: only the words that annotate it are prose
            close()
            paragraphs.extend(formula_annotations(line))
            continue
        current.append(_hide(line, _HIDE_IN_TERMINAL))
    close()
    return paragraphs


def formula_annotations(line: str) -> list[str]:
    """The words beside a displayed formula (``f_t = σ(…)      porte d'oubli``): the pieces of the
    line, cut at two spaces or more, that are words only."""
    return [piece for piece in re.split(r" {2,}", line.strip())[1:]
            if re.fullmatch(r"[^\W\d_][\w'’ -]*", piece) and not re.search(r"[\d_]", piece)]


def _without_quotations(paragraph: str) -> str:
    """The paragraph without its spans between « »: quotations (a term kept in English, what a
    document or a program wrote) are not French prose."""
    return re.sub(r"«[^«»]*»", _blank, paragraph)


def english_words_in_terminal(paragraph: str) -> list[tuple[int, str]]:
    text = _without_quotations(paragraph)
    found = [(m.start(), f"{m.group()!r}: write the agreement")  # couche(s), niveau(x)
             for m in re.finditer(r"\b\w{3,}(?:\(s\)|(?<=au|eu)\(x\))", text)]
    pattern = r"(?<![\w'’-])(?:" + "|".join(map(re.escape, CLI_ENGLISH_WORDS)) + r")(?![\w-])"
    for match in re.finditer(pattern, text, flags=re.I):
        found.append((match.start(), f"English word {match.group()!r}: {_around(text, match)!r}"))
    return found


def single_quotes(paragraph: str) -> list[tuple[int, str]]:
    """An ASCII quote opening a quotation ('list'): French quotes with « »."""
    text = _without_quotations(paragraph)
    return [(m.start(), f"quotation mark \"'\": use « »: {_around(text, m)!r}")
            for m in re.finditer(r"(?<![\w)\]'’\u27e7])'(?=[^\s'])", text)]  # not a prime: σ', tanh'


def mixed_decimals(paragraph: str) -> list[tuple[int, str]]:
    """A sentence (or a table row) that writes decimals both ways, 0.5 and 0,5."""
    without_references = REFERENCE.sub(lambda m: re.sub(r"[^\n]", "#", m.group()),
                                       _without_quotations(paragraph))  # a quotation keeps its own
    found = []
    pieces = [(0, without_references)] if paragraph.startswith("|") else _sentences(without_references)
    for index, sentence in pieces:
        points, commas = POINT_DECIMAL.findall(sentence), COMMA_DECIMAL.findall(sentence)
        if points and commas:
            found.append((index, f"decimals written both ways ({points[0]} and {commas[0]}): "
                                 f"{sentence[:90]!r}"))
    return found


def quotes_outside_quotations(paragraph: str) -> list[tuple[int, str]]:
    return french_quotes(_without_quotations(paragraph))


def spacing_outside_quotations(paragraph: str) -> list[tuple[int, str]]:
    """The spaces before ``:`` ``;`` ``?`` ``!`` and inside « », a quotation (code, a document's
    own words) keeping its own punctuation."""
    inside = r"(?<=«)([\n" + SPACES + r"]?)[^«»]*?([\n" + SPACES + r"]?)(?=»)"  # a line may end in a space
    return space_before_double_punctuation(re.sub(inside, lambda m: m.group(1) + HIDDEN + m.group(2),
                                                  paragraph))


TERMINAL_RULES = (spacing_outside_quotations, quotes_outside_quotations, single_quotes, thousands,
                  english_words_in_terminal, calques, mixed_decimals)


def line_breaks(text: str) -> list[str]:
    """A line that starts with ``:`` ``;`` ``?`` ``!`` ``»`` or ends with ``«``: the space there must
    not break (argparse wraps a --help at ASCII spaces only; rich wraps anywhere, so its output is
    not held to this)."""
    return [f"line break before {m.group(1)!r}: {text[max(0, m.start() - 30):m.end() + 10]!r}"
            for m in re.finditer(r"\n[ \t]*([:;?!»])", text)] + \
        [f"line break after '«': {text[max(0, m.start() - 30):m.end() + 10]!r}"
         for m in re.finditer(r"«[ \t]*\n", text)]


def terminal_problems(text: str, help: bool = False) -> list[str]:
    """Every break of the rules in what the command line printed (``help``: a ``--help`` page or
    another text argparse wrapped, held to :func:`line_breaks` too)."""
    return (line_breaks(text) if help else []) + [
        what for paragraph in terminal_paragraphs(text, help) for rule in TERMINAL_RULES
        for _, what in rule(paragraph)]


def markdown_problems(text: str) -> list[str]:
    """Every break of the rules in Markdown that the command line wrote (``--format md``): the
    notebooks' prose, with the terminal's rules (foreign terms between « », no mixed decimals)."""
    found = []
    for line, paragraph in prose_paragraphs(text):
        paragraph = _hide(paragraph, _HIDE_IN_TERMINAL[1:])
        for rule in TERMINAL_RULES:
            found += [f"line {_line_of(line, paragraph, i)}: {what}" for i, what in rule(paragraph)]
    for block in re.findall(r"(?ms)^```[^\n]*\n(.*?)^```", text):  # a formula's annotations
        for annotation in (a for line in block.split("\n") for a in formula_annotations(line)):
            found += [f"formula: {what}" for rule in TERMINAL_RULES for _, what in rule(annotation)]
    return found
