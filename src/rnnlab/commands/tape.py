"""``rnnlab tape``: reverse-mode differentiation written out, as the TD's exercise 3 does it.

::

    rnnlab tape                                  # TD: ∂h_1/∂U for x = [1.0, 0.5], U = 0.5, w = 0.8
    rnnlab tape --x 0.3,-1,2 --U 0.7 --w 0.9     # h_2, and the recurrence checked
    rnnlab tape --expr "tanh(a*b) + a" --at a=0.5,b=2
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..i18n import say


def register(subparsers):
    from ._options import comma_list, digits_int, finite_float

    p = subparsers.add_parser(
        "tape", help=say("reverse-mode autodiff written out: Wengert list w_0 … w_n and adjoints (TD)",
                         "différentiation en mode inverse écrite en entier : liste w_0 … w_n et adjoints "
                         "(TD)"),
        description=say("Without --expr: the Elman RNN of the TD, h_t = tanh(U x_t + w h_{t-1}), "
                        "differentiated with respect to U, checked against the seed's formulas and the "
                        "core's BPTT.",
                        "Sans --expr : le RNN d'Elman du TD, h_t = tanh(U x_t + w h_{t-1}), dérivé par "
                        "rapport à U, vérifié avec les formules du TD et la BPTT du cœur."))
    p.add_argument("--x", type=comma_list(finite_float), default=[1.0, 0.5],
                   help=say("inputs x_0,x_1,… (default 1.0,0.5)",
                                                      "entrées x_0,x_1,… (défaut 1.0,0.5)"))
    p.add_argument("--U", type=finite_float, default=0.5, help=say("input weight U (default 0.5)",
                                                            "poids d'entrée U (défaut 0,5)"))
    p.add_argument("--w", type=finite_float, default=0.8, help=say("recurrent weight w (default 0.8)",
                                                            "poids récurrent w (défaut 0,8)"))
    p.add_argument("--w-on-tape", action="store_true",
                   help=say("record w as a leaf too (gives ∂h/∂w)",
                            "enregistrer aussi w comme feuille (donne ∂h/∂w)"))
    p.add_argument("--expr", help=say('an expression instead, e.g. "tanh(a*b) + a"',
                                      'une expression à la place, ex. « tanh(a*b) + a »'))
    p.add_argument("--at", default=None, help=say("values of its variables, e.g. a=0.5,b=2",
                                                "valeurs de ses variables, ex. a=0.5,b=2"))
    p.add_argument("--digits", type=digits_int, default=6, help=say("significant digits (default 6)",
                                                             "chiffres significatifs (défaut 6)"))
    p.set_defaults(run=run)


def _assignments(text):
    import math

    values = {}
    for part in (p for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        try:
            if not sep or not name.strip().isidentifier() or not math.isfinite(float(value)):
                raise ValueError
            values[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(say(f"--at {text!r}: expected name=value pairs separated by commas, "
                                  f"each value a finite number, got {part!r}",
                                  f"--at {text!r} : paires nom=valeur séparées par des virgules attendues, "
                                  f"chaque valeur un nombre fini, reçu {part!r}")) from None
    return values


def run(args) -> int:
    from rich.console import Console

    from ..tape import elman_dh1_dU_closed_form, elman_dh_dU, elman_scalar_graph, expression_tape

    console = Console(width=120, highlight=False)
    if args.expr is None and args.at is not None:
        raise ConfigError(say("--at: gives the variables of --expr; expected --expr too",
                              "--at : donne les variables de --expr ; --expr attendu aussi"))
    if args.expr is not None:
        tape, out = expression_tape(args.expr, _assignments(args.at or ""))
        console.print(say(f"f = {args.expr}", f"f = {args.expr}"), markup=False)
        console.print(tape.listing(digits=args.digits), markup=False)
        return 0
    xs = args.x
    if len(xs) > 5000:
        raise ConfigError(say(f"--x: expected at most 5000 inputs, got {len(xs)}",
                              f"--x : au plus 5000 entrées attendues, reçu {len(xs)}"))
    T = len(xs)
    tape, hs = elman_scalar_graph(xs, args.U, args.w, w_on_tape=args.w_on_tape)
    tape.backward(hs[-1])
    console.print(say(f"h_t = tanh(U x_t + w h_(t-1)), h_(-1) = 0; U = {args.U:g}, w = {args.w:g}, x = {xs}",
                      f"h_t = tanh(U x_t + w h_(t-1)), h_(-1) = 0 ; U = {args.U:g}, w = {args.w:g}, "
                      f"x = {xs}"),
                  markup=False)
    if T <= 12:
        console.print(tape.listing(digits=args.digits), markup=False)
    else:
        console.print(say(f"({len(tape)} nodes: listing omitted for more than 12 steps)",
                          f"({len(tape)} nœuds : liste omise au-delà de 12 pas)"), markup=False)
    _checks(console, tape, xs, args, elman_dh_dU, elman_dh1_dU_closed_form)
    if T == 2:
        console.print(say("The TD differs: it writes w_6 = w_4 w_5 and w_7 = w_3 + w_6, but its graph and "
                          "its result need w_6 = w × w_5 (w h_0) and w_7 = w_4 + w_6 (U x_1 + w h_0); it "
                          "writes w̄_7 = 1 − w̄_8 for w̄_8 (1 − w_8²) and w̄_5 = w̄_0 w_2 for w̄_6 × w. Its "
                          "final formula is right.",
                          "Le TD diffère : il écrit w_6 = w_4 w_5 et w_7 = w_3 + w_6, mais son graphe et son "
                          "résultat demandent w_6 = w × w_5 (w h_0) et w_7 = w_4 + w_6 (U x_1 + w h_0) ; il "
                          "écrit w̄_7 = 1 − w̄_8 pour "
                          "w̄_8 (1 − w_8²) et w̄_5 = w̄_0 w_2 pour w̄_6 × w. Sa formule finale est juste."),
                      markup=False)
    return 0


def _checks(console, tape, xs, args, elman_dh_dU, closed_form):
    from rich.table import Table

    from ..layers import RNN

    T = len(xs)
    tape_value = tape.node("U").grad
    _, dhs = elman_dh_dU(xs, args.U, args.w)
    rnn = RNN(1, 1, bias=False, dtype=np.float64)
    rnn.load_state_dict({"weight_ih_l0": np.array([[args.U]]), "weight_hh_l0": np.array([[args.w]])})
    _, h_n = rnn.forward(np.array(xs).reshape(T, 1, 1))
    rnn.backward(None, np.ones_like(h_n))
    rows = [(say("reverse mode on the tape (w̄_0)", "mode inverse sur la bande (w̄_0)"), tape_value),
            (say("recurrence (1 − h_t²)(x_t + w ∂h_{t−1}/∂U)", "récurrence (1 − h_t²)(x_t + w ∂h_{t−1}/∂U)"),
             dhs[-1]),
            (say("core BPTT (rnnlab.RNN, float64)", "BPTT du cœur (rnnlab.RNN, float64)"),
             float(rnn.grads["weight_ih_l0"][0, 0]))]
    if T == 2:
        rows.insert(1, (say("closed form (1 − h_1²)(x_1 + w(1 − h_0²)x_0)",
                            "forme close (1 − h_1²)(x_1 + w(1 − h_0²)x_0)"),
                        closed_form(xs[0], xs[1], args.U, args.w)))
    table = Table(title=say(f"∂h_{T - 1}/∂U, four ways" if T == 2 else f"∂h_{T - 1}/∂U, three ways",
                            f"∂h_{T - 1}/∂U, de quatre façons" if T == 2
                            else f"∂h_{T - 1}/∂U, de trois façons"))
    table.add_column(say("method", "méthode"))
    table.add_column(say("value", "valeur"), justify="right")
    table.add_column(say("relative difference to the tape", "écart relatif à la bande"), justify="right")
    for name, value in rows:
        diff = abs(value - tape_value) / max(abs(tape_value), 1e-300)
        table.add_row(name, f"{value:.{args.digits}g}", f"{diff:.1e}")
    console.print(table)
    if args.w_on_tape:
        console.print(say(f"∂h_{T - 1}/∂w: tape {tape.node('w').grad:.{args.digits}g}, "
                          f"core BPTT {float(rnn.grads['weight_hh_l0'][0, 0]):.{args.digits}g}",
                          f"∂h_{T - 1}/∂w : bande {tape.node('w').grad:.{args.digits}g}, "
                          f"BPTT du cœur {float(rnn.grads['weight_hh_l0'][0, 0]):.{args.digits}g}"),
                      markup=False)
