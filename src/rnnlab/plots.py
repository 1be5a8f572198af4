"""The course's figures, drawn with matplotlib (no pyplot state: each function returns a
:class:`~matplotlib.figure.Figure`), saved as PNG or SVG by the file's suffix.

Each figure speaks English or French (``lang``, else the current language of
:mod:`rnnlab.i18n`). :data:`FIGURES` lists them by name for ``rnnlab plot NAME --out FILE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from . import analysis, cells, course
from .checkpoint import atomic_path
from .errors import ConfigError
from .i18n import say

SUFFIXES = (".png", ".svg")


class _PerCell(Mapping):
    """A read-only view of one fact of the registered cells (``COLORS["lstm"]``): the registry
    (:mod:`rnnlab.cells`) holds the facts; iterating gives the cells a user chooses among."""

    def __init__(self, fact):
        self._fact = fact

    def __getitem__(self, name):
        if name not in cells.REGISTRY:
            raise KeyError(name)
        return self._fact(cells.get(name))

    def __iter__(self):
        return iter(cells.names())

    def __len__(self):
        return len(cells.names())


COLORS = _PerCell(lambda spec: spec.color)  # each cell's colour in the figures (its file's COLOR)
CELL_NAMES = _PerCell(lambda spec: spec.label[0])  # and its English label


def _cell_name(mode, lang=None):
    """The cell's label from the registry (the name itself for an unregistered one)."""
    return cells.get(mode).label_in(lang) if mode in cells.REGISTRY else mode


def _cell_color(mode):
    return COLORS.get(mode)


def check_figure_path(path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it ends in .png or .svg in an existing folder,
    else a :class:`~rnnlab.errors.ConfigError` (check before spending time on a figure)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(say(f"figure file {str(path)!r}: expected a name ending in .png or .svg, "
                              f"got {suffix or 'no suffix'!r}",
                              f"fichier de figure {str(path)!r} : nom attendu en .png ou .svg, "
                              f"reçu {suffix or 'sans suffixe'!r}"))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(say(f"figure file {str(path)!r}: folder {str(folder)!r} does not exist",
                              f"fichier de figure {str(path)!r} : le dossier {str(folder)!r} n'existe pas"))
    return path


def save_figure(fig: Figure, path, dpi=150) -> Path:
    """Write ``fig`` to ``path`` (``.png`` or ``.svg``, in an existing folder) atomically, through
    :func:`rnnlab.checkpoint.atomic_path`; returns the path. Only the figure object is used:
    pyplot and the user's backend are never touched."""
    path = check_figure_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lower()[1:], dpi=dpi, bbox_inches="tight")
    return path


def new_figure(width=7.0, height=4.5, **kw) -> Figure:
    """An empty figure of matplotlib's object API (no pyplot, no backend switched)."""
    return Figure(figsize=(width, height), layout="constrained", **kw)


_figure = new_figure


# --- activations (Chapitre, Cours) -----------------------------------------------------------


def tanh_figure(lang=None) -> Figure:
    """tanh and tanh' = 1 − tanh² on [−4, 4] (Chapitre): the slope is ≤ 1 and nearly 0 past |z| = 2."""
    z = np.linspace(-4, 4, 401)
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(z, np.tanh(z), label="tanh(z)", lw=2)
    ax.plot(z, 1 - np.tanh(z) ** 2, label="tanh'(z) = 1 − tanh²(z)", lw=2)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("z")
    ax.set_title(say("tanh and its derivative: gradients vanish for |z| > 2",
                     "tanh et sa dérivée : le gradient s'éteint pour |z| > 2", lang))
    ax.grid(True, alpha=0.4)
    ax.legend()
    return fig


def sigmoid_figure(lang=None) -> Figure:
    """σ and σ' = σ(1 − σ), with the bound σ' ≤ 1/4 (Cours)."""
    z = np.linspace(-8, 8, 401)
    s = 0.5 * (1 + np.tanh(z / 2))
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(z, s, label="σ(z)", lw=2)
    ax.plot(z, s * (1 - s), label="σ'(z) = σ(z)(1 − σ(z))", lw=2)
    ax.axhline(0.25, color="tab:red", ls="--", lw=1.2, label=say("bound σ' ≤ 0.25", "borne σ' ≤ 0,25", lang))
    ax.set_xlabel("z")
    ax.set_title(say("Sigmoid and its derivative: at most 0.25 per layer",
                     "Sigmoïde et sa dérivée : au plus 0,25 par couche", lang))
    ax.grid(True, alpha=0.4)
    ax.legend()
    return fig


def sigmoid_chain_figure(layers=10, lang=None) -> Figure:
    """∂a_L/∂a_l through a chain of sigmoids (Cours), with the bound 0.25^(L−l)."""
    chain = analysis.sigmoid_chain(layers, x=0.0, weight=1.0)
    back = np.arange(layers + 1)  # layers between a_l and the output
    fig = _figure()
    ax = fig.add_subplot()
    ax.semilogy(back, chain.gradients[::-1], "o-", lw=2,
                label=say("gradient ∂a_L/∂a_l (tape)", "gradient ∂a_L/∂a_l (bande)", lang))
    ax.semilogy(back, chain.bound[::-1], "--", color="tab:red",
                label=say("bound 0.25^k", "borne 0,25^k", lang))
    ax.set_xlabel(say("layers crossed backwards k = L − l", "couches traversées à rebours k = L − l", lang))
    ax.set_ylabel("|∂a_L/∂a_l|")
    ax.set_title(say(f"Vanishing gradient through {layers} sigmoid layers (w = 1, x = 0)",
                     f"Disparition du gradient à travers {layers} couches sigmoïdes (w = 1, x = 0)", lang))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


# --- ex. 1.1 Q3: h_t over time ---------------------------------------------------------------

EXERCISE_1_1 = {"W_xh": [[0.3], [0.4]], "W_hh": [[0.2, 0.1], [-0.1, 0.3]], "b_h": [0.1, 0.0],
                "x": [0.5, 0.8, 0.2]}


def exercise_1_1_states():
    """h_0 … h_3 of TP ex. 1.1, computed by ``rnnlab.RNN`` (float64): (4, 2)."""
    from .cells.rnn import params_from_course
    from .layers import RNN

    ex = EXERCISE_1_1
    layer = RNN(1, 2, dtype=np.float64)
    layer.load_state_dict(params_from_course(ex["W_xh"], ex["W_hh"], ex["b_h"]))
    out, _ = layer.forward(np.array(ex["x"]).reshape(3, 1))
    return np.vstack([np.zeros((1, 2)), out])


def hidden_states_figure(states=None, lang=None) -> Figure:
    """The components of h_t against t (TP ex. 1.1, question 3, by default)."""
    hs = exercise_1_1_states() if states is None else np.asarray(states, dtype=np.float64)
    t = np.arange(len(hs))
    fig = _figure()
    ax = fig.add_subplot()
    for k in range(hs.shape[1]):
        ax.plot(t, hs[:, k], "o-", lw=2, label=f"h_t[{k + 1}]")
        for tt, v in zip(t, hs[:, k]):
            ax.annotate(f"{v:.4f}", (tt, v), textcoords="offset points", xytext=(4, 6), fontsize=8)
    ax.set_xticks(t)
    ax.margins(x=0.08, y=0.15)
    ax.set_xlabel("t")
    ax.set_ylabel("h_t")
    title = say("Hidden state over time (ex. 1.1, x = [0.5, 0.8, 0.2], h_0 = 0)",
                "État caché au cours du temps (ex. 1.1, x = [0,5 ; 0,8 ; 0,2], h_0 = 0)", lang)
    ax.set_title(title if states is None
                 else say("Hidden state over time", "État caché au cours du temps", lang))
    ax.grid(True, alpha=0.4)
    ax.legend()
    return fig


# --- gradient decay ------------------------------------------------------------------------------


def spectral_radius_figure(radii=(0.8, 1.0, 1.2), hidden=16, steps=60, input_scale=0.5, seed=0,
                           lang=None) -> Figure:
    """‖∂h_T/∂h_{T−d}‖₂ against d (log scale) for RNNs whose W_hh has spectral radius below, at
    and above 1: the linear view ‖W_hh^d‖₂ (tanh' = 1) and the exact tanh RNN on random inputs."""
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    colors = ["tab:blue", "tab:gray", "tab:red", "tab:purple", "tab:orange"]
    d = np.arange(steps + 1)
    for k, radius in enumerate(radii):
        rng = np.random.default_rng(seed)
        layer = analysis.rnn_with_spectral_radius(hidden, radius, rng)
        linear = analysis.linearised_flow(layer.params["weight_hh_l0"], 1.0).norms(steps)
        x = rng.normal(0.0, input_scale, size=(steps, 4, 1))
        exact = analysis.state_jacobians(layer, x).mean_norms()
        c = colors[k % len(colors)]
        ax.semilogy(d, linear, "--", color=c, lw=1.5,
                    label=say(f"ρ = {radius:g}, linear ‖W^d‖₂", f"ρ = {radius:g}, linéaire ‖W^d‖₂", lang))
        ax.semilogy(d, exact, "-", color=c, lw=2,
                    label=say(f"ρ = {radius:g}, tanh RNN (exact)", f"ρ = {radius:g}, RNN tanh (exact)", lang))
    ax.set_xlabel(say("distance T − t (steps)", "distance T − t (pas)", lang))
    ax.set_ylabel("‖∂h_T/∂h_t‖₂")
    ax.set_title(say(f"Gradient norm against distance, H = {hidden}, by spectral radius of W_hh",
                     f"Norme du gradient selon la distance, H = {hidden}, par rayon spectral de W_hh", lang))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return fig


def exercise_1_2_figure(lang=None) -> Figure:
    """TP ex. 1.2: ‖(W_hh · 0.9)^n‖ in three norms, the threshold 0.01, the steps 3, 5, 10;
    and for question 3 W_hh rescaled to |λ| = 1.2 (it explodes)."""
    ex = course.exercise_1_2()
    title = say(f"Ex. 1.2: W_hh = [[0.8, 0.1], [−0.1, 0.8]], tanh' ≈ 0.9, ρ = {ex.flow.spectral_radius:.4f}",
                f"Ex. 1.2 : W_hh = [[0.8, 0.1], [−0.1, 0.8]], tanh' ≈ 0.9, "
                f"ρ = {ex.flow.spectral_radius:.4f}", lang)
    larger = (say("|λ(W_hh)| = 1.2 (question 3): explodes", "|λ(W_hh)| = 1.2 (question 3) : explose", lang),
              ex.larger[1.2])
    return linearised_figure(ex.flow, ex.steps, ex.threshold, title, larger, lang)


def linearised_figure(flow: analysis.LinearisedFlow, marks=(3, 5, 10), threshold=0.01, title=None,
                      larger=None, lang=None, n_max=None) -> Figure:
    """‖J^n‖ against n for the course's linearised factor J = diag(tanh') W_hh, in three norms,
    with the threshold, the values at ``marks`` and (``larger = (label, flow)``) a second flow."""
    below = {o: flow.steps_below(threshold, o) for o in analysis.NORMS}
    if n_max is None:
        found = [v for v in below.values() if v is not None]
        n_max = max(25, max(marks, default=0) + 3, (max(found) + 3) if found else 0)
    n = np.arange(n_max + 1)
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    labels = {"2": say("spectral norm ‖·‖₂", "norme spectrale ‖·‖₂", lang),
              "fro": say("Frobenius norm", "norme de Frobenius", lang),
              "max": say("largest entry max|·|", "plus grand coefficient max|·|", lang)}
    for ord_, label in labels.items():
        when = below[ord_] if below[ord_] is not None else say("never", "jamais", lang)
        ax.semilogy(n, flow.norms(n_max, ord_), "-", lw=2,
                    label=f"{label} ({say(f'below {threshold:g} at n =', f'sous {threshold:g} à n =', lang)} "
                          f"{when})")
    spec = flow.norms(n_max, "2")
    marks = [m for m in marks if m <= n_max]
    ax.semilogy(marks, spec[marks], "ko", ms=6)
    for m in marks:
        ax.annotate(say(f"n={m}: {spec[m]:.4f}", f"n = {m} : {spec[m]:.4f}", lang), (m, spec[m]),
                    textcoords="offset points", xytext=(6, 6),
                    fontsize=8)
    if larger is not None:
        ax.semilogy(n, larger[1].norms(n_max, "2"), ":", color="tab:red", lw=2, label=larger[0])
    ax.axhline(threshold, color="0.4", ls="--", lw=1)
    ax.set_xlabel(say("steps n", "nombre de pas n", lang))
    ax.set_ylabel("‖(diag(tanh') W_hh)ⁿ‖")
    ax.set_title(title or say(f"Linearised gradient flow: ρ = {flow.spectral_radius:.4f}, "
                              f"‖J‖₂ = {flow.spectral_norm:.4f}",
                              f"Flux de gradient linéarisé : ρ = {flow.spectral_radius:.4f}, "
                              f"‖J‖₂ = {flow.spectral_norm:.4f}", lang))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def gradient_profile_figure(jac: analysis.StateJacobians, linear_slope=None, lang=None) -> Figure:
    """Mean ‖∂s_T/∂s_t‖₂ of a :class:`~rnnlab.analysis.StateJacobians` against distance; for the
    LSTM also ‖∂C_T/∂C_t‖₂ and the mean of Π f; dashed, the linear view at ``linear_slope``."""
    d = jac.distance
    fig = _figure()
    ax = fig.add_subplot()
    name = _cell_name(jac.mode, lang)
    states = [n.upper() if n == "c" else n for n in jac.state_names]  # the course writes C
    if len(states) > 1:
        both = ", ".join(f"{n}_T" for n in states), ", ".join(f"{n}_t" for n in states)
        ax.semilogy(d, jac.mean_norms(), lw=2, label=f"‖∂({both[0]})/∂({both[1]})‖₂")
    for n, shown in zip(jac.state_names, states):
        ax.semilogy(d, jac.mean_norms(n, n), lw=2 if len(states) == 1 else 1.5,
                    label=f"‖∂{shown}_T/∂{shown}_t‖₂")
    spec = cells.get(jac.mode)
    en, fr = (f" ({n})" for n in spec.direct_note) if spec.direct_note else ("", "")
    ax.semilogy(d, jac.direct_path.mean(axis=(0, 2)), ":", lw=2,
                label=say(f"mean {spec.direct_label}{en}", f"moyenne de {spec.direct_label}{fr}", lang))
    if linear_slope is not None:  # the course's linearised view of the Elman cell (the caller's choice)
        lin = analysis.linearised_flow(jac.W_hh, linear_slope)
        ax.semilogy(d, lin.norms(jac.steps), "--", color="0.3",
                    label=say(f"linear view ‖(diag({linear_slope:.3g}) W_hh)^d‖₂",
                              f"vue linéaire ‖(diag({linear_slope:.3g}) W_hh)^d‖₂", lang))
    ax.set_xlabel(say("distance T − t (steps)", "distance T − t (pas)", lang))
    ax.set_ylabel(say("norm", "norme", lang))
    ax.set_title(say(f"{name}, H = {jac.hidden_size}: gradient norm against distance",
                     f"{name}, H = {jac.hidden_size} : norme du gradient selon la distance", lang))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def cell_comparison_figure(comparison: analysis.CellComparison | None = None, lang=None, **options) -> Figure:
    """RNN vs LSTM vs GRU on the marked-bit recall task (:func:`rnnlab.analysis.first_input_task`):
    mean ‖∂s_T/∂s_t‖₂ against distance at initialisation and after training, and the training
    loss (``options`` go to :func:`rnnlab.analysis.compare_cells`)."""
    cmp = comparison or analysis.compare_cells(**options)
    fig = _figure(15, 4.8)
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.1])
    axes[1].sharey(axes[0])
    titles = (say("at initialisation", "à l'initialisation", lang),
              say(f"after {cmp.train_steps} Adam steps", f"après {cmp.train_steps} pas d'Adam", lang))
    for stage, ax in enumerate(axes[:2]):
        for mode, profiles in cmp.profiles.items():
            ax.semilogy(cmp.distance, np.maximum(profiles[stage], 1e-300), lw=2, color=_cell_color(mode),
                        label=_cell_label(cmp, mode, lang))
        ax.axvspan(cmp.steps - cmp.window, cmp.steps, color="0.85", zorder=0,
                   label=say("distance of the marked bit", "distance du bit marqué", lang))
        ax.set_title(titles[stage])
        ax.set_xlabel(say("distance T − t (steps)", "distance T − t (pas)", lang))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("‖∂s_T/∂s_t‖₂  (s = h ; LSTM : s = (h, C))")
    ax = axes[2]
    for mode, curve in cmp.curves.items():
        before, after = cmp.losses[mode]
        width = min(10, len(curve))  # a moving average over 10 steps
        smooth = np.convolve(curve, np.ones(width) / width, mode="valid")
        ax.plot(np.arange(width, len(curve) + 1), smooth, lw=2, color=_cell_color(mode),
                label=f"{_cell_name(mode, lang)} ({say('test', 'test', lang)} {before:.2f} → {after:.2g})")
    ax.axhline(1.0, color="0.5", ls="--", lw=1,
               label=say("guessing 0 (E[y²] = 1)", "deviner 0 (E[y²] = 1)", lang))
    ax.set_title(say("training loss (mean (ŷ − y)², 10-step average)",
                     "perte d'entraînement (moyenne (ŷ − y)², sur 10 pas)", lang))
    ax.set_xlabel(say("Adam step", "pas d'Adam", lang))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(say(f"Gradient decay, T = {cmp.steps}, H = {cmp.hidden_size}; task: recall the bit marked "
                     f"among the first {cmp.window} steps, every step a ±1 distractor",
                     f"Décroissance du gradient, T = {cmp.steps}, H = {cmp.hidden_size} ; tâche : rappeler "
                     f"le bit marqué parmi les {cmp.window} premiers pas, chaque pas un leurre ±1", lang))
    return fig


def _cell_label(cmp, mode, lang):
    name = _cell_name(mode, lang)
    if mode in cells.REGISTRY and cells.get(mode).forget_gate and cmp.lstm_forget_bias:
        name += say(f" (forget bias + {cmp.lstm_forget_bias:g})",
                    f" (biais d'oubli + {cmp.lstm_forget_bias:g})", lang)
    return name


def lstm_gates_figure(layer=None, x=None, lang=None, seed=0) -> Figure:
    """Heatmaps of the LSTM gates i_t, f_t, C̃_t, o_t (one row per unit) over a sequence (by
    default a seeded random LSTM(1, 6) on a noisy sine)."""
    from .cells import make_cell
    from .layers import LSTM
    from .sequence import unroll

    rng = np.random.default_rng(seed)
    if layer is None:
        layer = LSTM(1, 6, dtype=np.float64, rng=rng)
        for key in ("weight_ih_l0", "weight_hh_l0"):
            layer.params[key] *= 3.0  # a livelier picture than PyTorch's small initial weights
    if x is None:
        t = np.arange(40)
        x = (np.sin(t / 3.0) + 0.2 * rng.normal(size=40)).reshape(40, 1)
    x = np.asarray(x, dtype=np.float64).reshape(len(x), 1, -1)
    p = {k: np.asarray(v, np.float64) for k, v in layer.params.items()}
    H = layer.hidden_size
    _, _, tape = unroll(make_cell("lstm"), x, (np.zeros((1, H)), np.zeros((1, H))), p["weight_ih_l0"],
                        p["weight_hh_l0"], p.get("bias_ih_l0"), p.get("bias_hh_l0"))
    gates = np.stack([c["gates"][0] for c in tape.caches])  # (T, 4H), in the registry's gate order
    fig = _figure(9, 7.5)
    axes = fig.subplots(5, 1, sharex=True, height_ratios=[1, 2, 2, 2, 2])
    axes[0].plot(x[:, 0, 0], color="k")
    axes[0].set_ylabel("x_t")
    names = [("i_t", say("input gate", "porte d'entrée", lang), "i", (0, 1)),
             ("f_t", say("forget gate", "porte d'oubli", lang), "f", (0, 1)),
             ("C̃_t", say("candidate", "candidat", lang), "g", (-1, 1)),
             ("o_t", say("output gate", "porte de sortie", lang), "o", (0, 1))]
    for ax, (sym, label, gate, (lo, hi)) in zip(axes[1:], names):
        im = ax.imshow(gates[:, cells.get("lstm").gate_rows(gate, H)].T, aspect="auto",
                       cmap="viridis" if lo == 0 else "coolwarm",
                       vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_ylabel(f"{sym}\n{label}", fontsize=9)
        ax.set_yticks(range(H), [str(u + 1) for u in range(H)], fontsize=7)
        fig.colorbar(im, ax=ax, pad=0.01)
    spacer = fig.colorbar(im, ax=axes[0], pad=0.01)
    spacer.ax.set_visible(False)  # keeps the input's axis as wide as the heatmaps below
    axes[-1].set_xlabel("t")
    fig.suptitle(say(f"LSTM gate activations over a sequence (H = {H}; one row per unit)",
                     f"Activations des portes du LSTM sur une séquence (H = {H} ; une ligne par unité)",
                     lang))
    return fig


# --- TD: the unrolled computational graph --------------------------------------------------


def unrolled_graph_figure(xs=(1.0, 0.5), U=0.5, w=0.8, lang=None) -> Figure:
    """The TD's graph w_0 … w_n for h_t = tanh(U x_t + w h_{t−1}), with values, the local
    derivative on every edge and the adjoints w̄_i = ∂h_{T−1}/∂w_i under each node."""
    from .tape import elman_scalar_graph

    if not 1 <= len(xs) <= 4:
        raise ConfigError(say(f"unrolled graph: expected 1 to 4 inputs for a readable drawing, got {len(xs)}",
                              f"graphe déroulé : de 1 à 4 entrées attendues pour un dessin lisible, "
                              f"reçu {len(xs)}", lang))
    tape, hs = elman_scalar_graph(xs, U, w)
    tape.backward(hs[-1])
    nodes = list(tape.nodes)
    pos = _elman_layout(nodes)
    T = len(xs)
    fig = _figure(3.0 + 2.6 * T, 6.8)
    ax = fig.add_subplot()
    for n in nodes:
        for k, p in enumerate(n.parents):
            if p.index is None and p.label:  # the named constant w: a grey copy above its use
                x1, y1 = pos[id(n)]
                pos_p = (x1, y1 + 1.25)
                ax.text(*pos_p, f"{p.label} = {p.data:.4g}\n" + say("(constant)", "(constante)", lang),
                        ha="center", va="center", fontsize=7.5,
                        bbox=dict(boxstyle="round,pad=0.3", fc="#f2f2f2", ec="0.5"))
            elif id(p) in pos:
                pos_p = pos[id(p)]
            else:
                continue  # a plain number
            (x0, y0), (x1, y1) = pos_p, pos[id(n)]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", color="0.45", lw=1.0, shrinkA=22, shrinkB=22))
            rule = n.rules[k].format(*(("w_%d" % q.index) if q.index is not None
                                       else (q.label or f"{q.data:g}") for q in n.parents),
                                     out=f"w_{n.index}")
            ax.text(0.35 * x0 + 0.65 * x1, 0.35 * y0 + 0.65 * y1, rule, fontsize=7.5, color="tab:purple",
                    ha="center", va="center",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.9))
    for n in nodes:
        x, y = pos[id(n)]
        text = f"w_{n.index}\n{n.label}\n= {n.data:.4g}"
        face = "#d9ead3" if n is hs[-1] else ("#dbe9f6" if n.parents else "#fff2cc")
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.4", fc=face, ec="0.3"))
        adjoint = f"w̄_{n.index} = {n.grad:.4g}"
        if (n.label or "").startswith("h_"):  # above h_t: its right side is taken by the edge to w h_t
            ax.text(x, y + 0.45, adjoint, ha="center", va="bottom", fontsize=7.5, color="tab:red")
        elif n.label == "U":  # below U: its right side is taken by the edges to U x_t
            ax.text(x, y - 0.45, adjoint, ha="center", va="top", fontsize=7.5, color="tab:red")
        else:
            ax.text(x + 0.42, y, adjoint, ha="left", va="center", fontsize=7.5, color="tab:red")
    xs_all = [p[0] for p in pos.values()]
    ys_all = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs_all) - 0.8, max(xs_all) + 1.6)
    ax.set_ylim(min(ys_all) - 0.9, max(ys_all) + 1.9)
    ax.axis("off")
    ax.set_title(say(f"Computational graph of h_{len(xs) - 1} (TD): U = {U:g}, w = {w:g}, x = {list(xs)}; "
                     f"red: adjoints w̄_i = ∂h_{len(xs) - 1}/∂w_i, purple: local derivatives",
                     f"Graphe de calcul de h_{len(xs) - 1} (TD) : U = {U:g}, w = {w:g}, x = {list(xs)} ; "
                     f"rouge : adjoints w̄_i = ∂h_{len(xs) - 1}/∂w_i, violet : dérivées locales", lang),
                 fontsize=9)
    return fig


def _elman_layout(nodes):
    """Positions for the nodes of :func:`rnnlab.tape.elman_scalar_graph`, one column per
    time step: x_t at the bottom, then U x_t, (w h_{t−1} to the left,) z_t, and h_t on top;
    U at the far left."""
    pos = {}
    for n in nodes:
        label = n.label or ""
        kind, _, t = label.rpartition("_")
        t = int(t) if t.isdigit() else 0
        col = 2.6 * t
        if label == "U":
            pos[id(n)] = (-1.6, 0.4)
        elif kind == "x":
            pos[id(n)] = (col, 0.0)
        elif kind == "U x":
            pos[id(n)] = (col, 1.5)
        elif kind == "w h":
            pos[id(n)] = (col + 1.3, 3.6)  # label w h_{t−1}: between h_{t−1} and z_t
        elif kind == "z":
            pos[id(n)] = (col, 3.0)
        elif kind == "h":
            pos[id(n)] = (col, 4.5)
        else:
            raise ConfigError(say(f"unrolled graph: unexpected node label {label!r}",
                                  f"graphe déroulé : étiquette de nœud inattendue « {label} »"))
    return pos


# --- the registry behind ``rnnlab plot`` ---------------------------------------------------------

FIGURES = {
    "tanh": (tanh_figure, "tanh and tanh' (Chapitre)", "tanh et tanh' (Chapitre)"),
    "sigmoid": (sigmoid_figure, "sigmoid and σ' with the 0.25 bound (Cours)", "sigmoïde et σ' avec la borne "
    "0,25 (Cours)"),
    "sigmoid-chain": (sigmoid_chain_figure, "gradient through a chain of sigmoids (Cours)", "gradient à "
    "travers une chaîne de sigmoïdes (Cours)"),
    "hidden-states": (hidden_states_figure, "h_t over time, ex. 1.1 question 3 (TP)", "h_t au cours du "
    "temps, ex. 1.1 question 3 (TP)"),
    "exercise-1-2": (exercise_1_2_figure, "ex. 1.2: gradient product after n steps (TP)", "ex. 1.2 : produit "
    "des gradients après n pas (TP)"),
    "spectral-radius": (spectral_radius_figure,
                        "gradient norm vs distance for spectral radii below, at, above 1",
                        "norme du gradient selon la distance, rayons spectraux sous, à et au-dessus de 1"),
    "cell-comparison": (cell_comparison_figure,
                        "RNN vs LSTM vs GRU gradient decay, before and after training",
                        "décroissance du gradient RNN, LSTM, GRU, avant et après entraînement"),
    "lstm-gates": (lstm_gates_figure, "LSTM gate activations over a sequence (heatmap)",
                   "activations des portes du LSTM sur une séquence (carte de chaleur)"),
    "unrolled-graph": (unrolled_graph_figure, "the unrolled computational graph of the TD with adjoints",
                       "le graphe de calcul déroulé du TD avec les adjoints"),
}


def make_figure(name, lang=None, **options) -> Figure:
    """The figure called ``name`` (a key of :data:`FIGURES`)."""
    if name not in FIGURES:
        raise ConfigError(say(f"figure: expected one of {', '.join(FIGURES)}, got {name!r}",
                              f"figure : attendu l'une de {', '.join(FIGURES)}, reçu {name!r}", lang))
    return FIGURES[name][0](lang=lang, **options)


__all__ = ["FIGURES", "make_figure", "save_figure", "check_figure_path", "tanh_figure", "sigmoid_figure",
           "sigmoid_chain_figure", "hidden_states_figure", "exercise_1_1_states", "exercise_1_2_figure",
           "linearised_figure", "spectral_radius_figure", "gradient_profile_figure", "cell_comparison_figure",
           "lstm_gates_figure", "unrolled_graph_figure"]
