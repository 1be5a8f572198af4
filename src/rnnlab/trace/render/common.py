"""What every renderer shares: the trace's header (cell, sizes, parameters, state) and the
saving of figures."""

from __future__ import annotations

import os

from ...i18n import say
from ..document import fmt_given
from ..cells import hooks
from ..layout import state_text


def colon() -> str:
    """A colon after a label, as the language writes it: ``": "``, or ``" : "`` in French."""
    return say(": ", "\u00a0: ")


def erratum_line(block, where=str, said=str, plain=str) -> tuple:
    """``(lead, seed_says, joint, correct)`` of an erratum's sentence, punctuated in the current
    language: ``(where): the document says`` X ``; correct:`` Y (each renderer styles Y); French
    quotes what the document says, and its correction, between « ». A renderer that marks up its
    pieces passes ``where`` and ``said`` (the place; what is said and the correction) and
    ``plain`` (the words between them, e.g. escaped)."""
    french = say("en", "fr") == "fr"

    def quote(text):
        return plain("«\u00a0") + said(text) + plain("\u00a0»") if french else said(text)

    return (f"({where(block.where)})" + plain(colon() + say("the document says ", "le document dit ")),
            quote(block.seed_says),
            plain(say("; correct: ", "\u00a0; corrigé\u00a0: ")), quote(block.correct))


def trace_facts(trace, precision) -> list:
    """``[(label, text), …]``: what a reader needs to redo the computation by hand."""
    hook = hooks(trace.cell)
    facts = [(say("cell", "cellule"), hook.describe(trace.options)),
             (say("sizes", "tailles"),
              f"input_size = {trace.input_size}, hidden_size = {trace.hidden_size}, T = {len(trace.steps)}")]
    for name, value in hook.given(trace):  # the parameters, in the course's order
        facts.append((name, fmt_given(value, precision)))
    if trace.output_layer is not None:
        facts.append(("W_hy", fmt_given(trace.output_layer["W_hy"], precision)))
        facts.append(("b_y", fmt_given(trace.output_layer["b_y"], precision)))
    facts.append((say("initial state", "état initial"), state_text(trace, precision)))
    facts.append(("x", fmt_given(trace.x if trace.input_size > 1 else trace.x[:, 0], precision)))
    back = trace.backward
    if back is not None:
        ups = [f"∂L/∂h_{t} = {fmt_given(v, precision)}" for t, v in sorted(back.upstream.items())]
        ups += [f"∂L/∂y_{t} = {fmt_given(v, precision)}" for t, v in sorted(back.upstream_y.items())]
        if back.loss is not None:
            targets = ", ".join(f"t={t}{colon()}{fmt_given(v, precision)}"
                                for t, v in sorted(back.loss["targets"].items()))
            facts.append((say("loss", "perte"),
                          f"{back.loss['type']} ({targets}) = {back.loss['value']:.{precision}f}"))
        else:
            facts.append((say("upstream gradients", "gradients en entrée"), ", ".join(ups) or "0"))
    return facts


def save_figure(block, figure_dir, stem, formats=("png", "svg")) -> list:
    """Write the figure as ``<figure_dir>/<stem>-<name>.png`` (and .svg) through
    :func:`rnnlab.plots.save_figure` (atomic); returns the paths."""
    from ...plots import save_figure as save

    os.makedirs(figure_dir, exist_ok=True)
    fig = block.draw()
    paths = [os.path.join(figure_dir, f"{stem}-{block.name}.{ext}") for ext in formats]
    return [str(save(fig, path, dpi=120)) for path in paths]


def figure_svg(block) -> str:
    """The figure as an inline ``<svg>`` element (for the self-contained HTML page)."""
    import io

    buf = io.StringIO()
    block.draw().savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]
