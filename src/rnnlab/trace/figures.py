"""The presets' figures, drawn with matplotlib's object API (no pyplot, the user's backend is
never touched): the hidden state over time (TP ex. 1.1) and the decay of the backpropagated
gradient (ex. 1.2). Each function returns a ``matplotlib.figure.Figure``;
:mod:`rnnlab.trace.render` saves it (PNG, SVG) or inlines it."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..i18n import say


def hidden_state_figure(trace, title=""):
    """h_t (each component) and y_t against t, from t = 0 (the initial state)."""
    h = np.vstack([trace.state0[0][None, :], trace.series("h")])  # (T+1, H)
    t = np.arange(h.shape[0])
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.add_subplot()
    for j in range(h.shape[1]):
        ax.plot(t, h[:, j], marker="o", label=f"h_t[{j + 1}]")
        for tt, v in zip(t, h[:, j]):
            ax.annotate(f"{v:.3f}", (tt, v), textcoords="offset points", xytext=(4, 6), fontsize=8)
    if "y" in trace.steps[0].values:
        y = trace.series("y")
        for k in range(y.shape[1]):
            label = f"y_t[{k + 1}]" if y.shape[1] > 1 else "y_t"
            ax.plot(t[1:], y[:, k], marker="s", linestyle="--", label=label)
    ax.set_xticks(t)
    ax.set_xlabel("t")
    ax.set_ylabel(say("value", "valeur"))
    ax.axhline(0.0, color="0.7", linewidth=0.8)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or say("Hidden state h_t over time", "État caché h_t au fil du temps"))
    fig.tight_layout()
    return fig


def gradient_decay_figure(curves: dict, threshold=0.01, title=""):
    """``curves``: label -> (k values, norms). Log scale, with the threshold as a line."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for label, (k, values) in curves.items():
        ax.semilogy(k, values, marker=".", label=label)
    ax.axhline(threshold, color="red", linestyle=":",
               label=say(f"threshold {threshold}", f"seuil {threshold}"))
    ax.set_xlabel(say("steps back in time k", "pas remontés dans le temps k"))
    ax.set_ylabel(say("gradient factor (norm of the Jacobian product)",
                      "facteur du gradient (norme du produit des jacobiennes)"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or say("Vanishing and exploding gradient", "Gradient qui disparaît ou explose"))
    fig.tight_layout()
    return fig
