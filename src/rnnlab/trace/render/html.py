"""A self-contained HTML page (no network): styles inline, every formula typeset as MathML
(:mod:`rnnlab.typeset`, rendered natively by the browser), numbers aligned on the decimal point,
the unrolled diagram as inline SVG sized to its labels, one table per step, figures inlined as SVG."""

from __future__ import annotations

import re
from html import escape

from ...i18n import say
from ...typeset import CSS as MATH_CSS
from ...typeset import (decimal_aligned_cells, formula_mathml, inline_mathml, is_code, is_number,
                        looks_like_formula)
from ..cells import hooks
from ..document import Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt, fmt_vector
from ..layout import column_headers, gradient_rows, step_rows
from .common import colon, erratum_line, figure_svg, trace_facts

STYLE = """
body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222;
line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #345}h2{font-size:1.25em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:middle}
th{background:#e8eef4}td.num{font-weight:bold}
code,pre{font-family:"DejaVu Sans Mono",monospace}td code{overflow-wrap:anywhere}
caption{font-weight:bold;text-align:left;padding:.3em 0}
pre{background:#f4f4f4;padding:.6em;overflow-x:auto}
.formula{overflow-x:auto;padding:.2em 0}
.erratum{border-left:4px solid #c33;background:#fbeeee;padding:.4em .8em;margin:.8em 0}
figure{margin:1em 0}figure.unrolled{overflow-x:auto}
""" + MATH_CSS

# a name with a subscript written in running text (``h_t``, ``W_hh``, ``z_f,1``, ``C̃_t``, ``∂L/∂W_f``;
# not ``h_size``, a name in code)
BARE_NAME = re.compile(r"(?<![\w∂/])(?:∂[A-Za-z]\w*/∂)?[A-Za-z][\u0303\u0304]?"
                       r"(?:_\{[^{}`]*\}|_[A-Za-z0-9]{1,3}(?:,[A-Za-z0-9]+)?)(?![A-Za-z0-9_{(])")


def _math_or_code(text: str) -> str:
    return f"<code>{escape(text)}</code>" if is_code(text) else inline_mathml(text)


def _names(text: str) -> str:
    """Running text, escaped, its subscripted names typeset."""
    out, pos = [], 0
    for m in BARE_NAME.finditer(text):
        out += [escape(text[pos:m.start()]), formula_mathml(m.group(0))]
        pos = m.end()
    return "".join(out) + escape(text[pos:])


def _inline(text: str) -> str:
    """A paragraph: `…` spans typeset (or shown as code when they are code), names typeset."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no mathematics to find
        return escape(text)
    return "".join(_math_or_code(p) if k % 2 else _names(p) for k, p in enumerate(parts))


# three words in a row (``the loop silently``): a sentence, which may quote code but is not code
_SENTENCE = re.compile(r"(?<![\w.])[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}(?![\w(])")


def _code_alone(text: str) -> bool:
    return is_code(text) and not _SENTENCE.search(text)


def _cell(text: str, first: bool = False) -> str:
    """A table cell or header written as a string: a formula, code, or text (its names typeset,
    except in a row's first cell, kept whole: it names the row)."""
    if looks_like_formula(text):
        return inline_mathml(text)
    if _code_alone(text):
        return f"<code>{escape(text)}</code>"
    return escape(text) if first else _inline(text)


def _numeric(cell) -> bool:
    return not isinstance(cell, str) or is_number(cell)


def _table(headers, rows, caption, precision, formulas=(), numbers=None) -> str:
    """``formulas``: the columns typeset whatever they hold; ``numbers``: the columns aligned on the
    decimal point (default: every column whose cells are all numbers)."""
    columns = list(zip(*rows)) if rows else []
    if numbers is None:
        numbers = {k for k, col in enumerate(columns) if any(c != "" for c in col)
                   and all(_numeric(c) for c in col if c != "")}
    aligned = {k: iter(decimal_aligned_cells([c for c in col if _numeric(c) and c != ""], precision))
               for k, col in enumerate(columns) if k in numbers}
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<tr>" + "".join(f"<th>{_cell(str(h))}</th>" for h in headers) + "</tr>")
    for row in rows:
        cells = []
        for k, c in enumerate(row):
            if c == "":
                cells.append("<td></td>")
            elif k in aligned and _numeric(c):
                cells.append(f'<td class="num">{next(aligned[k])}</td>')
            elif k in formulas or k in aligned:
                cells.append(f"<td>{formula_mathml(c if isinstance(c, str) else fmt(c, precision))}</td>")
            else:
                cells.append(f"<td>{_cell(c if isinstance(c, str) else fmt(c, precision), k == 0)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_FONT = 13  # px, the diagram's labels
# advance widths in em of DejaVu Sans / Liberation Sans, rounded up: a label measured with them is never
# narrower than it is drawn (a font with wider glyphs is scaled down by the SVG's own width)
_NARROW, _DIGIT, _WIDE_CHAR = 0.36, 0.64, 0.80


def label_width(text: str, size: float = _FONT) -> float:
    """The drawn width of ``text`` in px, over-estimated (``[`` ``,`` ``.`` space are narrow)."""
    return size * sum(_NARROW if c in " ,.:;[]()|'" else _DIGIT if c.isdigit() or c.islower() or c in "-=+"
                      else _WIDE_CHAR for c in text)


def _value_text(values, precision, most=6) -> str:
    """A vector for a label: its first components only when it is long (the tables have them all)."""
    arr = list(values)
    if len(arr) <= most:
        return fmt_vector(arr, precision)
    return "[" + ", ".join(fmt(v, precision) for v in arr[:most - 1]) + ", …]"


def _svg_label(name: str, sub, value: str, x: float, y: float, anchor="middle") -> tuple:
    """``name_sub = value`` as SVG text with a real subscript; returns (markup, width in px)."""
    markup = (f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}">'
              f'<tspan font-style="italic">{escape(name)}</tspan>'
              f'<tspan font-size="{_FONT * 0.75:g}" dy="4">{escape(str(sub))}</tspan>'
              f'<tspan dy="-4"> = {escape(value)}</tspan></text>')
    return markup, label_width(name + " = " + value) + label_width(str(sub), _FONT * 0.75)


def unrolled_svg(trace, precision=4, max_steps=10) -> str:
    """The cell unrolled over the steps: x_t below, h_t above, the state passed along.

    The labels are measured (:func:`label_width`) and the steps spaced and the viewBox sized to
    them, so no label is cut, whatever the number of units."""
    steps = trace.steps[:max_steps]
    w, top, margin = 120, 40, 8
    h0 = _value_text(trace.state0[0], precision)
    ups = [_value_text(step.values["h"], precision) for step in steps]
    downs = [_value_text(step.x, precision) for step in steps]
    widest = max(_svg_label(name, s.t, v, 0, 0)[1]
                 for name, values in (("h", ups), ("x", downs)) for s, v in zip(steps, values))
    pitch = max(w + 50, widest + 2 * margin)  # box plus the gap to the next one
    first_label, h0_width = _svg_label("h", 0, h0, margin, top + 72, anchor="start")
    left = max(margin + h0_width + 24, widest / 2 - w / 2 + margin)
    truncated = len(trace.steps) > max_steps
    right = max(w / 2, widest / 2) + margin + (30 if truncated else 0)  # from the last box's centre
    width = int(left + (len(steps) - 1) * pitch + w / 2 + right) + 1
    height = 260
    state = ", ".join(hooks(trace.cell).STATE_KEYS)
    parts = [f'<svg class="diagram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{_FONT}">',
             '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
             '<path d="M0,0 L8,4 L0,8 z" fill="#345"/></marker></defs>',
             first_label.replace("<text ", '<text fill="#345" ', 1),
             f'<line x1="{margin}" y1="{top + 80}" x2="{left - 2:.1f}" y2="{top + 80}" '
             'stroke="#345" marker-end="url(#arr)"/>']
    for k, step in enumerate(steps):
        x0 = left + k * pitch
        cx = x0 + w / 2
        parts.append(f'<rect x="{x0:.1f}" y="{top + 50}" width="{w}" height="60" rx="10" '
                     'fill="#dde8f3" stroke="#345"/>')
        parts.append(f'<text x="{cx:.1f}" y="{top + 85}" text-anchor="middle">'
                     f'{escape(trace.cell.upper())} t={step.t}</text>')
        # input below, output above
        parts.append(f'<line x1="{cx:.1f}" y1="{top + 170}" x2="{cx:.1f}" y2="{top + 112}" '
                     'stroke="#345" marker-end="url(#arr)"/>')
        parts.append(_svg_label("x", step.t, downs[k], cx, top + 190)[0])
        parts.append(f'<line x1="{cx:.1f}" y1="{top + 48}" x2="{cx:.1f}" y2="{top + 5}" '
                     'stroke="#345" marker-end="url(#arr)"/>')
        parts.append(_svg_label("h", step.t, ups[k], cx, top - 6)[0])
        if k + 1 < len(steps):
            parts.append(f'<line x1="{x0 + w:.1f}" y1="{top + 80}" x2="{x0 + pitch - 2:.1f}" y2="{top + 80}" '
                         'stroke="#345" marker-end="url(#arr)"/>')
            parts.append(f'<text x="{x0 + w + (pitch - w) / 2:.1f}" y="{top + 74}" text-anchor="middle" '
                         f'font-size="11">{escape(state)}</text>')
    if truncated:
        parts.append(f'<text x="{left + (len(steps) - 1) * pitch + w + 10:.1f}" y="{top + 85}">…</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _fact(label: str, text: str) -> str:
    value = inline_mathml(text) if looks_like_formula(text) else _inline(text)
    return f"<li>{_cell(label)}{escape(colon())}{value}</li>"


def _trace(block, precision) -> list:
    trace = block.trace
    out = [f"<h3>{_inline(block.title)}</h3>"] if block.title else []
    facts = "".join(_fact(label, text) for label, text in trace_facts(trace, precision))
    out.append(f'<ul class="facts">{facts}</ul>')
    out.append(f'<figure class="unrolled">{unrolled_svg(trace, precision)}<figcaption>'
               + escape(say("The cell unrolled in time: the same weights at every step.",
                            "La cellule déroulée dans le temps : les mêmes poids à chaque pas."))
               + "</figcaption></figure>")
    headers = column_headers()
    typeset = dict(formulas=(0, 1, 2), numbers={3})  # quantity, formula, numbers substituted; value
    if block.forward:
        for step in trace.steps:
            x = ", ".join(fmt(v, precision) for v in step.x)
            rows = [(r.label, r.formula, r.arithmetic, r.value) for r in step_rows(trace, step, precision)]
            out.append(_table(headers, rows, formula_mathml(f"t = {step.t}   (x_{step.t} = {x})"), precision,
                              **typeset))
    if trace.backward is not None:
        out.append(f"<h3>{escape(say('Backward pass (BPTT)', 'Passe arrière (BPTT)'))}</h3>")
        for step in trace.backward.steps:
            rows = [(r.label, r.formula, r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, backward=True)]
            caption = escape(say("backward", "arrière")) + ", " + formula_mathml(f"t = {step.t}")
            out.append(_table(headers, rows, caption, precision, **typeset))
        rows = [(r.label, r.formula, r.arithmetic, r.value) for r in gradient_rows(trace, precision)]
        out.append(_table((say("gradient", "gradient"), "", say("terms t = 1…T", "termes t = 1…T"),
                           say("value", "valeur")),
                          rows, escape(say("weight gradients", "gradients des poids")), precision, **typeset))
    return out


def _formula_block(text: str) -> str:
    """Code and ASCII drawings stay preformatted; the rest is displayed mathematics."""
    if is_code(text):
        return f"<pre>{escape(text)}</pre>"
    return f'<div class="formula">{formula_mathml(text, display=True)}</div>'


def _said(text: str) -> str:
    """What a document says or the correct value: a formula, code, or text with names typeset."""
    if _code_alone(text):
        return f"<code>{escape(text)}</code>"
    return inline_mathml(text) if looks_like_formula(text) else _inline(text)


def render_html(doc) -> str:
    out = ["<!DOCTYPE html>", f'<html lang="{doc.lang}"><head><meta charset="utf-8">',
           f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{_inline(doc.title)}</h1>"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 2), 4)
            out.append(f"<h{level}>{_inline(block.text)}</h{level}>")
        elif isinstance(block, Text):
            out.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Formula):
            out.append(_formula_block(block.text))
        elif isinstance(block, Table):
            out.append(_table(block.headers, block.rows, _inline(block.caption), doc.precision))
        elif isinstance(block, TraceBlock):
            out += _trace(block, doc.precision)
        elif isinstance(block, Figure):
            out.append(f"<figure>{figure_svg(block)}"
                       f"<figcaption>{_inline(block.caption)}</figcaption></figure>")
        elif isinstance(block, Erratum):
            lead, says, joint, correct = erratum_line(block, where=_inline, said=_said, plain=escape)
            out.append(f'<div class="erratum"><b>Erratum</b> {lead}{says}{joint}<b>{correct}</b>. '
                       + _inline(block.why) + "</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
