"""``rnnlab <command>``: a thin shell over the API.

Each command lives in a module of :mod:`rnnlab.commands` with two functions::

    register(subparsers)   # add its parser (help in the current language)
    run(args) -> int       # call the API, print, return the exit status

Commands are found by listing the package, so adding one touches no other file. Every
command ends with one of the exit statuses :data:`OK`, :data:`REFUSED`, :data:`DIVERGED`,
:data:`INTERRUPTED` (:func:`exit_statuses` says them in ``--help``): a user mistake or a file
that cannot be read or written (any :class:`~rnnlab.errors.RnnlabError`, any ``OSError``)
prints one clear line, without a traceback, and exits with status 2; a training run that
diverged exits with 3; Ctrl-C with 130, as shells expect (128 + SIGINT).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import signal
import sys

from . import commands, i18n
from .errors import RnnlabError
from .i18n import no_break_spaces, say, set_language


OK, REFUSED, DIVERGED, INTERRUPTED = 0, 2, 3, 130  # INTERRUPTED = 128 + SIGINT, as shells count


def exit_statuses() -> str:
    """The exit statuses of every command, for ``--help``."""
    return say("exit status: 0 done; 2 refused (a bad option or input, a file or folder that cannot be "
               "read or written: one line says which, nothing is overwritten); 3 a training run "
               "diverged (its last good checkpoint is kept); 130 interrupted by Ctrl-C (a training run "
               "is saved first: --resume continues it).",
               "code de sortie : 0 terminé ; 2 refusé (une option ou une entrée invalide, un fichier ou "
               "un dossier illisible ou impossible à écrire : une ligne dit lequel, rien n'est écrasé) ; "
               "3 un entraînement a divergé (son dernier point de sauvegarde valide est conservé) ; "
               "130 interrompu par Ctrl-C (un entraînement est d'abord sauvegardé : --resume le "
               "reprend).")


def _language_from_argv(argv):
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


# argparse's own words ("usage:", "options", its error messages), in French when asked.
_ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    # argparse writes "%s:" after a section's title: the title brings the space French puts there
    "positional arguments": "arguments positionnels\u00a0",
    "options": "options\u00a0",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (valeurs possibles : %(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid %(type)s value: %(value)r": "valeur %(type)s invalide : %(value)r",
    "expected one argument": "un argument attendu",
    "not allowed with argument %s": "incompatible avec l'argument %s",
}
_argparse_gettext = argparse._


def _argparse_words(text):
    return (_ARGPARSE_FR.get(text, _argparse_gettext(text)) if say("en", "fr") == "fr"
            else _argparse_gettext(text))


argparse._ = _argparse_words


def _quoted(message: str) -> str:
    """An error message as the language quotes: in French, the values Python's repr put between
    ``'…'`` (``reçu 'x'``) go between « » (``reçu « x »``)."""
    if say("en", "fr") == "en":
        return message
    return re.sub(r"(?<![\w'’])'([^'\n]*)'(?![\w'’])", "«\u00a0\\1\u00a0»", message)


_error = argparse.ArgumentParser.error
argparse.ArgumentParser.error = lambda self, message: _error(self, _quoted(message))

# argparse wraps at ASCII spaces only: with no-break spaces, no line of a French --help starts with a colon
_split_lines, _fill_text = argparse.HelpFormatter._split_lines, argparse.HelpFormatter._fill_text
argparse.HelpFormatter._split_lines = lambda self, text, width: _split_lines(
    self, no_break_spaces(text) if say("en", "fr") == "fr" else text, width)
argparse.HelpFormatter._fill_text = lambda self, text, width, indent: _fill_text(
    self, no_break_spaces(text) if say("en", "fr") == "fr" else text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnlab",
        description=say("Recurrent neural networks from scratch: traces, gradients, training, interop.",
                        "Réseaux récurrents faits main : traces, gradients, entraînement, interopérabilité."),
        epilog=exit_statuses(),
    )
    from . import __version__
    from .commands._options import add_common_options

    add_common_options(parser, top_level=True)

    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}",
                        help=say("show program's version number and exit",
                                 "afficher la version de rnnlab et quitter"))
    sub = parser.add_subparsers(dest="command", metavar=say("COMMAND", "COMMANDE"),
                                title=say("commands", "commandes\u00a0"))
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    for command in sub.choices.values():  # the options every command takes, after its name too
        if not any("--lang" in action.option_strings for action in command._actions):
            add_common_options(command)
    if say("en", "fr") == "fr":
        for p in (parser, *sub.choices.values()):
            _french_metavars(p)
    return parser


# The placeholders of --help in French, as French manuals write them (a FILE is a FICHIER).
METAVARS_FR = {
    "FILE": "FICHIER", "DIR": "DOSSIER", "RUN_DIR": "DOSSIER", "NAME|PATH": "NOM|CHEMIN", "NAME": "NOM",
    "TEXT": "TEXTE", "DATA": "DONNÉES", "SERIES": "SÉRIE", "COLUMN": "COLONNE", "PERIOD": "PÉRIODE",
    "WINDOW": "FENÊTRE", "SAMPLES": "NOMBRE", "TEST_FRACTION": "FRACTION", "LABEL_COLUMN": "COLONNE",
    "SEQUENCE_COLUMN": "COLONNE", "LENGTHS": "LONGUEURS", "LENGTH": "LONGUEUR", "CELLS": "CELLULES",
    "SLOPE": "PENTE", "HIDDEN": "TAILLE", "STEPS": "PAS", "SPECTRAL_RADIUS": "RAYON", "LEVEL": "NIVEAU",
    "INPUT_SCALE": "ÉCART", "BATCH": "LOT", "THRESHOLD": "SEUIL", "SEED": "GRAINE", "AT": "VALEURS",
    "DIGITS": "CHIFFRES", "PRECISION": "PRÉCISION", "EXPR": "EXPRESSION",
}


def _french_metavars(parser) -> None:
    """Name the placeholders of ``parser``'s options and arguments in French (:data:`METAVARS_FR`)."""
    for action in parser._actions:
        if action.nargs == 0 or action.choices is not None:
            continue
        shown = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
        if isinstance(shown, str) and shown in METAVARS_FR:
            action.metavar = METAVARS_FR[shown]


def main(argv=None) -> int:
    """Run ``rnnlab`` with ``argv``; the language it sets lasts for this call only."""
    with i18n.language_kept():
        return _main(argv)


def _ignore_file_size_signal() -> None:
    """A file-size limit (``ulimit -f``) must give an ``OSError`` (reported in one line, the
    temporary file removed), not SIGXFSZ's kill. CPython ignores it at start-up; a host that
    embeds rnnlab may not."""
    if hasattr(signal, "SIGXFSZ"):
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        except ValueError:  # not the main thread: the host decides
            pass


def _main(argv) -> int:
    _ignore_file_size_signal()
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _language_from_argv(argv)
    try:
        set_language(lang if lang in ("en", "fr") else None)
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        if getattr(args, "threads", None) is not None:
            from .threads import set_threads

            set_threads(args.threads)  # BLAS, numba kernels (and PyTorch, once a torch backend loads it)
        return int(args.run(args) or 0)
    except RnnlabError as exc:
        from .training import Diverged

        print(say("error: ", "erreur : ") + _quoted(str(exc)), file=sys.stderr)
        return DIVERGED if isinstance(exc, Diverged) else REFUSED
    except OSError as exc:  # a file read or written, refused by the system: the user's path, what it means
        from .checkpoint import os_error_message

        print(say("error: ", "erreur : ") + os_error_message(exc), file=sys.stderr)
        return REFUSED
    except KeyboardInterrupt:
        print(say("interrupted", "interrompu"), file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
