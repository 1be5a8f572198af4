"""``rnnlab trace CONFIG``: trace your own cell, weights and inputs step by step."""

from __future__ import annotations

import argparse

from ..i18n import say
from .exercise import add_output_options, emit


def register(subparsers):
    from ..trace import config

    p = subparsers.add_parser(
        "trace", help=say("trace your own cell step by step (JSON/TOML/YAML config)",
                          "tracer votre propre cellule pas à pas (config JSON/TOML/YAML)"),
        description=say("Run a cell on your weights and inputs and show every intermediate with the numbers "
                        "substituted; with 'upstream' gradients, the backward pass too. "
                        "'rnnlab trace --example lstm' prints a complete config to start from.",
                        "Fait tourner une cellule sur vos poids et entrées et montre chaque grandeur avec "
                        "les nombres substitués ; avec des gradients « upstream », la passe arrière aussi. "
                        "« rnnlab trace --example lstm » affiche une config complète pour commencer."),
        epilog=(say("Config format:", "Format de la config :") + "\n"
                + config.__doc__.split("Keys", 1)[1].split("\n", 1)[1]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", metavar="CONFIG",
                   help=say("the config file (.json, .toml, .yaml)",
                            "le fichier de config (.json, .toml, .yaml)"))
    p.add_argument("--example", choices=config.example_cells(),
                   help=say("print a complete example config for this cell (JSON) and exit",
                            "afficher un exemple complet de config pour cette cellule (JSON) et quitter"))
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
        raise ConfigError(f"--precision: expected an integer between 0 and 15, got {args.precision}")
    cfg = config.read_config(args.config)
    trace = config.trace_from_config(cfg, args.config)
    from ..i18n import language

    title = cfg.get("title") or say(f"Trace of {args.config}", f"Trace de {args.config}")
    doc = Document("trace", str(title), precision=args.precision, lang=language())
    doc.add(TraceBlock(trace))
    emit(doc, args)
    return 0
