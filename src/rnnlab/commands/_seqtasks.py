"""What ``rnnlab forecast``, ``task``, ``sweep`` and ``classify`` share: training options, a rich
progress bar, result tables, checkpoints (:mod:`rnnlab.checkpoint`), the output folder, and
``--resume RUN_DIR`` (task, classify, forecast): the run's own options read back from
``RUN_DIR/last.json``, Ctrl-C saving the run and printing the command that continues it."""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import CheckpointError, ConfigError
from ..i18n import guillemets, integer, say
from ..tasks import TrainConfig


def add_train_args(p, steps=1000, lr=0.01, batch=32, cell="lstm", hidden=32, cells=False, copy_defaults=None,
                   skip=(), out="runs/<name>-<date>-<time>"):
    """The shared training options (:func:`rnnlab.commands._options.add_training_options`) with this
    command's defaults; ``copy_defaults`` (``{"hidden": …, "steps": …}``) says in the help that
    the copy task has its own defaults (the command applies them); ``cells``: no ``--cell`` (the
    command takes a list); ``out``: the default run folder, as the help shows it."""
    from ._options import add_training_options

    copy = copy_defaults or {}
    notes = {dest: (f"; copy: {value}", f" ; copie : {value}") for dest, value in copy.items()}
    defaults = {"cell": cell, "hidden": hidden, "layers": 1, "batch": batch, "lr": lr, "optimizer": "adam",
                "clip": 1.0, "dropout": 0.0, "recurrent_dropout": 0.0, "layer_norm": False, "eval_every": 100,
                "seed": 0, "out": out, "backend": "numpy", "steps": steps}
    add_training_options(p, defaults, skip=(("cell",) if cells else ()) + tuple(skip), notes=notes)


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
        raise ConfigError(say("--device and --amp need --backend torch",
                              "--device et --amp demandent --backend torch"))


def backend(args):
    """The :class:`rnnlab.tasks.Backend` of ``--backend``/``--device``/``--amp``
    (:func:`check_backend` first)."""
    from ..tasks import Backend

    check_backend(args)
    return Backend(getattr(args, "backend", "numpy"), getattr(args, "device", None) or "cpu",
                   getattr(args, "amp", None))


def setup(args):
    """``args.given`` (the options given on the command line) and the defaults of the others."""
    from ._options import apply_defaults

    apply_defaults(args)


def train_config(args) -> TrainConfig:
    return TrainConfig(steps=args.steps, minutes=args.minutes or 0.0, batch_size=args.batch,
                       optimizer=args.optimizer, lr=args.lr, clip_norm=args.clip or None,
                       eval_every=args.eval_every, seed=args.seed)


def out_dir(args, name: str, command: str) -> Path:
    """The output folder of a new run (:func:`rnnlab.training.folders.new_run_folder`), checked but
    not made: the training engine makes it when the run starts, so a mistake found before (an
    option, the data, the backend) leaves no empty folder behind."""
    from ..training.folders import new_run_folder

    check_backend(args)
    return new_run_folder(args.out if "out" in args.given else None, name, command, force=args.force,
                          make=False, resumable=command != "sweep")


def console():
    from rich.console import Console

    return Console()


def line_console():
    """A console that prints paths and commands as they are, each on one line (copy-paste)."""
    from rich.console import Console

    return Console(soft_wrap=True, markup=False, highlight=False)


def progress(args, description: str):
    """The training engine's progress bar (:class:`rnnlab.training.Progress`: budget, loss,
    steps per second) on stderr, or None with ``--no-progress``."""
    if args.no_progress:
        return None
    from rich.console import Console

    from ..training import Progress

    return Progress(description, Console(file=sys.stderr), unit=say("steps", "pas"), transient=True)


# --- --resume: options read back from the run folder, Ctrl-C -----------------------------------------

# the file each command writes once its training is over (a run without it is not finished)
RESULTS = {"task": "result.json", "classify": "result.json", "forecast": "scores.json"}
NOT_OF_THE_RUN = ("resume", "out", "force", "no_progress", "lang", "threads", "backend", "device", "amp")
MAY_CHANGE_ON_RESUME = ("resume", "steps", "minutes", "no_progress", "lang", "threads", "backend", "device",
                        "amp")


def run_settings(args, command: str, **extra) -> dict:
    """What a checkpoint keeps of the command line: the command and the run's options (all but
    :data:`NOT_OF_THE_RUN`), and ``extra`` (a fingerprint of the data)."""
    options = {dest: getattr(args, dest) for dest in args._defaults if dest not in NOT_OF_THE_RUN}
    return {"command": command, "options": options, **extra}


def resume_options(args, command: str):
    """With ``--resume RUN_DIR``: read the run's checkpoint (:func:`rnnlab.training.load_run`),
    refuse given options that contradict the run's, put the run's options into ``args`` (``--steps``,
    if given, is the new total), say where the run goes on. Returns the checkpoint's meta, or None
    without ``--resume``."""
    if not args.resume:
        return None
    from ..training import load_run

    directory = Path(args.resume)
    _, meta = load_run(directory, "task")
    where = directory / "last.json"
    settings = meta["settings"]
    options = settings.get("options")
    if settings.get("command") != command or not isinstance(options, dict):
        raise CheckpointError(say(f"{where}: a run of rnnlab {settings.get('command')}, "
                                  f"not of rnnlab {command}",
                                  f"{where} : un entraînement de rnnlab {settings.get('command')}, "
                                  f"pas de rnnlab {command}"))
    contradict = [args._names[d] for d in sorted(args.given)
                  if d not in MAY_CHANGE_ON_RESUME and (d not in options or options[d] != getattr(args, d))]
    if contradict:
        raise ConfigError(say(f"--resume continues a run with its own options; "
                              f"remove {', '.join(contradict)} "
                              "(only --steps or --minutes may change its budget)",
                              f"--resume reprend un entraînement avec ses propres options ; "
                              f"retirer {', '.join(contradict)} "
                              "(seuls --steps ou --minutes peuvent changer son budget)"))
    for dest, value in options.items():
        if dest in args._defaults and dest not in args.given:
            setattr(args, dest, value)
    if "minutes" in args.given and "steps" not in args.given:
        args.steps = 0  # a time budget replaces the run's step budget
    elif "steps" in args.given:
        args.minutes = 0.0
    step = meta["step"]
    if not args.steps:
        spent = meta["elapsed_seconds"] / 60.0
        if spent >= args.minutes:
            raise ConfigError(say(f"{args.resume}: the run has spent {spent:.3g} minutes already; "
                                  "give a larger --minutes (or --steps) to continue it",
                                  f"{args.resume} : l'entraînement a déjà passé {spent:.3g} minutes ; "
                                  "donner un --minutes (ou --steps) plus grand pour le poursuivre"))
        line_console().print(say(f"Resuming {args.resume} at step {step} "
                                 f"({spent:.3g} of {args.minutes:g} minutes)",
                                 f"Reprise de {args.resume} au pas {integer(step)} "
                                 f"({spent:.3g} min sur {args.minutes:g})"))
        return meta
    if args.steps < step:
        raise ConfigError(say(f"--steps {args.steps}: the run in {args.resume} is at step {step} already; "
                              f"give more steps to continue it",
                              f"--steps {args.steps} : l'entraînement de {args.resume} est déjà au pas "
                              f"{integer(step)} ; "
                              f"donner plus de pas pour le poursuivre"))
    if args.steps == step and (directory / RESULTS[command]).exists():
        from ..checkpoint import remove_stale_temps

        remove_stale_temps(directory)  # what a run killed during its last writes left
        raise ConfigError(say(f"{args.resume}: the run has spent its budget (step {step} of {args.steps}); "
                              f"give a larger --steps to continue it",
                              f"{args.resume} : l'entraînement a épuisé son budget (pas {integer(step)} sur "
                              f"{integer(args.steps)}) ; "
                              f"donner un --steps plus grand pour le poursuivre"))
    if args.steps == step:  # killed after its last checkpoint, before its results: finish it
        line_console().print(say(f"Finishing {args.resume}: step {step} of {args.steps}, its "
                                 f"{RESULTS[command]} not written yet",
                                 f"Fin de {args.resume} : pas {step} sur {args.steps}, son "
                                 f"{RESULTS[command]} pas encore écrit"))
        return meta
    line_console().print(say(f"Resuming {args.resume} at step {step} of {args.steps}",
                             f"Reprise de {args.resume} au pas {integer(step)} sur {integer(args.steps)}"))
    return meta


def check_same_data(meta, fingerprint: str, what: str) -> None:
    """A resumed run must see the data it began with (``fingerprint``:
    :func:`rnnlab.tasks.data_fingerprint`)."""
    saved = meta["settings"].get("data_sha256")
    if saved != fingerprint:
        raise CheckpointError(say(f"{what}: the data differ from those the run began with "
                                  f"(sha256 {str(saved)[:12]}…, now {fingerprint[:12]}…); "
                                  "resume with the same data",
                                  f"{what} : les données diffèrent de celles du début de l'entraînement "
                                  f"(sha256 {str(saved)[:12]}…, maintenant {fingerprint[:12]}…) ; "
                                  "reprendre avec les mêmes données"))


def run_folder(args, name: str, command: str) -> Path:
    """The folder of the run: ``--resume``'s, or a new one (:func:`out_dir`)."""
    if args.resume:
        return Path(args.resume)
    return out_dir(args, name, command)


@dataclass(frozen=True)
class Session:
    """What a command's training gets: the engine's progress bar (or None), the ``--backend`` and
    the run folder the engine saves in (and resumes from)."""

    progress: object
    backend: object
    checkpoint: object


@contextlib.contextmanager
def training(args, out: Path, settings: dict, resumed, description: str):
    """The context of a command's training: yields a :class:`Session` (the backend, the run saved in
    ``out`` and resumed from it when ``resumed``, and the progress bar, which the engine starts at
    the resumed step)."""
    from ..training import RunFolder

    folder = RunFolder(out, settings, resume=resumed is not None, title=description,
                       replace=bool(getattr(args, "force", False)) and resumed is None)
    yield Session(progress(args, description), backend(args), folder)


def report_interrupted(stop, command: str) -> int:
    """Ctrl-C (:class:`rnnlab.training.TrainingInterrupted`): where the run is saved and the
    command that continues it; exit status 130 (:data:`rnnlab.cli.INTERRUPTED`), as ``rnnlab train``."""
    from ..cli import INTERRUPTED

    con = line_console()
    if stop.checkpoint is None:
        con.print(say(f"Interrupted at step {stop.step}, before the first checkpoint: nothing to resume.",
                      f"Interrompu au pas {integer(stop.step)}, avant le premier point de reprise : "
                      "rien à reprendre."))
        return INTERRUPTED
    again = f"rnnlab {command} --resume {shlex.quote(str(Path(stop.checkpoint).parent))}"
    if stop.saved_step == stop.step:
        con.print(say(f"Interrupted at step {stop.step}; saved {stop.checkpoint}. Continue with: {again}",
                      f"Interrompu au pas {integer(stop.step)} ; sauvegardé dans {stop.checkpoint}. "
                      f"Reprendre avec : {again}"))
    else:
        con.print(say(f"Interrupted during step {stop.step + 1}; {stop.checkpoint} holds step "
                      f"{stop.saved_step}. Continue with: {again}",
                      f"Interrompu pendant le pas {integer(stop.step + 1)} ; {stop.checkpoint} contient le "
                      f"pas {integer(stop.saved_step)}. Reprendre avec : {again}"))
    return INTERRUPTED


def save_run(directory: Path, name: str, model, meta: dict) -> Path:
    """The trained model alone, ``<name>.safetensors`` + ``<name>.json`` (its weights under their
    state-dict keys, its config, ``meta``; :func:`rnnlab.checkpoint.save_checkpoint`): what
    :func:`load_run` rebuilds. The state that resumes the run is the engine's ``last.*``."""
    from ..checkpoint import save_checkpoint

    save_checkpoint(directory, name, model.state_dict(), {"model": model.config.to_json(), **meta})
    return directory / f"{name}.safetensors"


def load_run(directory, name: str):
    """Rebuild a model saved by :func:`save_run`; returns ``(model, meta)``."""
    from ..checkpoint import check_finite_weights, load_checkpoint
    from ..errors import CheckpointError, ShapeError
    from ..seqmodels import SeqModelConfig, build_model

    tensors, meta = load_checkpoint(directory, name, floats=True)
    try:
        config = SeqModelConfig(**meta["model"])
    except (KeyError, TypeError) as exc:
        where = Path(directory) / (name + ".json")
        raise CheckpointError(say(f"{where}: key 'model': expected a model config, "
                                  f"got {meta.get('model')!r:.80} ({exc})",
                                  f"{where} : clé « model » : configuration de modèle attendue, "
                                  f"reçu {meta.get('model')!r:.80} ({guillemets(exc)})")) from None
    model = build_model(config)
    check_finite_weights(tensors, model.params, Path(directory) / (name + ".safetensors"))
    try:
        model.load_state_dict(tensors)
    except ShapeError as exc:
        where = Path(directory) / (name + ".safetensors")
        raise CheckpointError(say(f"{where}: {exc}", f"{where} : {exc}")) from None
    model.eval()
    return model, meta


def write_json(path: Path, data) -> None:
    """Strict JSON, written atomically: a non-finite number (a score that overflowed) is ``null``,
    never the ``NaN`` most JSON readers refuse."""
    import math

    from ..checkpoint import atomic_write

    def strict(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: strict(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [strict(x) for x in v]
        return v

    plain = json.loads(json.dumps(data, default=_plain))  # dataclasses and NumPy scalars to plain data
    atomic_write(path, json.dumps(strict(plain), indent=2, allow_nan=False))


def _plain(v):
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "__dataclass_fields__"):
        return asdict(v)
    raise TypeError(say(f"not JSON-serialisable: {type(v).__name__}",
                        f"non sérialisable en JSON : {type(v).__name__}"))


def refuse_unused(args, dests, why: str) -> None:
    """ConfigError for options given on the command line that ``why`` (another option's value)
    leaves unused: an option silently ignored would look as if it had acted."""
    unused = [args._names[d] for d in dests if d in args.given]
    if unused:
        names = ", ".join(unused)
        raise ConfigError(say(f"{names}: not used with {why}; remove {'it' if len(unused) == 1 else 'them'}",
                              f"{names} : sans effet avec {why} ; "
                              f"{'la retirer' if len(unused) == 1 else 'les retirer'}"))


def parse_list(text: str, kind, name: str):
    try:
        values = [kind(v.strip()) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(say(f"{name}: expected a comma-separated list, got {text!r}",
                              f"{name} : liste séparée par des virgules attendue, reçu « {text} »")) from None
    if not values:
        raise ConfigError(say(f"{name}: expected at least one value, got {text!r}",
                              f"{name} : au moins une valeur attendue, reçu « {text} »"))
    return values
