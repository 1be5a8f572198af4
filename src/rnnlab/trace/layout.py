"""From a recorded trace to rows (quantity, formula, arithmetic, value), shared by every
renderer, and the formatting of arithmetic tokens in Unicode or LaTeX."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import say
from .document import fmt, fmt_operand, fmt_vector
from .cells import hooks
from .notation import indexed

_LATEX_TOKENS = {"×": r"\times ", "σ(": r"\sigma(", "tanh(": r"\tanh(", "exp(": r"\exp(",
                 "ReLU(": r"\mathrm{ReLU}(", "²": "^2", "−": "-", "/": "/"}
_OPENERS = {"(", "σ(", "tanh(", "exp(", "ReLU("}


def format_expr(expr, precision=4, style="unicode") -> str:
    """Tokens -> ``0.1×0.0 + 0.2×1.0 + 0.0`` (Unicode) or ``0.1\\times 0.0 + …`` (LaTeX)."""
    out = []
    prev = None
    for tok in expr:
        if isinstance(tok, str):
            if tok in ("+", "−", "/"):
                sym = _LATEX_TOKENS.get(tok, tok) if style == "latex" else tok
                out.append(f" {sym} ")
            else:
                out.append(_LATEX_TOKENS.get(tok, tok) if style == "latex" else tok)
        else:
            text = fmt_operand(tok, precision)
            if text.startswith("-") and prev is not None and prev not in _OPENERS:
                text = f"({text})"
            out.append(text)
        prev = tok
    return "".join(out)


@dataclass(frozen=True)
class Row:
    label: str
    formula: str
    arithmetic: str  # "" when not shown
    value: str


def _formula(trace, key, backward):
    text = hooks(trace.cell).formula(key, trace.options, backward)
    if backward:
        for en, fr in (("(given, or from the loss)", "(donné, ou venant de la perte)"),
                       ("(given)", "(donné)"), ("(from t+1)", "(venant de t+1)")):
            text = text.replace(en, say(en, fr))
    return text


def step_rows(trace, step, precision=4, style="unicode", backward=False) -> list:
    """One row per quantity (or per component, with the arithmetic, for small cells)."""
    rows = []
    by_key = {}
    for line in step.lines:
        by_key.setdefault(line.key, []).append(line)
    for key, value in step.values.items():
        formula = _formula(trace, key, backward)
        lines = by_key.get(key)
        if lines:
            for k, line in enumerate(lines):
                rows.append(Row(indexed(key, step.t, line.unit, style), formula if k == 0 else "",
                                format_expr(line.expr, precision, style) if line.expr else "",
                                fmt(line.value, precision)))
        else:
            rows.append(Row(indexed(key, step.t, None, style), formula, "", fmt_vector(value, precision)))
    return rows


def gradient_rows(trace, precision=4, style="unicode") -> list:
    """∂L/∂W for each weight of the course: element by element ``Σ_t ∂L/∂z_t[j] × input_t[k]``
    with the numbers (small cells), else the per-step terms and their sum."""
    back = trace.backward
    rows = []
    for name, total in back.grads.items():
        label = f"∂L/∂{name}" if style == "unicode" else rf"\frac{{\partial L}}{{\partial {_tex_name(name)}}}"
        if not trace.arithmetic:
            per_step = " + ".join(fmt_vector(np.ravel(term), precision) for term in back.contributions[name])
            rows.append(Row(label, say("Σ over t = 1…T", "Σ sur t = 1…T"), per_step,
                            fmt_matrix(total, precision)))
            continue
        for idx in np.ndindex(total.shape):
            expr = []
            for d, v in back.factors[name]:
                expr += (["+"] if expr else []) + ([float(d[idx[0]]), "×", float(v[idx[1]])] if v is not None
                                                   else [float(d[idx[0]])])
            element = "" if total.size == 1 else "[" + ",".join(str(i + 1) for i in idx) + "]"
            rows.append(Row(label + element, "", format_expr(expr, precision, style),
                            fmt(total[idx], precision)))
    return rows


def fmt_matrix(arr, precision=4) -> str:
    arr = np.asarray(arr)
    if arr.ndim <= 1:
        return fmt_vector(arr, precision)
    return "[" + ", ".join(fmt_vector(r, precision) if r.size > 1 else "[" + fmt(r[0], precision) + "]"
                           for r in arr) + "]"


def _tex_name(name):
    head, _, tail = name.partition("_")
    return f"{head}_{{{tail}}}" if tail else head


def column_headers():
    return (say("quantity", "grandeur"), say("formula", "formule"),
            say("numbers substituted", "calcul détaillé"), say("value", "valeur"))


def state_text(trace, precision=4) -> str:
    names = state_names(trace)
    return ", ".join(f"{n} = {fmt_vector(s, precision) if s.size > 1 else fmt_operand(s[0], precision)}"
                     for n, s in zip(names, trace.state0))


def state_names(trace) -> tuple:
    """``("h_0", "C_0")``: the initial state under the course's names."""
    return tuple(f"{k}_0" for k in hooks(trace.cell).STATE_KEYS)
