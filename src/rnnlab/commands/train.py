"""``rnnlab train``: train a character language model (with no option: an LSTM on Tiny
Shakespeare for five minutes), show its progress, save checkpoints, print generated text.
``--resume RUN_DIR`` continues a run exactly where it stopped."""

from __future__ import annotations

from pathlib import Path

from .. import cells
from ..errors import ConfigError
from ..i18n import integer, say
from ._tables import number_column

# command-line option -> TrainConfig field
OPTIONS = {"corpus": "corpus", "cell": "cell", "hidden": "hidden_size", "layers": "num_layers",
           "embedding": "embedding_dim", "seq_len": "seq_len", "batch": "batch_size", "lr": "lr",
           "optimizer": "optimizer", "clip": "clip_norm", "dropout": "dropout",
           "recurrent_dropout": "recurrent_dropout", "layer_norm": "layer_norm", "seed": "seed",
           "eval_every": "eval_every", "warmup": "warmup_steps", "min_lr_ratio": "min_lr_ratio",
           "weight_decay": "weight_decay"}
# options that a resumed run may take (the others are the run's own)
MAY_CHANGE_ON_RESUME = ("resume", "steps", "minutes", "no_progress", "backend", "device", "amp")


def register(subparsers):
    from ..train import TrainConfig
    from ._options import add_training_options, natural_float, natural_int, positive_int, unit_float

    d = TrainConfig()
    p = subparsers.add_parser(
        "train", help=say("train a character language model",
                          "entraîner un modèle de langue caractère par caractère"),
        description=say("Train a character-level language model on a corpus. With no option: "
                        f"{d.cell.upper()}, {d.num_layers} layer(s) of {d.hidden_size} units, on "
                        f"Tiny Shakespeare for {d.minutes:g} minutes; --resume RUN_DIR continues "
                        "a run exactly.",
                        "Entraîner un modèle de langue caractère par caractère sur un corpus. "
                        f"Sans option : {d.cell.upper()}, {d.num_layers} "
                        f"niveau{'x' if d.num_layers > 1 else ''} de {d.hidden_size} unités, sur Tiny "
                        f"Shakespeare pendant {d.minutes:g} minutes ; --resume DOSSIER reprend un "
                        "entraînement à l'identique."))
    a = p.add_argument
    a("--corpus", metavar="NAME|PATH", default=d.corpus, help=say(
        f"shakespeare, hugo or a UTF-8 text file (default {d.corpus})",
        f"shakespeare, hugo ou un fichier texte UTF-8 (défaut {d.corpus})"))
    a("--embedding", type=positive_int, metavar="N", default=d.embedding_dim, help=say(
        f"embedding size (default {d.embedding_dim})", f"taille du plongement (défaut {d.embedding_dim})"))
    a("--seq-len", type=positive_int, metavar="N", default=d.seq_len, help=say(
        f"characters per truncated BPTT window (default {d.seq_len})",
        f"caractères par fenêtre de BPTT tronquée (défaut {d.seq_len})"))
    a("--warmup", type=natural_int, metavar="N", default=d.warmup_steps, help=say(
        f"learning-rate warm-up steps, linear from 0 (default {d.warmup_steps})",
        f"pas de montée linéaire du taux d'apprentissage depuis 0 (défaut {d.warmup_steps})"))
    a("--min-lr-ratio", type=unit_float, metavar="R", default=d.min_lr_ratio, help=say(
        f"the cosine decay ends at R × the peak learning rate (default {d.min_lr_ratio:g})",
        f"la décroissance en cosinus finit à R × le taux maximal (défaut {d.min_lr_ratio:g})"))
    from ..train import ADAMW_WEIGHT_DECAY

    a("--weight-decay", type=natural_float, metavar="λ", default=None, help=say(
        "weight decay λ: decoupled with adamw (θ ← θ(1 − ηλ)), added to the gradient (g + λθ) with the "
        f"other optimisers (default {ADAMW_WEIGHT_DECAY:g} with adamw, 0 with the others)",
        "décroissance des poids λ : découplée avec adamw (θ ← θ(1 − ηλ)), ajoutée au gradient (g + λθ) avec "
        f"les autres optimiseurs (défaut {ADAMW_WEIGHT_DECAY:g} avec adamw, 0 avec les autres)"))
    defaults = {"cell": d.cell, "hidden": d.hidden_size, "layers": d.num_layers, "batch": d.batch_size,
                "lr": d.lr, "optimizer": d.optimizer, "clip": d.clip_norm, "dropout": d.dropout,
                "recurrent_dropout": d.recurrent_dropout, "layer_norm": False, "eval_every": None,
                "seed": d.seed, "out": "runs/<corpus>-<cell>-<date>-<time>", "backend": "numpy",
                "minutes": d.minutes}
    add_training_options(p, defaults, notes={"eval_every": (
        f"; default: every {d.eval_seconds:g} s of a time budget, ten times in a step budget",
        f" ; défaut : toutes les {d.eval_seconds:g} s d'un budget en temps, dix fois d'un budget en pas")})
    p.set_defaults(run=run)


def _config_from_args(args):
    from ..train import TrainConfig

    given = {field: getattr(args, opt) for opt, field in OPTIONS.items() if getattr(args, opt) is not None}
    return TrainConfig(**given, steps=args.steps or 0, minutes=args.minutes or 0.0)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..backends import trainer_class
    from ..train import bits_per_char, perplexity

    from ..training.folders import new_run_folder, reports_written
    from ._options import apply_defaults

    apply_defaults(args)
    backend_options = {}
    if args.backend == "torch":
        backend_options = {"device": args.device or "cpu", "amp": args.amp}
    elif args.device is not None or args.amp is not None:
        raise ConfigError(say("--device and --amp need --backend torch",
                              "--device et --amp demandent --backend torch"))
    Trainer = trainer_class(args.backend)
    console = Console(soft_wrap=True)  # paths and commands stay on one line (copy-paste)
    if args.resume:
        extra = [args._names[d] for d in sorted(args.given) if d not in MAY_CHANGE_ON_RESUME]
        if extra:
            raise ConfigError(say(f"--resume continues a run with its own options; "
                                  f"remove {', '.join(extra)} "
                                  "(only --minutes or --steps may change its total budget)",
                                  f"--resume reprend un entraînement avec ses propres options ; "
                                  f"retirer {', '.join(extra)} "
                                  "(seuls --minutes ou --steps peuvent changer son budget total)"))
        budget = {k: getattr(args, k) for k in ("steps", "minutes") if k in args.given}
        trainer = Trainer.resume(args.resume, **budget, console=console, progress=not args.no_progress,
                                 **backend_options)
        if not trainer.budget_left() and reports_written(args.resume, trainer.step):
            from ..checkpoint import remove_stale_temps

            remove_stale_temps(args.resume)  # what a run killed during its last save left
            raise ConfigError(say(f"{args.resume}: the run has spent its budget (step {trainer.step}); "
                                  "give a larger --steps or --minutes to continue it",
                                  f"{args.resume} : l'entraînement a épuisé son budget "
                                  f"(pas {integer(trainer.step)}) ; "
                                  "donner un --steps ou --minutes plus grand pour le poursuivre"))
        if not trainer.budget_left():  # killed after its last checkpoint, before its reports: finish it
            console.print(say(f"Finishing {args.resume} at step {trainer.step}: its loss curve was not "
                              "written yet",
                              f"Fin de {args.resume} au pas {integer(trainer.step)} : sa courbe de perte "
                              "n'était pas encore écrite"))
        else:
            console.print(say(f"Resuming {args.resume} at step {trainer.step}",
                              f"Reprise de {args.resume} au pas {integer(trainer.step)}"))
    else:
        config = _config_from_args(args)
        stem = Path(config.corpus).stem if config.corpus not in ("shakespeare", "hugo") else config.corpus
        run_dir = new_run_folder(None if "out" not in args.given else args.out, f"{stem}-{config.cell}",
                                 "train", force=args.force, make=False)
        trainer = Trainer(config, run_dir, console=console, progress=not args.no_progress, replace=args.force,
                          **backend_options)
        m, c = trainer.model, config
        budget = say(f"{c.steps} steps", f"{c.steps} pas") if c.budget_is_steps else f"{c.minutes:g} min"
        cell = cells.get(cells.resolve(c.cell, c.layer_norm)).label_in()  # "LSTM", "LN-LSTM", …
        console.print(say(f"Training {cell} {m.num_layers}×{m.hidden_size} ({integer(m.num_parameters())} "
                          f"parameters) on {c.corpus}: {integer(len(trainer.train_ids))} training / "
                          f"{integer(len(trainer.val_ids))} validation characters, vocabulary "
                          f"{trainer.vocab.size}; "
                          f"budget {budget} → {run_dir}",
                          f"Entraînement {cell} {m.num_layers}×{m.hidden_size} "
                          f"({integer(m.num_parameters())} "
                          f"paramètres) sur {c.corpus} : {integer(len(trainer.train_ids))} caractères "
                          f"d'entraînement / {integer(len(trainer.val_ids))} de validation, "
                          f"vocabulaire {trainer.vocab.size} ; budget {budget} → {run_dir}"))
    result = trainer.run()
    if getattr(trainer, "dist", None) is not None and not trainer.dist.is_main:
        return 0  # under torchrun, rank 0 alone reports
    table = Table(title=say("Run summary", "Bilan de l'entraînement"), show_header=False)
    table.add_column(justify="left")
    number_column(table)
    table.add_row(say("run folder", "dossier"), Text(str(result.run_dir), no_wrap=False, overflow="fold"))
    table.add_row(say("steps", "pas"), integer(result.step))
    table.add_row(say("training speed", "vitesse d'entraînement"),
                  say(f"{integer(round(result.chars_per_second))} chars/s",
                      f"{integer(round(result.chars_per_second))} car./s"))
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
    if result.stopped == "interrupted":
        from ..cli import INTERRUPTED

        return INTERRUPTED
    return 0
