"""What ``rnnlab forecast``, ``task``, ``sweep`` and ``classify`` share: training options, a rich
progress bar, result tables, checkpoints (:mod:`rnnlab.checkpoint`), the output folder, and
``--resume RUN_DIR`` (task, classify, forecast): the run's own options read back from
``RUN_DIR/last.json``, Ctrl-C saving the run and printing the command that continues it."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from .. import cells as cell_registry
from ..errors import CheckpointError, ConfigError
from ..i18n import say, set_language
from ..tasks import TrainConfig


def add_lang(p):
    p.add_argument("--lang", choices=["en", "fr"], default=None, help=say("output language", "langue d'affichage"))


def add_train_args(p, steps=1000, lr=0.01, batch_size=32, cell="lstm", hidden=32, cells=False, copy_defaults=None):
    """The training options; ``copy_defaults`` (``{"hidden": …, "steps": …}``) says in the help
    that the copy task has its own defaults (the command applies them)."""
    if not cells:
        p.add_argument("--cell", default=cell, choices=cell_registry.names(),
                       help=say(f"recurrent cell (default {cell})", f"cellule récurrente (défaut {cell})"))
        p.add_argument("--layer-norm", action="store_true", default=False,
                       help=say("layer-normalised LSTM (Ba et al. 2016; --cell lstm only)",
                                "LSTM normalisé par couche (Ba et al. 2016 ; --cell lstm seulement)"))
    copy = copy_defaults or {}

    def for_copy(dest):  # the copy task's own default, in the help
        return say(f"; copy: {copy[dest]}", f" ; copie : {copy[dest]}") if dest in copy else ""

    p.add_argument("--hidden", type=int, default=hidden,
                   help=say(f"hidden size (default {hidden}{for_copy('hidden')})",
                            f"taille de l'état caché (défaut {hidden}{for_copy('hidden')})"))
    p.add_argument("--steps", type=int, default=steps,
                   help=say(f"training steps (default {steps}{for_copy('steps')})",
                            f"pas d'entraînement (défaut {steps}{for_copy('steps')})"))
    p.add_argument("--batch-size", type=int, default=batch_size, help=say("batch size", "taille des lots"))
    p.add_argument("--lr", type=float, default=lr, help=say(f"learning rate (default {lr})",
                                                            f"taux d'apprentissage (défaut {lr})"))
    p.add_argument("--optimizer", default="adam", help=say("sgd, momentum, adagrad, rmsprop, adam, adamw",
                                                           "sgd, momentum, adagrad, rmsprop, adam, adamw"))
    p.add_argument("--clip", type=float, default=1.0, help=say("clip the global gradient norm (0: off)",
                                                               "écrêter la norme globale du gradient (0 : non)"))
    p.add_argument("--eval-every", type=int, default=100, help=say("steps between test scores",
                                                                   "pas entre deux scores de test"))
    p.add_argument("--seed", type=int, default=0, help=say("random seed", "graine aléatoire"))
    p.add_argument("--out", default=None, help=say("folder for the checkpoint, figures and JSON results",
                                                   "dossier du point de sauvegarde, des figures et des résultats JSON"))
    p.add_argument("--no-progress", action="store_true", help=say("no progress bar", "pas de barre de progression"))
    add_backend_args(p)
    add_lang(p)


def add_recurrent_dropout(p):
    p.add_argument("--recurrent-dropout", type=float, default=0.0,
                   help=say("variational dropout on h_{t-1} entering W_hh (every cell)",
                            "dropout variationnel sur h_{t-1} entrant dans W_hh (toute cellule)"))


def add_backend_args(p):
    import argparse

    p.add_argument("--backend", choices=["numpy", "torch"], default="numpy",
                   help=say("numpy (rnnlab's own BPTT, default) or torch (the same model in PyTorch: GPU)",
                            "numpy (la BPTT de rnnlab, défaut) ou torch (le même modèle sous PyTorch : GPU)"))
    p.add_argument("--device", metavar="cpu|cuda[:N]",
                   help=say("torch backend only: where to train (default cpu)",
                            "backend torch seulement : où entraîner (défaut cpu)"))
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help=say("torch backend only: bfloat16 autocast of the forward (default: on with CUDA)",
                            "backend torch seulement : autocast bfloat16 de la passe avant (défaut : activé avec CUDA)"))


def check_backend(args):
    """Clear errors for ``--device``/``--amp`` without ``--backend torch``, an unknown or absent
    device, and ``--amp`` off CUDA: checked before the run's folder is made."""
    if getattr(args, "backend", "numpy") == "torch":
        from ..backends.torch_train import resolve_device

        device = resolve_device(args.device or "cpu")
        if args.amp and device.type != "cuda":
            raise ConfigError(say("mixed precision (--amp) needs --device cuda",
                                  "la précision mixte (--amp) demande --device cuda"))
    elif getattr(args, "device", None) is not None or getattr(args, "amp", None) is not None:
        raise ConfigError(say("--device and --amp need --backend torch", "--device et --amp demandent --backend torch"))


def backend(args):
    """A context in which :func:`rnnlab.tasks.train_model` trains with ``--backend``
    (:func:`check_backend` first)."""
    check_backend(args)
    if getattr(args, "backend", "numpy") == "torch":
        from ..backends.torch_tasks import active

        return active(args.device or "cpu", args.amp)
    return contextlib.nullcontext()


def setup(args):
    """The language, and for a parser passed to :func:`add_resume_args`: ``args.given`` (the
    options given on the command line) and the defaults of the others put back."""
    defaults = getattr(args, "_defaults", None)
    if defaults is not None and not hasattr(args, "given"):
        args.given = {dest for dest in defaults if getattr(args, dest, None) is not None}
        for dest, value in defaults.items():
            if getattr(args, dest, None) is None:
                setattr(args, dest, value)
    if getattr(args, "lang", None):
        set_language(args.lang)


def train_config(args) -> TrainConfig:
    return TrainConfig(steps=args.steps, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                       clip_norm=args.clip or None, eval_every=args.eval_every, seed=args.seed)


def out_dir(args, default: str) -> Path:
    """The output folder (``--out``, else ``default``), made once the backend options are known to
    be right, so a mistake there leaves no empty folder behind."""
    check_backend(args)
    path = Path(args.out or default)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path}: expected a folder, got a file")
    path.mkdir(parents=True, exist_ok=True)
    return path


def console():
    from rich.console import Console

    return Console()


def line_console():
    """A console that prints paths and commands as they are, each on one line (copy-paste)."""
    from rich.console import Console

    return Console(soft_wrap=True, markup=False, highlight=False)


@contextlib.contextmanager
def progress(args, total: int, description: str, completed: int = 0):
    """Yields ``update(advance=1, description=None, loss=None)``; a rich bar on stderr unless
    ``--no-progress`` or stderr is not a terminal-like stream; ``completed`` steps already done
    (a resumed run)."""
    if args.no_progress:
        yield lambda *a, **k: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[loss]}"), TimeElapsedColumn(),
                   console=Console(file=sys.stderr), transient=True)
    with bar:
        task = bar.add_task(description, total=total, completed=completed, loss="")

        def update(advance=1, description=None, loss=None):
            fields = {} if loss is None else {"loss": say(f"loss {loss:.4g}", f"perte {loss:.4g}")}
            if description is not None:
                fields["description"] = description
            bar.update(task, advance=advance, **fields)

        yield update


# --- --resume: options read back from the run folder, Ctrl-C -----------------------------------------

NOT_OF_THE_RUN = ("resume", "out", "no_progress", "lang", "backend", "device", "amp")  # not saved with a run
MAY_CHANGE_ON_RESUME = ("resume", "steps", "no_progress", "lang", "backend", "device", "amp")


def add_resume_args(p):
    """``--resume RUN_DIR``; call it last in ``register``: from then on every option of ``p``
    defaults to None, so :func:`setup` can tell which were given (a resumed run refuses those
    that contradict its own) before it puts the defaults back."""
    p.add_argument("--resume", metavar="RUN_DIR", help=say(
        "continue the run saved in RUN_DIR (with its own options; --steps may extend it)",
        "reprendre le run sauvegardé dans RUN_DIR (avec ses propres options ; --steps peut le prolonger)"))
    defaults, names = {}, {}
    for action in p._actions:
        if action.dest in ("help", "run") or action.default is argparse.SUPPRESS:
            continue
        defaults[action.dest] = action.default
        names[action.dest] = next((o for o in action.option_strings if o.startswith("--")), action.dest)
        action.default = None
    p.set_defaults(_defaults=defaults, _names=names)


def run_settings(args, command: str, **extra) -> dict:
    """What a checkpoint keeps of the command line: the command and the run's options (all but
    :data:`NOT_OF_THE_RUN`), and ``extra`` (a fingerprint of the data)."""
    options = {dest: getattr(args, dest) for dest in args._defaults if dest not in NOT_OF_THE_RUN}
    return {"command": command, "options": options, **extra}


def resume_options(args, command: str):
    """With ``--resume RUN_DIR``: read the run's checkpoint (:func:`rnnlab.taskrun.load_training_state`),
    refuse given options that contradict the run's, put the run's options into ``args`` (``--steps``,
    if given, is the new total), say where the run goes on. Returns the checkpoint's meta, or None
    without ``--resume``."""
    if not args.resume:
        return None
    from ..taskrun import CHECKPOINT_NAME, load_training_state

    directory = Path(args.resume)
    _, meta = load_training_state(directory)
    where = directory / f"{CHECKPOINT_NAME}.json"
    settings = meta["settings"]
    options = settings.get("options")
    if settings.get("command") != command or not isinstance(options, dict):
        raise CheckpointError(say(f"{where}: a run of rnnlab {settings.get('command')}, not of rnnlab {command}",
                                  f"{where} : un run de rnnlab {settings.get('command')}, pas de rnnlab {command}"))
    contradict = [args._names[d] for d in sorted(args.given)
                  if d not in MAY_CHANGE_ON_RESUME and (d not in options or options[d] != getattr(args, d))]
    if contradict:
        raise ConfigError(say(f"--resume continues a run with its own options; remove {', '.join(contradict)} "
                              "(only --steps may change its total budget)",
                              f"--resume reprend un run avec ses propres options ; retirer {', '.join(contradict)} "
                              "(seul --steps peut changer son budget total)"))
    for dest, value in options.items():
        if dest in args._defaults and dest not in args.given:
            setattr(args, dest, value)
    step = meta["step"]
    if args.steps < step:
        raise ConfigError(say(f"--steps {args.steps}: the run in {args.resume} is at step {step} already; give more "
                              f"steps to continue it",
                              f"--steps {args.steps} : le run de {args.resume} est déjà au pas {step} ; donner plus de "
                              f"pas pour le poursuivre"))
    if args.steps == step:
        raise ConfigError(say(f"{args.resume}: the run has spent its budget (step {step} of {args.steps}); give a "
                              f"larger --steps to continue it",
                              f"{args.resume} : le run a épuisé son budget (pas {step} sur {args.steps}) ; donner un "
                              f"--steps plus grand pour le poursuivre"))
    line_console().print(say(f"Resuming {args.resume} at step {step} of {args.steps}",
                             f"Reprise de {args.resume} au pas {step} sur {args.steps}"))
    return meta


def check_same_data(meta, fingerprint: str, what: str) -> None:
    """A resumed run must see the data it began with (``fingerprint``: :func:`data_fingerprint`)."""
    saved = meta["settings"].get("data_sha256")
    if saved != fingerprint:
        raise CheckpointError(say(f"{what}: the data differ from those the run began with (sha256 {str(saved)[:12]}…, "
                                  f"now {fingerprint[:12]}…); resume with the same data",
                                  f"{what} : les données diffèrent de celles du début du run (sha256 "
                                  f"{str(saved)[:12]}…, maintenant {fingerprint[:12]}…) ; reprendre avec les mêmes données"))


def data_fingerprint(*arrays) -> str:
    """sha256 of the arrays' dtypes, shapes and bytes."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def run_folder(args, default: str, command: str) -> Path:
    """The folder of the run: ``--resume``'s, or ``--out`` (default ``default``), which must not
    hold an unfinished run (a finished one is replaced)."""
    if args.resume:
        return Path(args.resume)
    path = out_dir(args, default)
    from ..checkpoint import read_checkpoint_json
    from ..taskrun import CHECKPOINT_FORMAT, CHECKPOINT_NAME

    try:
        meta = read_checkpoint_json(path, CHECKPOINT_NAME)["meta"]
        step, steps = meta["step"], meta["train"]["steps"]
        unfinished = meta.get("format") == CHECKPOINT_FORMAT and step < steps
    except (CheckpointError, KeyError, TypeError):
        return path  # no run there, or one that cannot be resumed
    if unfinished:
        raise ConfigError(say(f"--out {path}: holds an unfinished run (step {step} of {steps}); continue it with: "
                              f"rnnlab {command} --resume {shlex.quote(str(path))} (or choose another --out; nothing "
                              "was overwritten)",
                              f"--out {path} : contient un run inachevé (pas {step} sur {steps}) ; le reprendre avec : "
                              f"rnnlab {command} --resume {shlex.quote(str(path))} (ou choisir un autre --out ; rien "
                              "n'a été écrasé)"))
    return path


@contextlib.contextmanager
def training(args, out: Path, settings: dict, resumed, total: int, description: str):
    """The context of a command's training: the ``--backend``, the run saved in ``out`` (and
    resumed from it when ``resumed``), and the progress bar, started at the resumed step. Yields
    the bar's ``update``."""
    from ..taskrun import checkpointing

    done = resumed["step"] if resumed else 0
    with backend(args), checkpointing(out, settings, resume=resumed is not None), \
            progress(args, total, description, done) as update:
        yield update


def report_interrupted(stop, command: str) -> int:
    """Ctrl-C (:class:`rnnlab.taskrun.TrainingInterrupted`): where the run is saved and the
    command that continues it; exit status 0, as ``rnnlab train``."""
    con = line_console()
    if stop.checkpoint is None:
        con.print(say(f"Interrupted at step {stop.step}, before the first checkpoint: nothing to resume.",
                      f"Interrompu au pas {stop.step}, avant le premier point de reprise : rien à reprendre."))
        return 0
    again = f"rnnlab {command} --resume {shlex.quote(str(Path(stop.checkpoint).parent))}"
    if stop.saved_step == stop.step:
        con.print(say(f"Interrupted at step {stop.step}; saved {stop.checkpoint}. Continue with: {again}",
                      f"Interrompu au pas {stop.step} ; sauvegardé dans {stop.checkpoint}. Reprendre avec : {again}"))
    else:
        con.print(say(f"Interrupted during step {stop.step + 1}; {stop.checkpoint} holds step {stop.saved_step}. "
                      f"Continue with: {again}",
                      f"Interrompu pendant le pas {stop.step + 1} ; {stop.checkpoint} contient le pas "
                      f"{stop.saved_step}. Reprendre avec : {again}"))
    return 0


def save_run(directory: Path, name: str, model, meta: dict) -> Path:
    """The model's weights and config in the checkpoint format of the language model."""
    from ..checkpoint import save_checkpoint

    save_checkpoint(directory, name, model.state_dict(), {"model": model.config.to_json(), **meta})
    return directory / f"{name}.safetensors"


def load_run(directory, name: str):
    """Rebuild a model saved by :func:`save_run`; returns ``(model, meta)``."""
    from ..checkpoint import load_checkpoint
    from ..errors import CheckpointError, ShapeError
    from ..seqmodels import SeqModelConfig, build_model

    tensors, meta = load_checkpoint(directory, name)
    try:
        config = SeqModelConfig(**meta["model"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{Path(directory) / (name + '.json')}: key 'model': expected a model config, "
                              f"got {meta.get('model')!r:.80} ({exc})") from None
    model = build_model(config)
    try:
        model.load_state_dict(tensors)
    except ShapeError as exc:
        raise CheckpointError(f"{Path(directory) / (name + '.safetensors')}: {exc}") from None
    model.eval()
    return model, meta


def write_json(path: Path, data) -> None:
    """Atomic JSON write (temp + rename)."""
    import os

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=_plain), encoding="utf-8")
    os.replace(tmp, path)


def _plain(v):
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "__dataclass_fields__"):
        return asdict(v)
    raise TypeError(f"not JSON-serialisable: {type(v).__name__}")


def parse_list(text: str, kind, name: str):
    try:
        values = [kind(v.strip()) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{name}: expected a comma-separated list, got {text!r}") from None
    if not values:
        raise ConfigError(f"{name}: expected at least one value, got {text!r}")
    return values
