"""Terminal rendering with rich: one table per step, the backward steps, the gradients."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text as RichText

from ...i18n import no_break_spaces, say
from ..document import Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt
from ..layout import column_headers, gradient_rows, step_rows
from .common import colon, erratum_line, save_figure, trace_facts


def render_text(doc, figure_dir=None, figure_stem=None, color=False, width=110) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
                      highlight=False, soft_wrap=False)
    console.rule(f"[bold]{escape(doc.title)}[/bold]")
    for block in doc.blocks:
        if isinstance(block, Heading):
            console.print()
            console.print(f"[bold underline]{escape(block.text)}[/bold underline]")
        elif isinstance(block, Text):
            _paragraph(console, escape(block.text.replace("`", "")))
        elif isinstance(block, Formula):
            for line in block.text.splitlines():
                console.print("    " + escape(line))
        elif isinstance(block, Table):
            console.print(_table(block.headers, block.rows, block.caption, doc.precision))
        elif isinstance(block, TraceBlock):
            _trace(console, block, doc.precision)
        elif isinstance(block, Figure):
            if figure_dir is not None:
                paths = save_figure(block, figure_dir, figure_stem or doc.id)
                console.print(say("figure: ", "figure : ") + escape(", ".join(paths))
                              + f" ({escape(block.caption)})")
            else:
                console.print(say(f"figure '{block.name}': write it with --out FILE or --figures DIR",
                                  f"figure « {block.name} » : "
                                  "l'écrire avec --out FICHIER ou --figures DOSSIER"))
        elif isinstance(block, Erratum):
            lead, says, joint, correct = erratum_line(block)
            _paragraph(console, f"[bold][red]{say('Erratum', 'Erratum')}[/red][/bold] {escape(lead)}"
                                f"{escape(says)}{joint}[bold]{escape(correct)}[/bold]. " + escape(block.why))
    return buf.getvalue()


def _paragraph(console, markup: str) -> None:
    """Print a paragraph (rich markup without spaces in its tags). French binds the space before
    ``:`` ``;`` ``?`` ``!`` ``»`` and after ``«`` and wraps here, at ASCII spaces: rich would break
    at a no-break space too and start a line with a colon."""
    if say("en", "fr") == "en":
        console.print(markup)
        return
    for paragraph in RichText.from_markup(no_break_spaces(markup)).split("\n"):
        cuts = _ascii_breaks(paragraph.plain, console.width)
        pieces = paragraph.divide([k for cut in cuts for k in (cut, cut + 1)])
        for line in pieces[::2]:  # the odd pieces are the spaces the lines were cut at
            console.print(line, soft_wrap=True)


def _ascii_breaks(plain: str, width: int) -> list:
    """Where to cut ``plain`` into lines of at most ``width`` characters: at ASCII spaces only
    (a word longer than a line stays whole)."""
    cuts, start = [], 0
    while len(plain) - start > width:
        cut = plain.rfind(" ", start, start + width + 1)
        if cut <= start:
            cut = plain.find(" ", start + width)
            if cut < 0:
                break
        cuts.append(cut)
        start = cut + 1
    return cuts


def _table(headers, rows, caption, precision):
    table = RichTable(title=caption or None, box=box.SIMPLE_HEAVY, show_lines=False)
    for h in headers:
        table.add_column(escape(str(h)), overflow="fold")  # a long word wraps, never cut to "…"
    for row in rows:
        table.add_row(*(escape(c if isinstance(c, str) else fmt(c, precision)) for c in row))
    return table


def _trace(console, block, precision):
    trace = block.trace
    if block.title:
        console.print(f"[bold]{escape(block.title)}[/bold]")
    for label, text in trace_facts(trace, precision):
        console.print(f"  {escape(label)} = {escape(text)}" if "=" not in text
                      else f"  {escape(label)}{colon()}{escape(text)}")
    headers = column_headers()
    if block.forward:
        for step in trace.steps:
            x = ", ".join(fmt(v, precision) for v in step.x)
            rows = [(r.label, r.formula, r.arithmetic, r.value) for r in step_rows(trace, step, precision)]
            console.print(_table(headers, rows, f"t = {step.t}   (x_{step.t} = {x})", precision))
    if trace.backward is not None:
        console.print(f"[bold]{say('Backward pass (BPTT)', 'Passe arrière (BPTT)')}[/bold]")
        for step in trace.backward.steps:
            rows = [(r.label, r.formula, r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, backward=True)]
            console.print(_table(headers, rows, say(f"backward, t = {step.t}", f"arrière, t = {step.t}"),
                                 precision))
        rows = [(r.label, r.formula, r.arithmetic, r.value) for r in gradient_rows(trace, precision)]
        console.print(_table((say("gradient", "gradient"), "", say("terms t = 1…T", "termes t = 1…T"),
                              say("value", "valeur")),
                             rows, say("weight gradients", "gradients des poids"), precision))
