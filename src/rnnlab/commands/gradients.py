"""``rnnlab gradients``: how far back does the gradient reach? (TP §1.2, Chapitre)

Three uses::

    rnnlab gradients --exercise                       # TP ex. 1.2 answered, question by question
    rnnlab gradients --matrix "0.8,0.1;-0.1,0.8" --slope 0.9
    rnnlab gradients --cell lstm --hidden 8 --steps 40 [--spectral-radius 1.1 | --weights FILE]
                     [--plot FILE]

The last one measures the exact ‖∂s_T/∂s_t‖ of a layer (random, or loaded from a safetensors
or .npz file; never a pickle) on random inputs, from the core's own backward.
"""

from __future__ import annotations

import math

import numpy as np

from .. import cells
from ..errors import ConfigError
from ..i18n import integer, say
from ._tables import number_column


def register(subparsers):
    from ._options import finite_float, natural_float, natural_int, positive_float, positive_int

    p = subparsers.add_parser(
        "gradients", help=say("gradient flow through time: Jacobian norms, spectra, TP ex. 1.2",
                              "flux du gradient dans le temps : normes des jacobiennes, spectres, "
                              "TP ex. 1.2"),
        description=say("Measure how the gradient ∂s_T/∂s_t shrinks or grows with the distance T − t.",
                        "Mesure comment le gradient ∂s_T/∂s_t diminue ou croît avec la distance T − t."))
    p.add_argument("--exercise", action="store_true", help=say("answer ex. 1.2 of the TP", "répondre à l'ex. "
                   "1.2 du TP"))
    p.add_argument("--matrix", metavar="W_HH",
                   help=say('linearised view of a given W_hh, rows separated by ";" '
                            '(e.g. "0.8,0.1;-0.1,0.8")',
                            'vue linéarisée d\'une W_hh donnée, lignes séparées par « ; » '
                            '(ex. « 0.8,0.1;-0.1,0.8 »)'))
    p.add_argument("--slope", type=finite_float, default=0.9,
                   help=say("tanh' assumed by the linearised view (default 0.9)",
                            "tanh' supposée par la vue linéarisée (défaut 0,9)"))
    p.add_argument("--cell", choices=cells.names(), default=None,
                   help=say("cell (default rnn, or the weights file's)",
                            "cellule (défaut rnn, ou celle du fichier de poids)"))
    p.add_argument("--hidden", type=positive_int, default=8,
                   help=say("hidden size (default 8)", "taille de l'état caché (défaut 8)"))
    p.add_argument("--steps", type=positive_int, default=30,
                   help=say("sequence length T (default 30)", "longueur de séquence T (défaut 30)"))
    group = p.add_mutually_exclusive_group()
    group.add_argument("--spectral-radius", type=natural_float, default=None,
                       help=say("RNN only: rescale W_hh to this spectral radius",
                                "RNN seulement : remettre W_hh à ce rayon spectral"))
    group.add_argument("--weights", metavar="FILE",
                       help=say("weights in .safetensors or .npz, keyed like PyTorch (weight_hh_l0, …)",
                                "poids en .safetensors ou .npz, nommés comme PyTorch (weight_hh_l0, …)"))
    p.add_argument("--level", type=natural_int, default=0,
                   help=say("level of a stacked layer (default 0)",
                            "niveau d'une pile de couches (défaut 0)"))
    p.add_argument("--input-scale", type=positive_float, default=1.0,
                   help=say("standard deviation of the random inputs (default 1)",
                            "écart type des entrées aléatoires (défaut 1)"))
    p.add_argument("--batch", type=positive_int, default=4,
                   help=say("random sequences averaged (default 4)",
                            "séquences aléatoires moyennées (défaut 4)"))
    p.add_argument("--norm", choices=["2", "fro", "max"], default="2",
                   help=say("matrix norm (default 2: spectral)", "norme matricielle (défaut 2 : spectrale)"))
    p.add_argument("--threshold", type=positive_float, default=0.01,
                   help=say("threshold for 'steps until below' (default 0.01)",
                            "seuil pour « pas avant de passer sous » (défaut 0,01)"))
    p.add_argument("--seed", type=natural_int, default=0, help=say("random seed", "graine aléatoire"))
    p.add_argument("--plot", metavar="FILE",
                   help=say("also draw the figure (.png or .svg)", "tracer aussi la figure (.png ou .svg)"))
    p.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console

    console = Console(width=110)
    if args.plot:
        from ..plots import check_figure_path

        check_figure_path(args.plot)
    if args.exercise:
        return _exercise(args, console)
    if args.matrix is not None:
        return _matrix(args, console)
    return _layer(args, console)


def _fmt(v, digits=4):
    return "—" if v is None else f"{v:.{digits}g}"


def _complex(z):
    return (f"{z.real:.4g}" if abs(z.imag) < 1e-12
            else f"{z.real:.4g} {'+' if z.imag >= 0 else '−'} {abs(z.imag):.4g}i")


def _norm_name(ord_):
    return {"2": say("spectral ‖·‖₂", "spectrale ‖·‖₂"), "fro": "Frobenius ‖·‖_F",
            "max": say("max entry", "coef. max")}[ord_]


# --- ex. 1.2 ----------------------------------------------------------------------------------


def _exercise(args, console) -> int:
    from rich.table import Table

    from ..course import exercise_1_2

    ex = exercise_1_2(threshold=args.threshold)
    f = ex.flow
    console.print(say("[bold]TP, ex. 1.2[/bold]: ∂h_t/∂h_{t-1} = diag(1 − tanh²(z_t)) × W_hh, "
                      "W_hh = [[0.8, 0.1], [−0.1, 0.8]], tanh' ≈ 0.9",
                      "[bold]TP, ex. 1.2[/bold] : ∂h_t/∂h_{t-1} = diag(1 − tanh²(z_t)) × W_hh, "
                      "W_hh = [[0.8, 0.1], [−0.1, 0.8]], tanh' ≈ 0.9"))
    console.print(say(f"eigenvalues of W_hh: {', '.join(_complex(z) for z in f.W_eigenvalues)} "
                      f"(modulus {f.W_spectral_radius:.6f})",
                      f"valeurs propres de W_hh : {', '.join(_complex(z) for z in f.W_eigenvalues)} "
                      f"(module {f.W_spectral_radius:.6f})"))
    console.print(say(f"one step J = 0.9 W_hh: spectral radius ρ = {f.spectral_radius:.6f}, "
                      f"spectral norm ‖J‖₂ = {f.spectral_norm:.6f}"
                      " (equal: W_hh is a scaled rotation)",
                      f"un pas J = 0.9 W_hh : rayon spectral ρ = {f.spectral_radius:.6f}, "
                      f"norme spectrale ‖J‖₂ = {f.spectral_norm:.6f}"
                      " (égaux : W_hh est une rotation mise à l'échelle)"))
    table = Table(title=say("Q1: size of the product J^n after n steps",
                            "Q1 : taille du produit J^n après n pas"))
    table.add_column("n", justify="right")
    for o in ex.norms:
        table.add_column(_norm_name(o), justify="right")
    table.add_column("ρⁿ", justify="right")
    for k, n in enumerate(ex.steps):
        table.add_row(str(n), *(f"{ex.norms[o][k]:.6f}" for o in ex.norms), f"{f.spectral_radius ** n:.6f}")
    console.print(table)
    spec = ", ".join(f"{n} → {v:.4f}" for n, v in zip(ex.steps, ex.norms["2"]))
    console.print(say(f"Answer in the spectral norm (the most a gradient vector can be scaled by): {spec}; "
                      "the Frobenius norm is √2 times larger here, the largest entry oscillates "
                      "with the rotation.",
                      f"Réponse en norme spectrale (le plus grand facteur appliqué à un vecteur "
                      f"gradient) : {spec} ; la norme de Frobenius est ici √2 fois plus grande, "
                      "le plus grand coefficient oscille avec la rotation."))
    below = ", ".join(f"{_norm_name(o)}{say(':', ' :')} n = {_fmt(v)}" for o, v in ex.steps_below.items())
    console.print(say(f"Q2: first n with ‖J^n‖ < {ex.threshold:g} — {below}",
                      f"Q2 : premier n avec ‖J^n‖ < {ex.threshold:g} — {below}"))
    q3 = Table(title=say("Q3: W_hh rescaled so that |λ| > 1",
                         "Q3 : W_hh remise à l'échelle pour que |λ| > 1"))
    for col in ("|λ(W_hh)|", "ρ(0.9 W_hh)", say("n: ‖J^n‖₂ > 100", "n : ‖J^n‖₂ > 100"),
                say(f"n: ‖J^n‖₂ < {ex.threshold:g}", f"n : ‖J^n‖₂ < {ex.threshold:g}")):
        q3.add_column(col, justify="right")
    for radius, flow in ex.larger.items():
        q3.add_row(f"{radius:g}", f"{flow.spectral_radius:.4f}", _fmt(flow.steps_above(100.0)),
                   _fmt(flow.steps_below(ex.threshold)))
    console.print(q3)
    console.print(say("With tanh' ≈ 0.9 the gradient grows only when 0.9 |λ| > 1, i.e. |λ| > 1.11: "
                      "then ‖J^n‖ ~ (0.9|λ|)^n explodes (in practice tanh saturates, tanh' falls and "
                      "the explosion is bounded by the saturation).",
                      "Avec tanh' ≈ 0.9 le gradient ne croît que si 0.9 |λ| > 1, soit |λ| > 1.11 : "
                      "alors ‖J^n‖ ~ (0.9|λ|)^n explose (en pratique tanh sature, tanh' diminue et "
                      "la saturation borne l'explosion)."))
    if args.plot:
        from ..plots import exercise_1_2_figure, save_figure

        path = save_figure(exercise_1_2_figure(), args.plot)
        console.print(say(f"wrote {path}", f"écrit : {path}"))
    return 0


# --- a given W_hh -------------------------------------------------------------------------------


def parse_matrix(text: str) -> np.ndarray:
    """``"0.8,0.1;-0.1,0.8"`` (or ``[[0.8, 0.1], [-0.1, 0.8]]``) -> a square float64 array."""
    cleaned = (text.strip().replace("[[", "").replace("]]", "").replace("],", ";")
               .replace("[", "").replace("]", ""))
    try:
        rows = [[float(v) for v in row.replace(" ", ",").split(",") if v]
                for row in cleaned.split(";") if row.strip()]
    except ValueError:
        raise ConfigError(say(f"--matrix {text!r}: expected numbers, rows separated by ';'",
                              f"--matrix « {text} » : nombres attendus, lignes séparées par « ; »")) from None
    if not rows or any(len(r) != len(rows) for r in rows):
        raise ConfigError(say(f"--matrix {text!r}: expected a square matrix, "
                              f"got rows of lengths {[len(r) for r in rows]}",
                              f"--matrix « {text} » : matrice carrée attendue, "
                              f"lignes de longueurs {[len(r) for r in rows]}"))
    if not all(math.isfinite(v) for row in rows for v in row):
        raise ConfigError(say(f"--matrix {text!r}: expected finite numbers, got NaN or infinity",
                              f"--matrix {text!r} : nombres finis attendus, reçu NaN ou l'infini"))
    return np.array(rows)


def _matrix(args, console) -> int:
    from rich.table import Table

    from ..analysis import linearised_flow, matrix_norm

    if args.plot and args.steps > PLOTTED_STEPS:
        most = integer(PLOTTED_STEPS)
        raise ConfigError(say(f"--steps {args.steps}: --plot draws every n up to --steps; expected at most "
                              f"{most} with --plot",
                              f"--steps {integer(args.steps)} : --plot trace chaque n jusqu'à --steps ; "
                              f"au plus {most} attendus avec --plot"))
    flow = linearised_flow(parse_matrix(args.matrix), args.slope)
    console.print(say(f"eigenvalues of W_hh: {', '.join(_complex(z) for z in flow.W_eigenvalues)}",
                      f"valeurs propres de W_hh : {', '.join(_complex(z) for z in flow.W_eigenvalues)}"))
    console.print(say(f"J = diag({args.slope:g}) W_hh: spectral radius ρ = {flow.spectral_radius:.6g}, "
                      f"spectral norm ‖J‖₂ = {flow.spectral_norm:.6g}",
                      f"J = diag({args.slope:g}) W_hh : rayon spectral ρ = {flow.spectral_radius:.6g}, "
                      f"norme spectrale ‖J‖₂ = {flow.spectral_norm:.6g}"))
    table = Table(title=say("‖J^n‖ after n steps", "‖J^n‖ après n pas"))
    number_column(table, "n")
    for o in ("2", "fro", "max"):
        table.add_column(_norm_name(o), justify="right")
    shown = _distances(args.steps)  # J^n by repeated squaring: log n products each, whatever --steps
    values = {o: {n: matrix_norm(flow.power(n), o) for n in shown} for o in ("2", "fro", "max")}
    for n in shown:
        table.add_row(integer(n), *(f"{values[o][n]:.4e}" for o in values))
    console.print(table)
    for o in values:
        console.print(say(f"{_norm_name(o)}: below {args.threshold:g} "
                          f"from n = {_fmt(flow.steps_below(args.threshold, o))}, "
                          f"above 100 from n = {_fmt(flow.steps_above(100.0, o))}",
                          f"{_norm_name(o)} : sous {args.threshold:g} "
                          f"dès n = {_fmt(flow.steps_below(args.threshold, o))}, "
                          f"au-dessus de 100 dès n = {_fmt(flow.steps_above(100.0, o))}"))
    if args.plot:
        from ..plots import linearised_figure, save_figure

        path = save_figure(linearised_figure(flow, (), args.threshold, n_max=args.steps), args.plot)
        console.print(say(f"wrote {path}", f"écrit : {path}"))
    return 0


PLOTTED_STEPS = 100_000  # the linearised figure computes ‖J^n‖ for every n ≤ --steps


def _distances(T):
    picks = sorted({d for d in (0, 1, 2, 3, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, T)
                    if d <= T})
    return picks


# --- a layer -------------------------------------------------------------------------------------


def _layer(args, console) -> int:
    from rich.table import Table

    from ..analysis import jacobians_bytes, linearised_flow, rnn_with_spectral_radius, state_jacobians
    from ..layers import make_layer
    from ..memory import require
    from ..weights import layer_from_weights, load_weights

    if not args.weights:  # a weights file's layer is checked by its size once read
        require(jacobians_bytes(args.cell or "rnn", 1, args.hidden, args.steps, args.batch),
                say(f"the Jacobians of H = {args.hidden} over T = {args.steps}",
                    f"les jacobiennes pour H = {integer(args.hidden)} sur T = {integer(args.steps)}"),
                say("--hidden, --steps or --batch", "--hidden, --steps ou --batch"))
    rng = np.random.default_rng(args.seed)
    if args.weights:
        layer = layer_from_weights(load_weights(args.weights), args.weights, args.cell)
        source = args.weights
    elif args.spectral_radius is not None:
        if (args.cell or "rnn") != "rnn":
            raise ConfigError(say(f"--spectral-radius: applies to --cell rnn (W_hh square), "
                                  f"got --cell {args.cell}",
                                  f"--spectral-radius : s'applique à --cell rnn (W_hh carrée), "
                                  f"reçu --cell {args.cell}"))
        layer = rnn_with_spectral_radius(args.hidden, args.spectral_radius, rng)
        source = say(f"random, ρ(W_hh) = {args.spectral_radius:g}",
                     f"aléatoire, ρ(W_hh) = {args.spectral_radius:g}")
    else:
        layer = make_layer(args.cell or "rnn", 1, args.hidden, dtype=np.float64, rng=rng)
        source = say("random, PyTorch's initialisation", "aléatoire, initialisation de PyTorch")
    x = rng.normal(0.0, args.input_scale, size=(args.steps, args.batch, layer.input_size))
    if args.level >= layer.num_layers:
        top = layer.num_layers - 1
        raise ConfigError(say(f"--level {args.level}: expected a level of the layer, 0 … {top}",
                              f"--level {args.level} : un niveau de la couche attendu, 0 … {top}"))
    jac = state_jacobians(layer, x, level=args.level)
    H = layer.hidden_size
    spec = layer.cell.spec
    name = spec.label_in()
    console.print(say(f"[bold]{name}[/bold], H = {H}, T = {args.steps}, weights: {source}; "
                      f"inputs N(0, {args.input_scale:g}²), mean over {args.batch} sequences; "
                      f"norm: {_norm_name(args.norm)}",
                      f"[bold]{name}[/bold], H = {H}, T = {args.steps}, poids : {source} ; "
                      f"entrées N(0, {args.input_scale:g}²), moyenne sur {args.batch} séquences ; "
                      f"norme : {_norm_name(args.norm)}"))
    table = Table(title=say("exact Jacobians from the cell's backward, by distance d = T − t",
                            "jacobiennes exactes par la rétropropagation de la cellule, "
                            "selon la distance d = T − t"))
    number_column(table, "d")
    cols = {}
    shown = [n.upper() if n == "c" else n for n in spec.state_names]  # the course writes C
    if len(shown) > 1:
        both = ",".join(shown)
        cols[f"‖∂({both})_T/∂({both})_t‖"] = jac.mean_norms(ord=args.norm)
    for n, sym in zip(spec.state_names, shown):
        cols[f"‖∂{sym}_T/∂{sym}_t‖"] = jac.mean_norms(n, n, args.norm)
    cols[say(f"mean {spec.direct_label}", f"moyenne {spec.direct_label}")] = jac.direct_path.mean(axis=(0, 2))
    slope = float(jac.slopes.mean())
    if spec.linear_view:  # the course's J = diag(tanh') W_hh
        flow = linearised_flow(jac.W_hh, slope)
        cols[say(f"linear ‖(diag({slope:.3g})W)^d‖",
                 f"linéaire ‖(diag({slope:.3g})W)^d‖")] = flow.norms(args.steps, args.norm)
    for name in cols:
        table.add_column(name, justify="right")
    for d in _distances(args.steps):
        table.add_row(integer(d), *(f"{v[d]:.3e}" for v in cols.values()))
    console.print(table)
    main = next(iter(cols.values()))
    below = next((d for d, v in enumerate(main) if v < args.threshold), None)
    console.print(say(f"first distance with {next(iter(cols))} < {args.threshold:g}: {_fmt(below)}",
                      f"première distance avec {next(iter(cols))} < {args.threshold:g} : {_fmt(below)}"))
    if spec.linear_view:
        console.print(say(f"W_hh: spectral radius {flow.W_spectral_radius:.4g}, spectral norm "
                          f"{np.linalg.norm(jac.W_hh, 2):.4g}; mean tanh' = {slope:.4g}, "
                          f"so one step ≈ ρ(diag(tanh') W_hh) = {flow.spectral_radius:.4g}",
                          f"W_hh : rayon spectral {flow.W_spectral_radius:.4g}, norme spectrale "
                          f"{np.linalg.norm(jac.W_hh, 2):.4g} ; tanh' moyenne = {slope:.4g}, "
                          f"donc un pas ≈ ρ(diag(tanh') W_hh) = {flow.spectral_radius:.4g}"))
    if args.plot:
        from ..plots import gradient_profile_figure, save_figure

        path = save_figure(gradient_profile_figure(jac, slope if spec.linear_view else None), args.plot)
        console.print(say(f"wrote {path}", f"écrit : {path}"))
    return 0
