"""``rnnlab exercise``: the course's exercises solved step by step (list, or one by ID)."""

from __future__ import annotations

import os

from ..i18n import say


def register(subparsers):
    p = subparsers.add_parser(
        "exercise", help=say("the course's exercises, solved step by step",
                             "les exercices du cours, résolus pas à pas"),
        description=say("Solve an exercise of the course's documents (TP, Cours, TD, Notebook, Chapitre) "
                        "with every step shown. 'list' shows the IDs; 'errata' collects every place where "
                        "the documents' numbers or code are wrong, found by the exercises.",
                        "Résout un exercice des documents du cours (TP, Cours, TD, Notebook, Chapitre) en "
                        "montrant chaque étape. « list » donne les identifiants ; « errata » rassemble les "
                        "endroits où les nombres ou le code des documents sont faux, relevés par les "
                        "exercices."))
    p.add_argument("id", metavar="ID",
                   help=say("exercise ID (see 'rnnlab exercise list'), 'list' or 'errata'",
                            "identifiant (voir « rnnlab exercise list »), « list » ou « errata »"))
    add_output_options(p)
    p.set_defaults(run=run)


def add_output_options(p):
    from ._options import precision_int

    p.add_argument("--format", default="text", choices=("text", "md", "latex", "json", "html"),
                   help=say("output format (default: text)", "format de sortie (par défaut : text)"))
    p.add_argument("--precision", type=precision_int, default=4,
                   help=say("decimals shown (default: 4)", "décimales affichées (par défaut : 4)"))
    p.add_argument("--out", metavar="FILE",
                   help=say("write to FILE (figures beside it) instead of the terminal",
                            "écrire dans FICHIER (figures à côté) au lieu du terminal"))
    p.add_argument("--figures", metavar="DIR", help=say("directory for the figures (PNG and SVG)",
                                                        "dossier des figures (PNG et SVG)"))


def emit(doc, args) -> None:
    """Render ``doc`` in ``args.format`` and print it or write it atomically to ``args.out``."""
    from ..checkpoint import atomic_write
    from ..trace.render import render

    figure_dir, stem = args.figures, None
    if args.out:
        stem = os.path.splitext(os.path.basename(args.out))[0]
        figure_dir = figure_dir or (os.path.dirname(os.path.abspath(args.out)))
    text = render(doc, args.format, figure_dir=figure_dir, figure_stem=stem)
    if not args.out:
        print(text, end="")
        return
    atomic_write(args.out, text)
    print(say(f"wrote {args.out}", f"écrit : {args.out}"))


def run(args) -> int:
    from ..trace.presets import PRESETS, build, errata

    if args.id == "list":
        from rich.console import Console
        from rich.table import Table as RichTable

        table = RichTable(title=say("Exercises", "Exercices"))
        for col in ("ID", say("document", "document"), say("what it solves", "ce qu'il résout")):
            table.add_column(col)
        for p in PRESETS.values():
            table.add_row(p.id, p.source, p.title)
        Console(width=120).print(table)
        print(say("Run one: rnnlab exercise ID [--format text|md|latex|json|html] [--precision N] "
                  "[--lang fr|en] [--out FILE]",
                  "Lancer : rnnlab exercise ID [--format text|md|latex|json|html] [--precision N] "
                  "[--lang fr|en] [--out FICHIER]"))
        return 0
    if args.id == "errata":
        emit(errata(args.precision), args)
        return 0
    emit(build(args.id, args.precision), args)
    return 0
