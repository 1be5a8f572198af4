"""``rnnlab trace CONFIG``: trace your own cell, weights and inputs step by step."""

from __future__ import annotations

import argparse

from ..i18n import say
from .exercise import add_output_options, emit


# the French of the keys that rnnlab.trace.config's docstring lists (``*`` = required)
KEYS_FR = """\
    cell*          une cellule enregistrée : « rnn », « lstm », « gru »… (rnnlab.cells.names())
    notation       « course » (par défaut) ou « pytorch » (la seule pour une cellule sans crochets de
                   trace : sa trace donne les grandeurs du pas sans les calculs substitués)
    input_size     facultatif, vérifié d'après les poids
    hidden_size    facultatif, vérifié d'après les poids
    options        RNN `{"nonlinearity": "tanh" | "relu"}` ; GRU `{"reset": "before" | "after"}`
                   (le GRU du cours est « before », le choix par défaut de la notation « course »)
    weights*       notation « course » :
                     RNN W_xh (H, D), W_hh (H, H), b_h (H)
                     LSTM W_f, W_i, W_C, W_o (H, H + D) sur [h_{t-1}, x_t] ; b_f, b_i, b_C, b_o (H)
                     GRU W_z, W_r, W (H, H + D) ; b_z, b_r, b (H)
                     (le z du cours : h = (1 − z) h_prev + z h̃)
                   notation « pytorch » :
                     weight_ih (G·H, D), weight_hh (G·H, H), bias_ih, bias_hh (G·H) (biais facultatifs),
                     portes empilées comme dans PyTorch (LSTM i, f, g, o ; GRU r, z, n)
    inputs*        la séquence x_1 … x_T : une liste de T listes de D nombres (ou de T nombres si D = 1)
    initial_state  `{"h": [H nombres], "C": [H nombres]}` (C pour le LSTM) ; des zéros par défaut
    output         RNN seulement : `{"W_hy": (K, H), "b_y": (K), "softmax": false}`
    upstream       `{"h": {"1": [H nombres], …}, "y": {"3": [K nombres]}, "C_final": [H nombres]}`,
                   et une perte sur y_t (RNN avec « output ») :
                     `"loss": {"type": "mse", "targets": {"3": [K nombres]}}`
                     ou `"loss": {"type": "cross_entropy", "targets": {"3": indice de classe}}` ;
                   donne ∂L/∂h_t (ou ∂L/∂y_t) aux pas t = 1 … T choisis et demande la trace arrière
    title          facultatif : le titre de la page

Partir de ``rnnlab trace --example lstm > mine.json``, le modifier, puis lancer
``rnnlab trace mine.json [--format html --out mine.html]``. En TOML, les mêmes clés sont des tables
(``[weights]``, ``[upstream.h]`` avec des clés ``"1" = [0.1]``).
"""


def register(subparsers):
    from ..trace import config

    p = subparsers.add_parser(
        "trace", help=say("trace your own cell step by step (JSON/TOML/YAML config)",
                          "tracer votre propre cellule pas à pas (configuration JSON/TOML/YAML)"),
        description=say("Run a cell on your weights and inputs and show every intermediate with the numbers "
                        "substituted; with 'upstream' gradients, the backward pass too. "
                        "'rnnlab trace --example lstm' prints a complete config to start from.",
                        "Fait tourner une cellule sur vos poids et entrées et montre chaque grandeur avec "
                        "les nombres substitués ; avec des gradients venus d'en aval (« upstream »), la "
                        "passe arrière "
                        "aussi. « rnnlab trace --example lstm » affiche une configuration complète pour "
                        "commencer."),
        epilog=say("Config format:\n" + config.__doc__.split("Keys", 1)[1].split("\n", 1)[1],
                   "Format du fichier de configuration :\n\n" + KEYS_FR),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", metavar="CONFIG",
                   help=say("the config file (.json, .toml, .yaml)",
                            "le fichier de configuration (.json, .toml, .yaml)"))
    p.add_argument("--example", choices=config.example_cells(),
                   help=say("print a complete example config for this cell (JSON) and exit",
                            "afficher un exemple complet de configuration pour cette cellule (JSON) et "
                            "quitter"))
    add_output_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import ConfigError
    from ..trace import config
    from ..trace.document import Document, TraceBlock

    if args.example:
        print(config.dump_config(config.example(args.example)))
        return 0
    if not args.config:
        examples = "|".join(config.example_cells())
        raise ConfigError(say(f"trace: expected a CONFIG file (or --example {examples})",
                              f"trace : il faut un fichier CONFIG (ou --example {examples})"))
    if not 0 <= args.precision <= 15:
        raise ConfigError(say(f"--precision: expected an integer between 0 and 15, got {args.precision}",
                              f"--precision : entier entre 0 et 15 attendu, reçu {args.precision}"))
    cfg = config.read_config(args.config)
    trace = config.trace_from_config(cfg, args.config)
    from ..i18n import language

    title = cfg.get("title") or say(f"Trace of {args.config}", f"Trace de {args.config}")
    doc = Document("trace", str(title), precision=args.precision, lang=language())
    doc.add(TraceBlock(trace))
    emit(doc, args)
    return 0
