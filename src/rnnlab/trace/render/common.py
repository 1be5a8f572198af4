"""What every renderer shares: the trace's header (cell, sizes, parameters, state) and the
saving of figures."""

from __future__ import annotations

import os

from ...i18n import say
from ..document import fmt_given
from ..layout import state_text

CELL_NAMES = {"rnn": "RNN (Elman)", "lstm": "LSTM", "gru": "GRU"}


def trace_facts(trace, precision) -> list:
    """``[(label, text), …]``: what a reader needs to redo the computation by hand."""
    cell = CELL_NAMES[trace.cell]
    if trace.cell == "gru":
        cell += " — " + (say("reset before the matmul (Cho et al. 2014's reset, as in the Chapitre)",
                                 "reset avant le produit (le reset de Cho et al. 2014, comme le Chapitre)")
                         if trace.options.get("reset") == "before" else
                         say("reset after the matmul (PyTorch)", "reset après le produit (PyTorch)"))
    if trace.cell == "rnn" and trace.options.get("nonlinearity") == "relu":
        cell += " (ReLU)"
    facts = [(say("cell", "cellule"), cell),
             (say("sizes", "tailles"), f"input_size = {trace.input_size}, hidden_size = {trace.hidden_size}, T = {len(trace.steps)}")]
    names = list(trace.course)
    if trace.cell == "lstm":  # the course's order f, i, C, o
        names = [f"{k}_{g}" for g in ("f", "i", "C", "o") for k in ("W", "b")]
    for name in names:
        facts.append((name, fmt_given(trace.course[name], precision)))
    if trace.cell == "gru" and trace.options.get("reset", "after") == "after":
        p = trace.params
        for key in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            facts.append((key, fmt_given(p[key], precision)))
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
            targets = ", ".join(f"t={t}: {fmt_given(v, precision)}" for t, v in sorted(back.loss["targets"].items()))
            facts.append((say("loss", "perte"), f"{back.loss['type']} ({targets}) = {back.loss['value']:.{precision}f}"))
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
