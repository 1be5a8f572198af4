"""A self-contained HTML page (no network): styles inline, the unrolled diagram as inline SVG,
one table per step, figures inlined as SVG."""

from __future__ import annotations

from html import escape

from ...i18n import say
from ..cells import hooks
from ..document import Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt, fmt_vector
from ..layout import column_headers, gradient_rows, step_rows
from .common import colon, erratum_line, figure_svg, trace_facts

STYLE = """
body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222;
line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #345}h2{font-size:1.25em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#e8eef4}td.v{text-align:right;font-family:monospace;font-weight:bold}
td.m,code,pre{font-family:"DejaVu Sans Mono",monospace}
caption{font-weight:bold;text-align:left;padding:.3em 0}
pre{background:#f4f4f4;padding:.6em;overflow-x:auto}
.erratum{border-left:4px solid #c33;background:#fbeeee;padding:.4em .8em;margin:.8em 0}
.facts{font-family:monospace;font-size:.9em}figure{margin:1em 0}svg.diagram{max-width:100%;height:auto}
"""


def _inline(text: str) -> str:
    parts = text.split("`")
    return "".join(f"<code>{escape(p)}</code>" if k % 2 else escape(p) for k, p in enumerate(parts))


def _table(headers, rows, caption, precision, classes=()) -> str:
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{escape(str(h))}</th>" for h in headers) + "</tr>")
    for row in rows:
        cells = []
        for k, c in enumerate(row):
            text = c if isinstance(c, str) else fmt(c, precision)
            cls = classes[k] if k < len(classes) else ""
            cells.append(f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def unrolled_svg(trace, precision=4, max_steps=10) -> str:
    """The cell unrolled over the steps: x_t below, h_t above, the state passed along."""
    steps = trace.steps[:max_steps]
    w, gap, top, left = 120, 50, 40, 90
    width = left + len(steps) * (w + gap)
    state = ", ".join(hooks(trace.cell).STATE_KEYS)
    parts = [f'<svg class="diagram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="260" '
             f'viewBox="0 0 {width} 260" font-family="sans-serif" font-size="13">',
             '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
             '<path d="M0,0 L8,4 L0,8 z" fill="#345"/></marker></defs>']
    h0 = fmt_vector(trace.state0[0], precision)
    parts.append(f'<text x="4" y="{top + 75}" fill="#345">h_0={escape(h0)}</text>')
    parts.append(f'<line x1="4" y1="{top + 80}" x2="{left - 2}" y2="{top + 80}" '
                 'stroke="#345" marker-end="url(#arr)"/>')
    for k, step in enumerate(steps):
        x0 = left + k * (w + gap)
        parts.append(f'<rect x="{x0}" y="{top + 50}" width="{w}" height="60" rx="10" '
                     'fill="#dde8f3" stroke="#345"/>')
        parts.append(f'<text x="{x0 + w / 2}" y="{top + 85}" text-anchor="middle">'
                     f'{escape(trace.cell.upper())} t={step.t}</text>')
        # input below, output above
        parts.append(f'<line x1="{x0 + w / 2}" y1="{top + 170}" x2="{x0 + w / 2}" y2="{top + 112}" '
                     'stroke="#345" marker-end="url(#arr)"/>')
        parts.append(f'<text x="{x0 + w / 2}" y="{top + 190}" text-anchor="middle">'
                     f'x_{step.t}={escape(fmt_vector(step.x, precision))}</text>')
        parts.append(f'<line x1="{x0 + w / 2}" y1="{top + 48}" x2="{x0 + w / 2}" y2="{top + 5}" '
                     'stroke="#345" marker-end="url(#arr)"/>')
        parts.append(f'<text x="{x0 + w / 2}" y="{top - 2}" text-anchor="middle">'
                     f'h_{step.t}={escape(fmt_vector(step.values["h"], precision))}</text>')
        if k + 1 < len(steps):
            parts.append(f'<line x1="{x0 + w}" y1="{top + 80}" x2="{x0 + w + gap - 2}" y2="{top + 80}" '
                         'stroke="#345" marker-end="url(#arr)"/>')
            parts.append(f'<text x="{x0 + w + gap / 2}" y="{top + 74}" text-anchor="middle" font-size="11">'
                         f'{state}</text>')
    if len(trace.steps) > max_steps:
        parts.append(f'<text x="{width - 40}" y="{top + 85}">…</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _trace(block, precision) -> list:
    trace = block.trace
    out = [f"<h3>{escape(block.title)}</h3>"] if block.title else []
    out.append('<ul class="facts">'
               + "".join(f"<li>{escape(l)}{colon()}{escape(t)}</li>"
                         for l, t in trace_facts(trace, precision))
               + "</ul>")
    out.append(f"<figure>{unrolled_svg(trace, precision)}<figcaption>"
               + escape(say("The cell unrolled in time: the same weights at every step.",
                            "La cellule déroulée dans le temps : les mêmes poids à chaque pas."))
               + "</figcaption></figure>")
    headers = column_headers()
    cls = ("m", "m", "m", "v")
    if block.forward:
        for step in trace.steps:
            x = ", ".join(fmt(v, precision) for v in step.x)
            rows = [(r.label, r.formula, r.arithmetic, r.value) for r in step_rows(trace, step, precision)]
            out.append(_table(headers, rows, f"t = {step.t}   (x_{step.t} = {x})", precision, cls))
    if trace.backward is not None:
        out.append(f"<h3>{escape(say('Backward pass (BPTT)', 'Passe arrière (BPTT)'))}</h3>")
        for step in trace.backward.steps:
            rows = [(r.label, r.formula, r.arithmetic, r.value)
                    for r in step_rows(trace, step, precision, backward=True)]
            out.append(_table(headers, rows, say(f"backward, t = {step.t}", f"arrière, t = {step.t}"),
                              precision, cls))
        rows = [(r.label, r.formula, r.arithmetic, r.value) for r in gradient_rows(trace, precision)]
        out.append(_table((say("gradient", "gradient"), "", say("terms t = 1…T", "termes t = 1…T"),
                           say("value", "valeur")),
                          rows, say("weight gradients", "gradients des poids"), precision, cls))
    return out


def render_html(doc) -> str:
    out = ["<!DOCTYPE html>", f'<html lang="{doc.lang}"><head><meta charset="utf-8">',
           f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{escape(doc.title)}</h1>"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 2), 4)
            out.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Text):
            out.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Formula):
            out.append(f"<pre>{escape(block.text)}</pre>")
        elif isinstance(block, Table):
            out.append(_table(block.headers, block.rows, block.caption, doc.precision))
        elif isinstance(block, TraceBlock):
            out += _trace(block, doc.precision)
        elif isinstance(block, Figure):
            out.append(f"<figure>{figure_svg(block)}"
                       f"<figcaption>{escape(block.caption)}</figcaption></figure>")
        elif isinstance(block, Erratum):
            lead, says, joint, correct = erratum_line(block)
            out.append('<div class="erratum"><b>Erratum</b> ' + escape(lead + says + joint)
                       + f"<b>{escape(correct)}</b>. "
                       + _inline(block.why) + "</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
