"""``rnnlab plot NAME --out FILE``: the course's figures (``rnnlab plot list`` names them)."""

from __future__ import annotations

import sys

from ..errors import ConfigError
from ..i18n import language, say


def register(subparsers):
    p = subparsers.add_parser(
        "plot", help=say("draw one of the course's figures (PNG or SVG)",
                         "tracer l'une des figures du cours (PNG ou SVG)"),
        description=say("Draw a figure by name; 'rnnlab plot list' shows the names.",
                        "Trace une figure par son nom ; « rnnlab plot list » donne les noms."))
    p.add_argument("name", metavar="NAME", help=say("figure name, or 'list'",
                                                    "nom de la figure, ou « list »"))
    p.add_argument("--out", metavar="FILE", help=say("output file, .png or .svg (default NAME.png)",
                                                     "fichier de sortie, .png ou .svg (défaut NOM.png)"))
    p.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console

    from ..plots import FIGURES, check_figure_path, make_figure, save_figure

    console = Console(width=110, highlight=False)
    if args.name == "list":
        from rich.table import Table

        table = Table(title=say("figures of rnnlab plot", "figures de rnnlab plot"))
        table.add_column(say("name", "nom"))
        table.add_column(say("what it shows", "ce qu'elle montre"))
        for name, (_, en, fr) in FIGURES.items():
            table.add_row(name, fr if language() == "fr" else en)
        console.print(table)
        return 0
    if args.name not in FIGURES:
        raise ConfigError(say(f"figure: expected one of {', '.join(FIGURES)} (or 'list'), got {args.name!r}",
                              f"figure : l'une de {', '.join(FIGURES)} (ou « list ») attendue, "
                              f"reçu « {args.name} »"))
    out = check_figure_path(args.out or f"{args.name}.png")
    if args.name == "cell-comparison":
        print(say("training RNN, LSTM and GRU on the recall task (a few seconds)…",
                  "entraînement du RNN, du LSTM et du GRU sur la tâche de rappel (quelques secondes)…"),
              file=sys.stderr)
    path = save_figure(make_figure(args.name), out)
    console.print(say(f"wrote {path}", f"écrit : {path}"))
    return 0
