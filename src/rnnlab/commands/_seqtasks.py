"""What ``rnnlab forecast``, ``task``, ``sweep`` and ``classify`` share: training options, a rich
progress bar, result tables, checkpoints (:mod:`rnnlab.checkpoint`) and the output folder."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from ..errors import ConfigError
from ..i18n import say, set_language
from ..tasks import TrainConfig


def add_lang(p):
    p.add_argument("--lang", choices=["en", "fr"], default=None, help=say("output language", "langue d'affichage"))


def add_train_args(p, steps=1000, lr=0.01, batch_size=32, cell="lstm", hidden=32, cells=False):
    if not cells:
        p.add_argument("--cell", default=cell, choices=["rnn", "lstm", "gru", "lnlstm"],
                       help=say(f"recurrent cell (default {cell})", f"cellule récurrente (défaut {cell})"))
    p.add_argument("--hidden", type=int, default=hidden, help=say(f"hidden size (default {hidden})",
                                                                   f"taille de l'état caché (défaut {hidden})"))
    p.add_argument("--steps", type=int, default=steps, help=say(f"training steps (default {steps})",
                                                                f"pas d'entraînement (défaut {steps})"))
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


def backend(args):
    """A context in which :func:`rnnlab.tasks.train_model` trains with ``--backend``; a clear
    error for ``--device``/``--amp`` without ``--backend torch``."""
    if getattr(args, "backend", "numpy") == "torch":
        from ..backends.torch_tasks import active

        return active(args.device or "cpu", args.amp)
    if getattr(args, "device", None) is not None or getattr(args, "amp", None) is not None:
        raise ConfigError(say("--device and --amp need --backend torch", "--device et --amp demandent --backend torch"))
    return contextlib.nullcontext()


def setup(args):
    if getattr(args, "lang", None):
        set_language(args.lang)


def train_config(args) -> TrainConfig:
    return TrainConfig(steps=args.steps, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                       clip_norm=args.clip or None, eval_every=args.eval_every, seed=args.seed)


def out_dir(args, default: str) -> Path:
    path = Path(args.out or default)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path}: expected a folder, got a file")
    path.mkdir(parents=True, exist_ok=True)
    return path


def console():
    from rich.console import Console

    return Console()


@contextlib.contextmanager
def progress(args, total: int, description: str):
    """Yields ``update(advance=1, description=None, loss=None)``; a rich bar on stderr unless
    ``--no-progress`` or stderr is not a terminal-like stream."""
    if args.no_progress:
        yield lambda *a, **k: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[loss]}"), TimeElapsedColumn(),
                   console=Console(file=sys.stderr), transient=True)
    with bar:
        task = bar.add_task(description, total=total, loss="")

        def update(advance=1, description=None, loss=None):
            fields = {} if loss is None else {"loss": say(f"loss {loss:.4g}", f"perte {loss:.4g}")}
            if description is not None:
                fields["description"] = description
            bar.update(task, advance=advance, **fields)

        yield update


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
