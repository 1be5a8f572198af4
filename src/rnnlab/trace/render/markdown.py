"""Markdown rendering (GitHub-flavoured tables), for notes and handouts."""

from __future__ import annotations

import os

from ...i18n import say
from ..document import Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt
from ..layout import column_headers, gradient_rows, step_rows
from .common import colon, erratum_line, save_figure, trace_facts


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text) -> str:
    return f"`{text}`" if text else ""


def md_table(headers, rows, precision, code_columns=()) -> list:
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = []
        for k, c in enumerate(row):
            text = c if isinstance(c, str) else fmt(c, precision)
            cells.append(_code(_cell(text)) if k in code_columns else _cell(text))
        out.append("| " + " | ".join(cells) + " |")
    return out


def render_markdown(doc, figure_dir=None, figure_stem=None) -> str:
    out = [f"# {doc.title}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += ["#" * min(block.level, 6) + " " + block.text, ""]
        elif isinstance(block, Text):
            out += [block.text, ""]
        elif isinstance(block, Formula):
            out += ["```", block.text, "```", ""]
        elif isinstance(block, Table):
            if block.caption:
                out += [f"*{block.caption}*", ""]
            out += md_table(block.headers, block.rows, doc.precision) + [""]
        elif isinstance(block, TraceBlock):
            out += _trace(block, doc.precision)
        elif isinstance(block, Figure):
            if figure_dir is not None:
                png = save_figure(block, figure_dir, figure_stem or doc.id)[0]
                out += [f"![{block.caption}]({os.path.basename(png)})", "", f"*{block.caption}*", ""]
            else:
                out += [f"*{say('Figure', 'Figure')}{colon()}{block.caption}* "
                        + say("(write it with `--out FILE.md`)", "(l'écrire avec `--out FICHIER.md`)"), ""]
        elif isinstance(block, Erratum):
            lead, says, joint, correct = erratum_line(block)
            out += [f"> **{say('Erratum', 'Erratum')}** {lead}{says}{joint}**{correct}**. {block.why}", ""]
    return "\n".join(out).rstrip() + "\n"


def _trace(block, precision) -> list:
    trace = block.trace
    out = [f"**{block.title}**", ""] if block.title else []
    out += [f"- {label}{colon()}`{text}`" for label, text in trace_facts(trace, precision)] + [""]
    headers = column_headers()
    if block.forward:
        for step in trace.steps:
            x = ", ".join(fmt(v, precision) for v in step.x)
            out += [f"**t = {step.t}** (x_{step.t} = {x})", ""]
            rows = [(r.label, r.formula, r.arithmetic, r.value) for r in step_rows(trace, step, precision)]
            out += md_table(headers, rows, precision, code_columns=(0, 1, 2)) + [""]
    if trace.backward is not None:
        out += [f"**{say('Backward pass (BPTT)', 'Passe arrière (BPTT)')}**", ""]
        for step in trace.backward.steps:
            out += [say(f"*backward, t = {step.t}*", f"*arrière, t = {step.t}*"), ""]
            rows = [(r.label, r.formula, r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, backward=True)]
            out += md_table(headers, rows, precision, code_columns=(0, 1, 2)) + [""]
        rows = [(r.label, r.formula, r.arithmetic, r.value) for r in gradient_rows(trace, precision)]
        out += [f"*{say('weight gradients', 'gradients des poids')}*", ""]
        out += md_table((say("gradient", "gradient"), "", say("terms t = 1…T", "termes t = 1…T"),
                         say("value", "valeur")),
                        rows, precision, code_columns=(0, 2)) + [""]
    return out
