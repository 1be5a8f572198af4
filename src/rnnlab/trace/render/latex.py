"""LaTeX rendering: a complete article (pdflatex, utf8) for a teacher's handout. Mathematics in
the course's Unicode notation (displayed formulas, inline spans between backticks) is typeset by
:func:`rnnlab.typeset.formula_latex`, the parse that also writes the HTML page's MathML."""

from __future__ import annotations

import os
import re

from ...i18n import say
from ...typeset import formula_latex, is_code
from ..document import Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt
from ..layout import column_headers, gradient_rows, step_rows
from .common import colon, erratum_line, save_figure, trace_facts

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb,booktabs,longtable,graphicx}
\usepackage[margin=2cm]{geometry}
"""

_MATH = [("C̃", r"\tilde{C}"), ("h̃", r"\tilde{h}"), ("σ", r"\sigma "), ("×", r"\times "), ("⊙", r"\odot "),
         ("∂", r"\partial "), ("−", "-"), ("≈", r"\approx "), ("²", "^2"), ("³", "^3"), ("ᵀ", r"^\top "),
         ("Σ", r"\sum "), ("∏", r"\prod "), ("λ", r"\lambda "), ("ρ", r"\rho "), ("≤", r"\le "),
         ("≥", r"\ge "), ("→", r"\to "), ("√", r"\surd "), ("‖", r"\|"), ("…", r"\dots "), ("·", r"\cdot "),
         ("∞", r"\infty "), ("≠", r"\neq "), ("θ", r"\theta "), ("%", r"\%"), ("w̄", r"\bar{w}"),
         ("∈", r"\in "), ("✓", r"\checkmark "), ("✗", r"\times "), ("⇒", r"\Rightarrow "), ("₂", "_2"),
         ("±", r"\pm "), ("°", r"^\circ "), ("|", "|"), ("←", r"\leftarrow "), ("↔", r"\leftrightarrow "),
         ("∇", r"\nabla "), ("⋯", r"\cdots ")]
_TEXT_ESCAPES = [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}"),
                 ("\u00a0", "~"), ("\u202f", r"\,")]  # French no-break spaces (after "~" is escaped)


def tex_math(text: str) -> str:
    """Course Unicode notation -> LaTeX math (without the dollars), by :func:`formula_latex`."""
    return formula_latex(text)


# names with subscripts outside backticks (h_{t-1}, W_f, z_f,1) become inline math too
_SUBSCRIPTED = re.compile(r"(?<![`\w])[A-Za-z][\u0303\u0304]?(?:_\{[^{}`]*\}|_[A-Za-z0-9]+)(?![A-Za-z0-9_{])"
                          r"(?=[^`]*(?:`[^`]*`[^`]*)*$)")


def _escaped(part: str) -> str:
    """Text with LaTeX's special characters escaped and stray symbols as math."""
    for char, esc in _TEXT_ESCAPES:
        part = part.replace(char, esc)
    for uni, tex in _MATH:
        if uni not in ("%", "|"):
            part = part.replace(uni, f"${tex.strip()}$")
    return part


def tex_text(text: str) -> str:
    """A paragraph: escaped text, `…` spans as inline math (or typewriter, when they are code),
    stray symbols as math."""
    parts = (_SUBSCRIPTED.sub(lambda m: f"`{m.group(0)}`", text).split("`") if text.count("`") % 2 == 0
             else [text])
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(rf"\texttt{{{_escaped(part)}}}" if is_code(part) else f"${tex_math(part)}$")
        else:
            out.append(_escaped(part))
    return "".join(out)


def _column_spec(headers, rows, precision) -> str:
    """``l`` for short columns; long ones share the line width as wrapped ``p{…}`` columns."""
    widths = []
    for k, h in enumerate(headers):
        cells = [str(h)] + [c if isinstance(c, str) else fmt(c, precision) for c in (r[k] for r in rows)]
        widths.append(max(len(c) for c in cells))
    long = [w for w in widths if w > 24]
    if not long:
        return "l" * len(headers)
    room = max(0.3, 0.88 - 0.1 * (len(widths) - len(long)) - 0.025 * len(widths))  # minus the column gaps
    return " ".join(f"p{{{room * w / sum(long):.2f}\\linewidth}}" if w > 24 else "l" for w in widths)


def _tabular(headers, rows, precision, math_columns=(), spec=None) -> list:
    spec = spec or _column_spec(headers, rows, precision)
    out = [r"\begin{longtable}{" + spec + "}", r"\toprule",
           " & ".join(rf"\textbf{{{tex_text(str(h))}}}" for h in headers) + r" \\", r"\midrule"]
    for row in rows:
        cells = []
        for k, c in enumerate(row):
            text = c if isinstance(c, str) else fmt(c, precision)
            cells.append((f"${text}$" if text else "") if k in math_columns else tex_text(text))
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{longtable}"]
    return out


def render_latex(doc, figure_dir=None, figure_stem=None) -> str:
    babel = r"\usepackage[french]{babel}" if doc.lang == "fr" else r"\usepackage[english]{babel}"
    out = [PREAMBLE.rstrip(), babel, r"\title{" + tex_text(doc.title) + "}", r"\date{}", r"\begin{document}",
           r"\maketitle", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            cmd = {1: "section", 2: "section", 3: "subsection"}.get(block.level, "subsubsection")
            out += [rf"\{cmd}*{{{tex_text(block.text)}}}", ""]
        elif isinstance(block, Text):
            out += [tex_text(block.text), ""]
        elif isinstance(block, Formula) and is_code(block.text):  # code, ASCII drawings: kept verbatim
            out += [r"{\footnotesize", r"\begin{verbatim}", block.text, r"\end{verbatim}", "}", ""]
        elif isinstance(block, Formula):
            out += [r"\[", formula_latex(block.text), r"\]", ""]
        elif isinstance(block, Table):
            if block.caption:
                out += [rf"\noindent\emph{{{tex_text(block.caption)}}}", ""]
            out += _tabular(block.headers, block.rows, doc.precision) + [""]
        elif isinstance(block, TraceBlock):
            out += _trace(block, doc.precision)
        elif isinstance(block, Figure):
            if figure_dir is not None:
                png = save_figure(block, figure_dir, figure_stem or doc.id)[0]
                out += [r"\begin{center}",
                        rf"\includegraphics[width=0.7\linewidth]{{{os.path.basename(png)}}}\\",
                        rf"\emph{{{tex_text(block.caption)}}}", r"\end{center}", ""]
            else:
                out += [rf"\emph{{{tex_text(say('Figure', 'Figure') + colon() + block.caption)}}}", ""]
        elif isinstance(block, Erratum):
            lead, says, joint, correct = erratum_line(block)
            out += [r"\begin{quote}", r"\textbf{Erratum} " + tex_text(lead + says + joint)
                    + rf"\textbf{{{tex_text(correct)}}}. "
                    + tex_text(block.why), r"\end{quote}", ""]
    out += [r"\end{document}", ""]
    return "\n".join(out)


def _trace(block, precision) -> list:
    trace = block.trace
    out = [rf"\paragraph{{{tex_text(block.title)}}}" if block.title else "", r"\begin{itemize}"]
    out += [rf"\item {tex_text(label + colon())}\texttt{{{tex_text(text)}}}"
            for label, text in trace_facts(trace, precision)]
    out += [r"\end{itemize}", r"{\small"]
    headers = column_headers()
    spec = r"l p{0.28\linewidth} p{0.38\linewidth} r"
    if block.forward:
        for step in trace.steps:
            x = ", ".join(fmt(v, precision) for v in step.x)
            out += ["", rf"\noindent\textbf{{$t = {step.t}$}} ($x_{{{step.t}}} = {x}$)", ""]
            rows = [(r.label, tex_math(r.formula), r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, style="latex")]
            out += _tabular(headers, rows, precision, math_columns=(0, 1, 2), spec=spec)
    if trace.backward is not None:
        out += ["", rf"\noindent\textbf{{{tex_text(say('Backward pass (BPTT)', 'Passe arrière (BPTT)'))}}}",
                ""]
        for step in trace.backward.steps:
            rows = [(r.label, tex_math(r.formula), r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, style="latex", backward=True)]
            out += ["", rf"\noindent\emph{{{tex_text(say('backward', 'arrière'))}, $t = {step.t}$}}", ""]
            out += _tabular(headers, rows, precision, math_columns=(0, 1, 2), spec=spec)
        rows = [(r.label, "", r.arithmetic, r.value)  # already LaTeX
                for r in gradient_rows(trace, precision, style="latex")]
        out += _tabular((say("gradient", "gradient"), "", say("terms t = 1…T", "termes t = 1…T"),
                         say("value", "valeur")),
                        rows, precision, math_columns=(0, 2), spec=spec)
    out += ["}", ""]
    return out
