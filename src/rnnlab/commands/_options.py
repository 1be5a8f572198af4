"""The one option vocabulary of the training commands (``train``, ``task``, ``classify``,
``forecast``, ``sweep``): :func:`add_training_options` adds every shared option with one
spelling, one type, one set of choices and its default shown in ``--help``; each command
only gives its defaults. The options every command accepts (``--lang``, ``--threads``), before
or after the command's name, are added by :func:`add_common_options`.

Every training option is parsed with the default ``None``, so that a command can tell the
options given on the command line (``args.given``; a resumed run refuses those that contradict
it) from the defaults, which :func:`apply_defaults` then puts back.
"""

from __future__ import annotations

import argparse
import math

from ..i18n import say

# --- argument types: numbers checked with a clear message (argparse prints it, exit status 2) ---


def _number(kind, low=None, high=None, low_open=False, high_open=False):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        ok = value is not None and (kind is int or math.isfinite(value))
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            what = say("an integer", "un entier") if kind is int else say("a finite number", "un nombre fini")
            bounds = [f"{'>' if low_open else '≥'} {low}"] if low is not None else []
            bounds += [f"{'<' if high_open else '≤'} {high}"] if high is not None else []
            limits = " " + say(" and ", " et ").join(bounds) if bounds else ""
            raise argparse.ArgumentTypeError(say(f"expected {what}{limits}, got {text!r}",
                                                 f"{what}{limits} attendu, reçu {text!r}"))
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1)
natural_int = _number(int, 0)
finite_float = _number(float)
positive_float = _number(float, 0, low_open=True)
dropout_float = _number(float, 0, 1, high_open=True)
fraction_float = dropout_float  # a share held out: 0 ≤ f < 1
top_p_float = _number(float, 0, 1, low_open=True)
natural_float = _number(float, 0)
unit_float = _number(float, 0, 1)
precision_int = _number(int, 0, 15)  # decimals a trace or an exercise shows
digits_int = _number(int, 1, 17)  # significant digits of a float64


def comma_list(item):
    """An argument type for a list of values separated by commas (or semicolons), each parsed by
    ``item`` (one of the types above): ``comma_list(positive_int)("10,50")`` is ``[10, 50]``. An
    empty list is refused, never read as "the default"."""
    import re

    def parse(text):
        parts = [v.strip() for v in re.split(r"[,;]", text) if v.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(say(f"expected a list separated by commas, got {text!r}",
                                                 f"liste séparée par des virgules attendue, reçu {text!r}"))
        try:
            return [item(v) for v in parts]
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{exc} (in {text!r})" if say("en", "fr") == "en"
                                             else f"{exc} (dans {text!r})") from None

    parse.__name__ = "list"
    return parse


def cell_choices() -> list:
    """The cells a ``--cell`` offers: the registry's (:func:`rnnlab.cells.names`; a variant such
    as the layer-normalised LSTM is ``--cell lstm --layer-norm``)."""
    from .. import cells

    return list(cells.names())


# dest -> (option strings, argparse keywords, English help, French help); "{d}" is the default
SHARED = {
    "cell": (("--cell",), {"choices": None}, "recurrent cell (default {d})",
             "cellule récurrente (défaut {d})"),
    "hidden": (("--hidden",), {"type": positive_int, "metavar": "N"}, "hidden size (default {d})",
               "taille de l'état caché (défaut {d})"),
    "layers": (("--layers",), {"type": positive_int, "metavar": "N"},
               "stacked recurrent layers (default {d})", "niveaux récurrents empilés (défaut {d})"),
    "batch": (("--batch", "--batch-size"), {"type": positive_int, "metavar": "N"},
              "sequences per batch (default {d})", "séquences par lot (défaut {d})"),
    "lr": (("--lr",), {"type": positive_float, "metavar": "X"}, "peak learning rate (default {d})",
           "taux d'apprentissage maximal (défaut {d})"),
    "optimizer": (("--optimizer",), {"choices": None}, "optimiser (default {d})", "optimiseur (défaut {d})"),
    "clip": (("--clip",), {"type": natural_float, "metavar": "X"},
             "clip the global gradient norm at X (0: off; default {d})",
             "écrêter la norme globale du gradient à X (0 : non ; défaut {d})"),
    "dropout": (("--dropout",), {"type": dropout_float, "metavar": "P"},
                "dropout between layers and before the head (default {d})",
                "« dropout » entre les niveaux et avant la tête (défaut {d})"),
    "recurrent_dropout": (("--recurrent-dropout",), {"type": dropout_float, "metavar": "P"},
                          "variational dropout on h_{{t-1}} entering W_hh, one mask per sequence "
                          "(default {d})",
                          "« dropout » variationnel sur h_{{t-1}} entrant dans W_hh, un masque par séquence "
                          "(défaut {d})"),
    "layer_norm": (("--layer-norm",), {"action": "store_true"},
                   "the layer-normalised LSTM (Ba et al. 2016; --cell lstm, NumPy backend)",
                   "le LSTM à normalisation de couche (Ba et al. 2016 ; --cell lstm, moteur numpy)"),
    "eval_every": (("--eval-every",), {"type": positive_int, "metavar": "N"},
                   "evaluate every N steps (default {d})", "évaluer tous les N pas (défaut {d})"),
    "seed": (("--seed",), {"type": natural_int, "metavar": "N"}, "random seed (default {d})",
             "graine aléatoire (défaut {d})"),
    "out": (("--out",), {"metavar": "RUN_DIR"}, "run folder (default {d})",
            "dossier d'entraînement (défaut {d})"),
    "force": (("--force",), {"action": "store_true"}, "replace the finished run that --out holds",
              "remplacer l'entraînement terminé que contient --out"),
    "no_progress": (("--no-progress",), {"action": "store_true"}, "no progress bar",
                    "pas de barre de progression"),
    "backend": (("--backend",), {"choices": ["numpy", "torch"]},
                "numpy (rnnlab's own BPTT) or torch (the same model in PyTorch: GPU) (default {d})",
                "numpy (la BPTT de rnnlab) ou torch (le même modèle sous PyTorch : GPU) (défaut {d})"),
    "device": (("--device",), {"metavar": "cpu|cuda[:N]"}, "torch backend only: where to train (default cpu)",
               "moteur torch seulement : où entraîner (défaut cpu)"),
    "amp": (("--amp",), {"action": argparse.BooleanOptionalAction},
            "torch backend only: bfloat16 autocast of the forward (default: on with CUDA)",
            "moteur torch seulement : passe avant en bfloat16 («\u00a0autocast\u00a0» ; défaut : activé avec "
            "CUDA)"),
}


def add_training_options(p, defaults: dict, *, skip=(), notes=None):
    """Add every option of :data:`SHARED` but ``skip``, the budget (``--steps`` or ``--minutes``)
    and ``--resume``; ``defaults[dest]`` is the command's default (shown in the help),
    ``notes[dest]`` a word added to its help (another default of a sub-task)."""
    from ..optim import OPTIMIZERS

    notes = notes or {}
    choices = {"cell": cell_choices(), "optimizer": sorted(OPTIMIZERS)}
    for dest, (flags, kwargs, en, fr) in SHARED.items():
        if dest in skip:
            continue
        kwargs = dict(kwargs)
        if "choices" in kwargs:
            kwargs["choices"] = kwargs["choices"] or choices[dest]
        d = defaults.get(dest)
        shown = "–" if d is None else (f"{d:g}" if isinstance(d, float) else d)
        note = notes.get(dest, ("", ""))
        p.add_argument(*flags, dest=dest, default=d, help=say(en.format(d=shown) + note[0],
                                                              fr.format(d=shown) + note[1]), **kwargs)
    if "budget" not in skip:
        budget = p.add_mutually_exclusive_group()
        steps, minutes = defaults.get("steps"), defaults.get("minutes")
        en, fr = notes.get("steps", ("", ""))
        budget.add_argument("--steps", type=positive_int, metavar="N", default=steps, help=say(
            f"step budget, exactly reproducible (default {steps or '–'}){en}",
            f"budget en pas, reproductible exactement (défaut {steps or '–'}){fr}"))
        budget.add_argument("--minutes", type=positive_float, metavar="M", default=minutes, help=say(
            f"time budget in minutes (default {minutes or '–'})",
            f"budget en minutes (défaut {minutes or '–'})"))
    if "resume" not in skip:
        p.add_argument("--resume", metavar="RUN_DIR", help=say(
            "continue the run saved in RUN_DIR (with its own options; --steps or --minutes may extend it)",
            "reprendre l'entraînement sauvegardé dans DOSSIER (avec ses propres options ; --steps ou "
            "--minutes peut le prolonger)"))
    if p.epilog is None:
        from ..cli import exit_statuses

        p.epilog = exit_statuses()
    record_defaults(p)


def record_defaults(p):
    """From now on every option of ``p`` defaults to None, so :func:`apply_defaults` can tell which
    were given; the defaults are kept in ``args._defaults`` and the option names in ``args._names``."""
    defaults, names = {}, {}
    for action in p._actions:
        if action.dest in ("help", "run") or action.default is argparse.SUPPRESS:
            continue
        defaults[action.dest] = action.default
        names[action.dest] = next((o for o in action.option_strings if o.startswith("--")), action.dest)
        action.default = None
    p.set_defaults(_defaults=defaults, _names=names)


def apply_defaults(args) -> None:
    """``args.given`` (the options given on the command line), then the defaults of the others."""
    defaults = getattr(args, "_defaults", None)
    if defaults is None or hasattr(args, "given"):
        return
    args.given = {dest for dest in defaults if getattr(args, dest, None) is not None}
    for dest, value in defaults.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    if "minutes" in args.given and "steps" not in args.given:
        args.steps = 0  # --minutes replaces the default step budget
    elif "steps" in args.given:
        args.minutes = 0.0


def model_cell(args) -> str:
    """The registered cell the model is built with (:func:`rnnlab.cells.resolve`): ``--cell``, or
    its layer-normalised variant for ``--layer-norm`` (ConfigError for a cell that has none)."""
    from .. import cells
    from ..errors import ConfigError

    if getattr(args, "layer_norm", False):
        if not any(cells.get(name).layer_norm and cells.get(name).base == args.cell
                   for name in cells.names(variants=True)):
            raise ConfigError(say(f"--layer-norm: expected --cell lstm (the layer-normalised LSTM), "
                                  f"got --cell {args.cell}",
                                  f"--layer-norm : --cell lstm attendu (le LSTM normalisé par couche), "
                                  f"reçu --cell {args.cell}"))
    return cells.resolve(args.cell, bool(getattr(args, "layer_norm", False)))


def add_common_options(p, top_level=False):
    """``--lang`` and ``--threads``, accepted before or after a command's name (a command's own
    value wins; ``SUPPRESS`` keeps an absent one from hiding the top-level one)."""
    default = None if top_level else argparse.SUPPRESS
    p.add_argument("--lang", choices=["en", "fr"], default=default,
                   help=say("output language (default: from the locale)",
                            "langue d'affichage (défaut : celle du système)"))
    p.add_argument("--threads", type=positive_int, metavar="N", default=default, help=say(
        "threads for the BLAS, the compiled kernels and PyTorch (default: RNNLAB_NUM_THREADS, else one per "
        "core that other programs leave free)",
        "fils d'exécution du BLAS, des noyaux compilés et de PyTorch (défaut : RNNLAB_NUM_THREADS, sinon un "
        "par cœur que les autres programmes laissent libre)"))
