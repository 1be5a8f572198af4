"""``rnnlab train``: train a character language model (with no option: an LSTM on Tiny
Shakespeare for five minutes), show its progress, save checkpoints, print generated text.
``--resume RUN_DIR`` continues a run exactly where it stopped."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from .. import cells
from ..errors import ConfigError
from ..i18n import say, set_language

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
            what = say("an integer", "un entier") if kind is int else say("a number", "un nombre")
            bounds = [f"{'>' if low_open else '≥'} {low}"] if low is not None else []
            bounds += [f"{'<' if high_open else '≤'} {high}"] if high is not None else []
            raise argparse.ArgumentTypeError(say(f"expected {what} {' and '.join(bounds)}, got {text!r}",
                                                 f"{what} {' et '.join(bounds)} attendu, reçu {text!r}"))
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1)
natural_int = _number(int, 0)
positive_float = _number(float, 0, low_open=True)
dropout_float = _number(float, 0, 1, high_open=True)
top_p_float = _number(float, 0, 1, low_open=True)
natural_float = _number(float, 0)

# command-line option -> TrainConfig field
OPTIONS = {"corpus": "corpus", "cell": "cell", "hidden": "hidden_size", "layers": "num_layers",
           "embedding": "embedding_dim", "seq_len": "seq_len", "batch": "batch_size", "lr": "lr",
           "optimizer": "optimizer", "dropout": "dropout", "recurrent_dropout": "recurrent_dropout",
           "layer_norm": "layer_norm", "seed": "seed", "eval_every": "eval_every"}


def register(subparsers):
    from ..optim import OPTIMIZERS
    from ..train import TrainConfig

    d = TrainConfig()
    p = subparsers.add_parser("train", help=say("train a character language model", "entraîner un modèle de langue caractère par caractère"),
                              description=say("Train a character-level language model on a corpus. With no option: "
                                              f"{d.cell.upper()}, {d.num_layers} layer(s) of {d.hidden_size} units, on Tiny "
                                              f"Shakespeare for {d.minutes:g} minutes; --resume RUN_DIR continues a run exactly.",
                                              "Entraîner un modèle de langue caractère par caractère sur un corpus. Sans option : "
                                              f"{d.cell.upper()}, {d.num_layers} couche(s) de {d.hidden_size} unités, sur Tiny "
                                              f"Shakespeare pendant {d.minutes:g} minutes ; --resume RUN_DIR reprend un run à l'identique."))
    a = p.add_argument
    a("--corpus", metavar="NAME|PATH", help=say(f"shakespeare, hugo or a UTF-8 text file (default {d.corpus})",
                                               f"shakespeare, hugo ou un fichier texte UTF-8 (défaut {d.corpus})"))
    a("--cell", choices=cells.names(),
      help=say(f"recurrent cell (default {d.cell})", f"cellule récurrente (défaut {d.cell})"))
    a("--hidden", type=positive_int, metavar="N", help=say(f"hidden size (default {d.hidden_size})", f"taille cachée (défaut {d.hidden_size})"))
    a("--layers", type=positive_int, metavar="N", help=say(f"stacked layers (default {d.num_layers})", f"couches empilées (défaut {d.num_layers})"))
    a("--embedding", type=positive_int, metavar="N", help=say(f"embedding size (default {d.embedding_dim})", f"taille du plongement (défaut {d.embedding_dim})"))
    a("--seq-len", type=positive_int, metavar="N", help=say(f"characters per truncated BPTT window (default {d.seq_len})",
                                                            f"caractères par fenêtre de BPTT tronquée (défaut {d.seq_len})"))
    a("--batch", type=positive_int, metavar="N", help=say(f"parallel streams (default {d.batch_size})", f"flux parallèles (défaut {d.batch_size})"))
    a("--lr", type=positive_float, metavar="X", help=say(f"peak learning rate (default {d.lr:g})", f"taux d'apprentissage maximal (défaut {d.lr:g})"))
    a("--optimizer", choices=sorted(OPTIMIZERS), help=say(f"optimiser (default {d.optimizer})", f"optimiseur (défaut {d.optimizer})"))
    a("--dropout", type=dropout_float, metavar="P", help=say(f"dropout probability (default {d.dropout:g})", f"probabilité de dropout (défaut {d.dropout:g})"))
    a("--recurrent-dropout", type=dropout_float, metavar="P",
      help=say(f"variational dropout on the state entering the recurrence, one mask per window (default {d.recurrent_dropout:g})",
               f"dropout variationnel sur l'état qui entre dans la récurrence, un masque par fenêtre (défaut {d.recurrent_dropout:g})"))
    a("--layer-norm", action="store_true", default=None,
      help=say("layer-normalised LSTM (Ba et al. 2016; --cell lstm only, NumPy backend only)",
               "LSTM normalisé par couche (Ba et al. 2016 ; --cell lstm seulement, backend numpy seulement)"))
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive_float, metavar="M", help=say(f"time budget (default {d.minutes:g})", f"budget en temps (défaut {d.minutes:g})"))
    budget.add_argument("--steps", type=positive_int, metavar="N", help=say("step budget (exactly reproducible)", "budget en pas (reproductible exactement)"))
    a("--eval-every", type=positive_int, metavar="N", help=say(f"evaluate every N steps (default: every {d.eval_seconds:g} s)",
                                                              f"évaluer tous les N pas (défaut : toutes les {d.eval_seconds:g} s)"))
    a("--out", metavar="RUN_DIR", help=say("run folder (default runs/<corpus>-<cell>-<time>)", "dossier du run (défaut runs/<corpus>-<cell>-<heure>)"))
    a("--resume", metavar="RUN_DIR", help=say("continue the run saved in RUN_DIR", "reprendre le run sauvegardé dans RUN_DIR"))
    a("--seed", type=natural_int, metavar="N", help=say(f"random seed (default {d.seed})", f"graine aléatoire (défaut {d.seed})"))
    a("--no-progress", action="store_true", help=say("no progress bar", "pas de barre de progression"))
    a("--backend", choices=["numpy", "torch"], default="numpy",
      help=say("numpy (rnnlab's own BPTT, default) or torch (the same model in PyTorch: GPU, torchrun)",
               "numpy (la BPTT de rnnlab, défaut) ou torch (le même modèle sous PyTorch : GPU, torchrun)"))
    a("--device", metavar="cpu|cuda[:N]",
      help=say("torch backend only: where to train (default cpu)", "backend torch seulement : où entraîner (défaut cpu)"))
    a("--amp", action=argparse.BooleanOptionalAction, default=None,
      help=say("torch backend only: bfloat16 autocast of the forward (default: on with CUDA)",
               "backend torch seulement : autocast bfloat16 de la passe avant (défaut : activé avec CUDA)"))
    a("--lang", choices=["en", "fr"], help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def _config_from_args(args):
    from ..train import TrainConfig

    given = {field: getattr(args, opt) for opt, field in OPTIONS.items() if getattr(args, opt) is not None}
    if args.steps is not None:
        given.update(steps=args.steps, minutes=0.0)
    elif args.minutes is not None:
        given.update(minutes=args.minutes)
    return TrainConfig(**given)


def _default_run_dir(config) -> Path:
    stem = Path(config.corpus).stem if config.corpus not in ("shakespeare", "hugo") else config.corpus
    return Path("runs") / f"{stem}-{config.cell}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..backends import trainer_class
    from ..train import bits_per_char, perplexity

    if getattr(args, "lang", None):
        set_language(args.lang)
    backend_options = {}
    if args.backend == "torch":
        backend_options = {"device": args.device or "cpu", "amp": args.amp}
    elif args.device is not None or args.amp is not None:
        raise ConfigError(say("--device and --amp need --backend torch", "--device et --amp demandent --backend torch"))
    Trainer = trainer_class(args.backend)
    console = Console(soft_wrap=True)  # paths and commands stay on one line (copy-paste)
    if args.resume:
        extra = [f"--{opt.replace('_', '-')}" for opt in OPTIONS if getattr(args, opt) is not None] + (["--out"] if args.out else [])
        if extra:
            raise ConfigError(say(f"--resume continues a run with its own options; remove {', '.join(extra)} "
                                  "(only --minutes or --steps may change its total budget)",
                                  f"--resume reprend un run avec ses propres options ; retirer {', '.join(extra)} "
                                  "(seuls --minutes ou --steps peuvent changer son budget total)"))
        trainer = Trainer.resume(args.resume, steps=args.steps, minutes=args.minutes, console=console,
                                 progress=not args.no_progress, **backend_options)
        if not trainer.budget_left():
            raise ConfigError(say(f"{args.resume}: the run has spent its budget (step {trainer.step}); give a larger "
                                  "--steps or --minutes to continue it",
                                  f"{args.resume} : le run a épuisé son budget (pas {trainer.step}) ; donner un --steps "
                                  "ou --minutes plus grand pour le poursuivre"))
        console.print(say(f"Resuming {args.resume} at step {trainer.step}", f"Reprise de {args.resume} au pas {trainer.step}"))
    else:
        config = _config_from_args(args)
        run_dir = Path(args.out) if args.out else _default_run_dir(config)
        if (run_dir / "last.json").exists() or (run_dir / "best.json").exists():
            raise ConfigError(say(f"--out {run_dir}: already holds a run; continue it with --resume {run_dir} or choose "
                                  "another folder (nothing was overwritten)",
                                  f"--out {run_dir} : contient déjà un run ; le reprendre avec --resume {run_dir} ou "
                                  "choisir un autre dossier (rien n'a été écrasé)"))
        trainer = Trainer(config, run_dir, console=console, progress=not args.no_progress, **backend_options)
        m, c = trainer.model, config
        budget = say(f"{c.steps} steps", f"{c.steps} pas") if c.budget_is_steps else f"{c.minutes:g} min"
        cell = cells.get(cells.resolve(c.cell, c.layer_norm)).label_in()  # "LSTM", "LN-LSTM", …
        console.print(say(f"Training {cell} {m.num_layers}×{m.hidden_size} ({m.num_parameters():,} parameters) "
                          f"on {c.corpus}: {len(trainer.train_ids):,} training / {len(trainer.val_ids):,} validation "
                          f"characters, vocabulary {trainer.vocab.size}; budget {budget} → {run_dir}",
                          f"Entraînement {cell} {m.num_layers}×{m.hidden_size} ({m.num_parameters():,} "
                          f"paramètres) sur {c.corpus} : {len(trainer.train_ids):,} caractères d'entraînement / "
                          f"{len(trainer.val_ids):,} de validation, vocabulaire {trainer.vocab.size} ; budget {budget} → {run_dir}"))
    result = trainer.run()
    if getattr(trainer, "dist", None) is not None and not trainer.dist.is_main:
        return 0  # under torchrun, rank 0 alone reports
    table = Table(title=say("Run summary", "Bilan du run"), show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row(say("run folder", "dossier"), str(result.run_dir))
    table.add_row(say("steps", "pas"), f"{result.step:,}")
    table.add_row(say("training speed", "vitesse d'entraînement"), say(f"{result.chars_per_second:,.0f} chars/s", f"{result.chars_per_second:,.0f} car./s"))
    if result.train_loss is not None:
        table.add_row(say("last training loss", "dernière perte d'entraînement"), f"{result.train_loss:.4f}")
    if result.val_loss is not None:
        v = result.val_loss
        table.add_row(say("validation (nats/char)", "validation (nats/car.)"), f"{v:.4f}")
        table.add_row(say("validation (bits/char)", "validation (bits/car.)"), f"{bits_per_char(v):.4f}")
        table.add_row(say("perplexity", "perplexité"), f"{perplexity(v):.3f}")
    if result.best_val is not None:
        table.add_row(say("best validation", "meilleure validation"), f"{result.best_val:.4f}")
    console.print(table)
    console.print(say(f"Generate more text with: rnnlab sample {result.run_dir}",
                      f"Générer d'autres textes : rnnlab sample {result.run_dir}"))
    return 0
