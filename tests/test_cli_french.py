"""Everything the command line prints in French reads as French, checked mechanically.

Each output is rendered through the CLI's own entry point with ``--lang fr`` (``run_cli``), its
non-prose parts hidden (usage lines, options, command lines, code, paths, identifiers, displayed
formulas, literals between « »), and its prose checked with the rules of ``french_rules``: a space
before ``:`` ``;`` ``?`` ``!`` and inside « », thousands grouped with a narrow no-break space
(never ``104,644``), French quotes, no English words (a course term kept in English stands
between « »), no ``couche(s)``, one decimal convention per sentence and per table row.
Covered: ``--help`` of rnnlab and of every command; ``exercise list``, ``errata`` and every
exercise in ``text``, ``md`` and ``latex`` (and the prose of ``html`` for a sample); ``trace`` of
every ``--example``; ``gradients`` in each mode; ``tape``; ``plot list`` and the text of every
figure; short real runs of ``train``, ``evaluate``, ``sample``, ``task``, ``classify``,
``forecast`` and ``sweep``; a sample of error messages. A course term kept in English is written
between « » (the terminal has no italics; the notebooks write it in italics).
"""

from __future__ import annotations

import html
import json
import re

import pytest
from french_rules import line_breaks, markdown_problems, terminal_problems
from helpers import run_cli

from rnnlab import i18n
from rnnlab.trace.presets import PRESETS

COMMANDS = ("classify", "evaluate", "exercise", "forecast", "gradients", "lab", "plot", "sample", "sweep",
            "tape", "task", "trace", "train")


def french(argv, cwd=None, status=0):
    """What ``rnnlab --lang fr argv`` printed (stdout, then stderr), after checking its status."""
    result = run_cli(["--lang", "fr", *argv], cwd)
    assert result.exception is None, result.err
    assert result.code == status, (argv, result)
    return result.out + ("\n\n" + result.err if result.err else "")


def assert_french(text, what, help=False, markdown=False):
    found = markdown_problems(text) if markdown else terminal_problems(text, help=help)
    assert not found, f"{what}:\n" + "\n".join(found)


# --- help, exercises, errata ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ("",) + COMMANDS)
def test_help_reads_as_french(command):
    argv = [command, "--help"] if command else ["--help"]
    assert_french(french(argv), f"rnnlab {command} --help", help=True)


def test_every_command_has_a_help_page_here():
    from rnnlab.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


@pytest.mark.parametrize("exercise", sorted(PRESETS))
def test_exercise_reads_as_french(exercise):
    assert_french(french(["exercise", exercise]), f"exercise {exercise}")
    assert_french(french(["exercise", exercise, "--format", "md"]), f"exercise {exercise} --format md",
                  markdown=True)


def _html_prose(page: str) -> str:
    """The text of an HTML page's prose: its paragraphs and table cells, each on its own lines, with
    code, math and figures left out (what remains is what the renderers took from the presets)."""
    body = re.sub(r"(?s)<(script|style|code|pre|math|svg|figure)\b.*?</\1>", "⟦⟧", page)
    body = re.sub(r"(?s)<img\b[^>]*>", "", body)
    blocks = r"p|h\d|li|tr|caption|blockquote|div|table|section|header|footer"
    body = re.sub(r"</?(" + blocks + r")\b[^>]*>", "\n\n", body)
    body = re.sub(r"</t[dh]>", " │ ", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def _latex_prose(tex: str) -> str:
    """The prose of a LaTeX page (its title and body): math, formula blocks and commands left out,
    ``~`` and ``\\,`` read as the no-break spaces they typeset, a table's rows cut at ``&``."""
    title = re.search(r"\\title\{(.*)\}", tex)
    body = tex.split("\\begin{document}", 1)[1].split("\\end{document}", 1)[0]
    body = (title.group(1) if title else "") + "\n\n" + body
    body = re.sub(r"(?s)\\begin\{(flushleft|verbatim|center)\}.*?\\end\{\1\}", "\n\n", body)
    body = re.sub(r"(?s)\\\[.*?\\\]", "\n\n", body)  # displayed formulas
    body = re.sub(r"\$[^$]*\$|\\\(.*?\\\)", "⟦⟧", body)
    body = body.replace("\\,", "\u202f").replace("~", "\u00a0")
    body = re.sub(r"\\(begin|end)\{[^}]*\}(\{[^}]*\})?", "\n\n", body)
    body = re.sub(r"\\(toprule|midrule|bottomrule|maketitle|noindent|item)\b", "\n\n", body)
    body = re.sub(r"\s*\\\\\s*$", "", body, flags=re.M)
    body = re.sub(r"^(.*&.*)$", lambda m: "│ " + m.group(1).replace("&", "│"), body, flags=re.M)
    body = re.sub(r"\\(textbf|emph|texttt|section\*?|subsection\*?|textit)\{", "{", body)
    for command, text in (("\\%", "%"), ("\\^{}", "^"), ("\\_", "_"), ("\\&", "&"), ("\\{", "("),
                       ("\\}", ")"), ("\\#", "#"), ("\\textbackslash", "\\"), ("\\quad", " ")):
        body = body.replace(command, text)
    return body.replace("{", "").replace("}", "")


@pytest.mark.parametrize("exercise", sorted(PRESETS) + ["errata"])
def test_exercise_latex_prose_reads_as_french(exercise):
    assert_french(_latex_prose(french(["exercise", exercise, "--format", "latex"])),
                  f"exercise {exercise} --format latex")


@pytest.mark.parametrize("exercise", ["tp-1.2", "cours-architectures", "notebook-code", "chapitre-gru"])
def test_exercise_html_prose_reads_as_french(exercise):  # a sample: each page draws its figures
    page = french(["exercise", exercise, "--format", "html"])
    assert_french(_html_prose(page), f"exercise {exercise} --format html")


def test_exercise_list_and_errata_read_as_french():
    assert_french(french(["exercise", "list"]), "exercise list")
    assert_french(french(["exercise", "errata"]), "exercise errata")
    assert_french(french(["exercise", "errata", "--format", "md"]), "exercise errata --format md",
                  markdown=True)


def test_french_paragraphs_never_start_a_line_with_a_colon():
    """The text renderer wraps French prose itself (rich would break at the space before a colon):
    at every width, no line starts with ``:`` ``;`` ``?`` ``!`` ``»`` or ends with ``«``, no word
    is lost, and the styles survive the cuts."""
    from rnnlab.trace.document import Document, Erratum, Text
    from rnnlab.trace.render.text import render_text

    i18n.set_language("fr")
    prose = "Le mot suivant : fin ; un « terme » ici ? Oui ! " * 5
    doc = Document("x", "titre", [Text(prose), Erratum("TD, ex. 2", "a " * 12, "b " * 12, prose)])
    for width in range(24, 61):
        out = render_text(doc, width=width)
        assert not line_breaks(out), (width, line_breaks(out))
        lines = out.split("\n")[1:]
        assert all(len(line) <= width for line in lines), width
        words = " ".join(" ".join(lines).split())
        assert words.count("Le mot suivant : fin ; un « terme » ici ? Oui !") == 10
    colored = render_text(Document("x", "titre", [Erratum("TD, ex. 2", "a " * 12, "b " * 12, "pourquoi")]),
                          width=50, color=True)
    assert "\x1b[1;31mErratum" in colored and "\n\x1b[1mb b" in colored  # the bold goes on after the cut


# --- trace, gradients, tape, plots ----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_trace_example_and_its_trace_read_as_french(cell, tmp_path):
    example = french(["trace", "--example", cell])
    json.loads(example)  # a config, not prose: it must stay a file trace reads
    (tmp_path / "mine.json").write_text(example, encoding="utf-8")
    assert_french(french(["trace", "mine.json"], cwd=tmp_path), f"trace of the {cell} example")
    assert_french(french(["trace", "mine.json", "--format", "md"], cwd=tmp_path),
                  f"trace of the {cell} example --format md", markdown=True)


@pytest.mark.parametrize("argv", [
    ["gradients", "--exercise"],
    ["gradients", "--matrix", "0.8,0.1;-0.1,0.8"],
    ["gradients", "--steps", "6", "--hidden", "3"],
    ["gradients", "--cell", "lstm", "--steps", "6", "--hidden", "3"],
    ["gradients", "--cell", "gru", "--steps", "6", "--hidden", "3", "--norm", "fro"],
    ["tape"],
    ["tape", "--w-on-tape", "--x", "1.0,0.5,-0.2"],
    ["tape", "--expr", "tanh(a*b) + a", "--at", "a=0.5,b=2"],
    ["plot", "list"],
], ids=" ".join)
def test_analysis_commands_read_as_french(argv):
    assert_french(french(argv), " ".join(argv))


def _figure_texts(fig):
    """The strings rnnlab wrote on a figure: titles, axis labels, legends, annotations (not the
    numbers matplotlib puts on the ticks)."""
    from matplotlib.text import Text

    ticks = {id(t) for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()}
    return [t.get_text() for t in fig.findobj(Text) if id(t) not in ticks and t.get_text().strip()]


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "sigmoid-chain", "hidden-states", "exercise-1-2",
                                  "spectral-radius", "lstm-gates", "unrolled-graph", "cell-comparison"])
def test_figure_texts_read_as_french(name):
    import matplotlib.pyplot as plt

    from rnnlab.plots import FIGURES, make_figure

    options = {"cell-comparison": {"comparison": _small_comparison()}}.get(name, {})
    fig = make_figure(name, lang="fr", **options)
    texts = _figure_texts(fig)
    plt.close(fig)
    assert texts, name
    for text in texts + [FIGURES[name][2]]:  # each label is a sentence of its own
        assert_french(text, f"figure {name}: {text!r}")


def _small_comparison():
    from rnnlab import analysis

    return analysis.compare_cells(steps=6, hidden=3, train_steps=12, batch=4, test_size=8, seed=0)


# --- short real runs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The French output of one short run of each training command, and of evaluate and sample."""
    folder = tmp_path_factory.mktemp("runs")
    # 13 250 characters: the counts the run prints have thousands to group
    (folder / "c.txt").write_text("le petit chat dort sur le tapis rouge, puis il part. " * 250,
                                  encoding="utf-8")
    quick = ["--steps", "2", "--hidden", "3", "--no-progress", "--eval-every", "1"]
    argvs = {
        "train": ["train", "--corpus", "c.txt", "--seq-len", "8", "--batch", "2", "--out", "lm", *quick],
        "evaluate": ["evaluate", "lm"],
        "sample": ["sample", "lm", "--length", "20", "--seed", "0"],
        "task": ["task", "adding", "--length", "5", "--out", "add", *quick],
        "classify": ["classify", "--samples", "40", "--out", "cls", *quick],
        "forecast": ["forecast", "--out", "fc", *quick],
        "sweep": ["sweep", "copy", "--cells", "gru", "--lengths", "3", "--out", "sw", *quick],
        "train --resume": ["train", "--resume", "lm", "--steps", "3", "--no-progress"],
    }
    return {name: french(argv, cwd=folder) for name, argv in argvs.items()}


@pytest.mark.parametrize("name", ["train", "evaluate", "sample", "task", "classify", "forecast", "sweep",
                                  "train --resume"])
def test_runs_read_as_french(runs, name):
    text = runs[name]
    if name == "sample":  # the generated text is the corpus's, not rnnlab's
        text = text.split("\n\n", 1)[-1] if "\n\n" in text else ""
    if name in ("train", "evaluate"):  # counts over 1 000, grouped with a narrow no-break space
        assert re.search(r"\d\u202f\d{3}\s+caractères", text), text
    assert_french(text, name)


# --- error messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["train", "--corpus", "nowhere.txt", "--steps", "1", "--out", "r"],
    ["train", "--steps", "x"],
    ["train", "--bogus"],
    ["exercise", "zz"],
    ["evaluate", "nowhere"],
    ["sample", "nowhere"],
    ["trace", "missing.json"],
    ["trace"],
    ["plot", "nothing"],
    ["gradients", "--matrix", "1,2;3"],
    ["tape", "--x", "a,b"],
    ["tape", "--expr", "tanh(a", "--at", "a=1"],
    ["tape", "--expr", "a + b", "--at", "a=1"],
    ["tape", "--expr", "a < 2", "--at", "a=1"],
    ["task", "adding", "--optimizer", "lbfgs"],
    ["classify", "--dropout", "1"],
    ["forecast", "--series", "nowhere.csv", "--steps", "1"],
], ids=" ".join)
def test_errors_read_as_french(argv, tmp_path):
    result = run_cli(["--lang", "fr", *argv], tmp_path)
    assert result.exception is None and result.code == 2, result
    assert result.err.strip()
    assert_french(result.err, " ".join(argv), help=True)


# --- every French string of the source -----------------------------------------------------------


def _french_strings():
    """``(where, text)`` for the French argument of every ``say(en, fr)`` call in rnnlab's source
    whose French is a literal (an f-string's fields read as ⟦⟧): the messages no run above shows,
    the errors above all, are checked too."""
    import ast
    from pathlib import Path

    import rnnlab

    def text(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "⟦⟧" for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = text(node.left), text(node.right)
            return None if left is None or right is None else left + right
        return None

    root = Path(rnnlab.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say" and len(node.args) >= 2:
                fr = text(node.args[1])
                if fr is not None:
                    yield f"{path.relative_to(root)}:{node.lineno}", fr


def test_every_french_string_of_the_source_reads_as_french():
    strings = list(_french_strings())
    assert len(strings) > 600, len(strings)  # the walk found the source's strings
    found = [f"{where}: {what}" for where, fr in strings for what in terminal_problems(fr)]
    assert not found, "\n".join(found)


# --- the number formatter -----------------------------------------------------------------------


def test_integers_are_grouped_by_language():
    assert i18n.integer(104644, "en") == "104,644"
    assert i18n.integer(104644, "fr") == "104\u202f644"
    assert i18n.integer(-1234567, "fr") == "-1\u202f234\u202f567"
    assert i18n.integer(9999, "fr") == "9\u202f999" and i18n.integer(999, "fr") == "999"
    i18n.set_language("fr")
    assert i18n.integer(19657) == "19\u202f657"
    i18n.set_language("en")
    assert i18n.integer(19657) == "19,657"


def test_no_break_spaces_bind_the_french_punctuation():
    assert i18n.no_break_spaces("a : b ; c ? d ! « e » f:g") == \
        "a\u00a0: b\u00a0; c\u00a0? d\u00a0! «\u00a0e\u00a0» f:g"


# --- the checker itself fails on the faults it is for -----------------------------------------


@pytest.mark.parametrize("bad, rule", [
    ("Entraînement sur c.txt: 104,644 caractères", "no space before ':'"),
    ("Le corpus compte 104,644 caractères.", "thousands grouped with a comma"),
    ("Le corpus compte 19657 caractères.", "five digits or more"),
    ("reprendre le run sauvegardé dans le dossier", "English word 'run'"),
    ("dropout entre les niveaux (défaut 0)", "English word 'dropout'"),
    ("un classifieur many-to-one", "English word 'many-to-one'"),
    ("équations du GRU (reset de Cho)", "English word 'reset'"),
    ("One-hot du vocabulaire", "English word 'One-hot'"),
    ("la Input Gate décide", "English word 'Input'"),
    ("Trois couche(s) empilées.", "couche(s)"),
    ("LSTM, 1 niveau(x) de 256 unités", "niveau(x)"),
    ("la dérivée d'écrasement de tanh", "calque"),
    ("Voici la réponse honnête.", "calque"),
    ("tracer avec 'synthetic' ou un CSV", "quotation mark"),
    ("n=3 : 0.3820 et le seuil 0,01 est franchi", "decimals written both ways"),
    ("Pourquoi?", "no space before '?'"),
    ("    f_t = σ(W_f × [h_{t-1}, x_t] + b_f)      forget gate", "English word 'forget'"),
])
def test_the_checker_catches_each_fault(bad, rule):
    found = terminal_problems(bad)
    assert any(rule in what for what in found), found


def test_the_checker_catches_a_help_line_that_starts_with_a_colon():
    assert any("line break before ';'" in what
               for what in terminal_problems("pendant 5 minutes\n; --resume reprend", help=True))
    assert any("line break after '«'" in what for what in terminal_problems("défaut «\n  label »", help=True))
    assert not terminal_problems("pendant 5 minutes\u00a0; --resume reprend", help=True)


@pytest.mark.parametrize("good", [
    "Entraînement sur c.txt : 104\u202f644 caractères, perte 1.2345 ; pourquoi ? Parce que !",
    "un classifieur plusieurs-vers-un (« many-to-one »)",
    "Lancer : rnnlab exercise ID [--format text|md] [--out FICHIER]",
    "lignes séparées par « ; » (ex. « 0.8,0.1;-0.1,0.8 »)",
    "h_t = tanh(W_hh h_{t-1}) reste dans runs/lm-2026-01-01 et model.safetensors",
    "| 0.5 | 0.25 | 12\u202f345 |",
])
def test_the_checker_lets_french_pass(good):
    assert not terminal_problems(good), terminal_problems(good)


# --- rich's tables: a grouped number stays on one line ------------------------------------------

GROUPED = re.compile(r"\d{1,3}(?:\u202f\d{3})+")


def _rendered(table, width):
    from rich.console import Console

    console = Console(width=width, color_system=None, record=True)
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def _sweep_table(number_columns=True):
    """The table of ``rnnlab sweep`` in French, with counts that group their thousands."""
    from rich.table import Table

    from rnnlab.commands.sweep import results_table
    from rnnlab.tasks import TaskResult

    i18n.set_language("fr")
    results = [TaskResult("adding", "lstm", 12_000, 0.0312, 0.167, True, 104_644, 1234.5),
               TaskResult("adding", "gru", 250, 0.00042, 0.167, True, 2_500_000, 98.25)]
    table = results_table(results, "Problème de l'addition : 104\u202f644 pas de 32 par essai")
    if not number_columns:  # the same cells in plain columns: what rich did before number_column
        plain = Table(title=table.title)
        for column in table.columns:
            plain.add_column(column.header, justify="right")
        for row in zip(*(column._cells for column in table.columns)):
            plain.add_row(*row)
        table = plain
    return table


NUMBERS = ("12\u202f000", "104\u202f644", "2\u202f500\u202f000")


def _split_numbers(table, width):
    """The grouped numbers of the table's body that its rendering at ``width`` does not show whole."""
    text = _rendered(table, width)
    cells = "".join(line for line in text.splitlines() if "│" in line)  # the body's lines
    return [number for number in NUMBERS if number not in cells]


@pytest.mark.parametrize("width", [40, 48, 56, 64, 72, 80])
def test_a_grouped_number_never_breaks_in_a_table(width):
    """``rnnlab sweep``'s table, narrower than its natural width (about 74 columns): the other
    columns give way, the counts (number_column) stay on one line each."""
    assert not _split_numbers(_sweep_table(), width), _rendered(_sweep_table(), width)


def test_without_number_columns_rich_splits_a_grouped_number():
    """The check above can fail: in plain columns rich breaks 2 500 000 at its narrow spaces."""
    assert all(_split_numbers(_sweep_table(number_columns=False), width) for width in (40, 56, 72))
