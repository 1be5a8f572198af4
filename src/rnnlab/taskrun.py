"""The bookkeeping of :func:`rnnlab.tasks.train_model`, whatever the backend: the
:class:`History` of a run, :func:`record_step` after each step, and the checkpointed run.

:class:`Checkpointing` (or the :func:`checkpointing` context): the run is saved at every
evaluation and on Ctrl-C (:class:`TrainingInterrupted`) in ``<directory>/last.*``
(:mod:`rnnlab.checkpoint`: safetensors + JSON, atomic), and a resumed run repeats the
uninterrupted one step for step (``--resume`` of ``rnnlab task``, ``classify``, ``forecast``).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import CheckpointError, ConfigError, ShapeError
from .i18n import say

@dataclass
class History:
    """Training loss per step and test scores at each evaluation."""

    train_loss: list = field(default_factory=list)
    eval_steps: list = field(default_factory=list)
    eval_scores: list = field(default_factory=list)  # dicts


def record_step(history, model, step, loss, config, evaluate=None, callback=None, before_eval=None) -> bool:
    """After a training step: keep the loss, evaluate when due (``before_eval()`` first, e.g. to
    copy another backend's weights into ``model``), report to ``callback``. False when the loss
    is not finite (stop)."""
    history.train_loss.append(loss)
    scores = None
    if evaluate is not None and (step % config.eval_every == 0 or step == config.steps):
        if before_eval is not None:
            before_eval()
        model.eval()
        scores = evaluate(model)
        history.eval_steps.append(step)
        history.eval_scores.append(scores)
    if callback is not None:
        callback(step, loss, scores)
    return math.isfinite(loss)


# the checkpointing of the train_model calls that pass none, set by checkpointing() (None: no checkpoint)
CHECKPOINTING = contextvars.ContextVar("rnnlab_checkpointing", default=None)

CHECKPOINT_FORMAT = "rnnlab.task-run"
CHECKPOINT_NAME = "last"  # <directory>/last.safetensors + last.json


@dataclass(frozen=True)
class Checkpointing:
    """Where :func:`~rnnlab.tasks.train_model` keeps the state of a run: ``<directory>/last.*``
    (:mod:`rnnlab.checkpoint`). ``settings`` (JSON data) is the caller's own description of
    the run (a command's options), saved with it; ``resume=True`` goes on from the state saved
    there instead of starting afresh."""

    directory: Path
    settings: dict = field(default_factory=dict)
    resume: bool = False

    def __post_init__(self):
        object.__setattr__(self, "directory", Path(self.directory))

    @property
    def path(self) -> Path:
        """The checkpoint's JSON file (the commit point of a save)."""
        return self.directory / f"{CHECKPOINT_NAME}.json"


@contextlib.contextmanager
def checkpointing(directory, settings=None, resume=False):
    """Inside the block, the :func:`~rnnlab.tasks.train_model` calls that pass no ``checkpoint`` (those of
    :func:`~rnnlab.tasks.run_adding`, :func:`~rnnlab.tasks.run_copy`, :func:`rnnlab.forecast.fit_forecaster`) save their run
    in ``directory``, and go on from it when ``resume``."""
    token = CHECKPOINTING.set(Checkpointing(directory, dict(settings or {}), resume))
    try:
        yield
    finally:
        CHECKPOINTING.reset(token)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a checkpointed :func:`~rnnlab.tasks.train_model` after ``step`` steps. ``checkpoint``:
    the JSON file of the state saved, which holds ``saved_step`` steps (``step``, unless a second
    Ctrl-C broke a step off: then the last evaluation's); None when nothing was saved yet."""

    def __init__(self, step: int, saved_step, checkpoint):
        super().__init__(step)
        self.step, self.saved_step, self.checkpoint = step, saved_step, checkpoint


class TrainingRun:
    r"""The state a checkpoint of :func:`~rnnlab.tasks.train_model` holds, and the loop that saves it.

    The state: the weights and the model's generator (dropout masks), the optimiser's buffers
    and step count, the generator that draws the batches, the step ``s`` and the
    :class:`History`. With a checkpoint that says ``resume``, the constructor puts the saved
    state into ``model``, ``optimizer`` and ``rng``. :meth:`loop` runs steps ``s + 1 …
    config.steps``. ``sync()`` (another backend) copies its weights and optimiser state into
    ``model`` and ``optimizer`` before each save.
    """

    def __init__(self, model, optimizer, rng, config, checkpoint=None, sync=None):
        self.model, self.optimizer, self.rng, self.config = model, optimizer, rng, config
        self.checkpoint, self.sync = checkpoint, sync
        self.step, self.history = 0, History()
        self.saved, self.saved_step = None, None  # the last checkpoint written and its step
        if checkpoint is not None and checkpoint.resume:
            tensors, meta = load_training_state(checkpoint.directory)
            self.step, self.history = restore_training_state(tensors, meta, model, optimizer, rng, config,
                                                             checkpoint.path)
            self.saved, self.saved_step = checkpoint.path, self.step

    def save(self):
        if self.sync is not None:
            self.sync()
        self.saved = save_training_state(self.checkpoint.directory, self.model, self.optimizer, self.rng, self.step,
                                         self.history, self.config, self.checkpoint.settings)
        self.saved_step = self.step

    def loop(self, one_step, evaluate=None, callback=None, before_eval=None):
        """``loss = one_step()`` for the steps left, each followed by :func:`record_step`.

        With a checkpoint: a save after every evaluation of a finite loss; the first Ctrl-C lets
        the step in progress finish, saves it and raises :class:`TrainingInterrupted` (so does a
        ``KeyboardInterrupt`` raised by ``callback``); a second Ctrl-C breaks the step off and
        keeps the last checkpoint."""
        cfg, checkpoint = self.config, self.checkpoint
        whole = True  # no step half done: model, optimiser and rng hold step self.step

        def report(step, loss, scores):
            nonlocal whole
            self.step, whole = step, True
            if checkpoint is not None and scores is not None and math.isfinite(loss):
                self.save()
            if callback is not None:
                callback(step, loss, scores)

        from .checkpoint import install_sigint, restore_sigint

        stop = {"flag": False}
        previous = install_sigint(stop) if checkpoint is not None else None
        try:
            for step in range(self.step + 1, cfg.steps + 1):
                whole = False
                loss = one_step()
                if not record_step(self.history, self.model, step, loss, cfg, evaluate, report, before_eval):
                    break
                if stop["flag"]:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if checkpoint is None:
                raise
            if whole and self.saved_step != self.step:
                self.save()
            raise TrainingInterrupted(self.step, self.saved_step, self.saved) from None
        finally:
            restore_sigint(previous)


def save_training_state(directory, model, optimizer, rng, step, history, config, settings=None) -> Path:
    """Write ``<directory>/last.safetensors`` (the weights under their ``state_dict`` keys, the
    optimiser's buffers under ``optimizer/``) and ``last.json`` (step, training and model
    configs, optimiser scalars, generator states, history, ``settings``), atomically
    (:func:`rnnlab.checkpoint.save_checkpoint`); returns the JSON path."""
    from .checkpoint import flatten_state, rng_state, save_checkpoint

    opt_tensors, opt_skeleton = flatten_state("optimizer", optimizer.state_dict())
    meta = {"format": CHECKPOINT_FORMAT, "step": step, "train": asdict(config), "model": model.config.to_json(),
            "dtype": np.dtype(model.dtype).name, "optimizer": opt_skeleton,
            "rng": {"batches": rng_state(rng), "model": rng_state(model.rng)},
            "history": asdict(history), "settings": settings or {}}
    return save_checkpoint(directory, CHECKPOINT_NAME, {**model.state_dict(), **opt_tensors}, meta)


def load_training_state(directory) -> tuple[dict, dict]:
    """``(tensors, meta)`` of the run saved in ``directory`` by :func:`save_training_state`;
    :class:`~rnnlab.errors.CheckpointError` naming the file for a missing folder or checkpoint,
    a corrupt one (:func:`rnnlab.checkpoint.load_checkpoint`) or one of another kind."""
    from .checkpoint import load_checkpoint

    directory = Path(directory)
    where = directory / f"{CHECKPOINT_NAME}.json"
    if not directory.is_dir():
        raise CheckpointError(say(f"run folder {directory}: no such directory",
                                  f"dossier du run {directory} : introuvable"))
    if not where.is_file():
        raise CheckpointError(say(f"{where}: no checkpoint to resume (a run of rnnlab task, classify or forecast "
                                  "writes last.json and last.safetensors at each evaluation)",
                                  f"{where} : aucun point de reprise (un run de rnnlab task, classify ou forecast "
                                  "écrit last.json et last.safetensors à chaque évaluation)"))
    tensors, meta = load_checkpoint(directory, CHECKPOINT_NAME)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(say(f"{where}: expected a checkpoint of format {CHECKPOINT_FORMAT!r}, got "
                                  f"{meta.get('format')!r}",
                                  f"{where} : point de reprise au format {CHECKPOINT_FORMAT!r} attendu, reçu "
                                  f"{meta.get('format')!r}"))
    for key, kind in (("step", int), ("train", dict), ("model", dict), ("dtype", str), ("optimizer", dict),
                      ("rng", dict), ("history", dict), ("settings", dict)):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CheckpointError(say(f"{where}: key {key!r}: expected a {kind.__name__}, got {meta.get(key)!r:.60}",
                                      f"{where} : clé {key!r} : {kind.__name__} attendu, reçu {meta.get(key)!r:.60}"))
    return tensors, meta


def restore_training_state(tensors, meta, model, optimizer, rng, config, where) -> tuple[int, History]:
    """Put a state read by :func:`load_training_state` into ``model``, ``optimizer`` and ``rng``
    (in place); returns ``(step, history)``. The run's settings must be the saved ones, except
    ``config.steps``, which may extend the run (:class:`~rnnlab.errors.ConfigError` naming what
    differs otherwise)."""
    from .checkpoint import rng_from_state, to_jsonable, unflatten_state

    for label, saved, ours in (("train", meta["train"], asdict(config)),
                               ("model", meta["model"], model.config.to_json()),
                               ("dtype", {"dtype": meta["dtype"]}, {"dtype": np.dtype(model.dtype).name})):
        ours = to_jsonable(ours)
        differ = sorted(k for k in set(saved) | set(ours) if k != "steps" and saved.get(k) != ours.get(k))
        if differ:
            was = ", ".join(f"{k}={saved.get(k)!r}" for k in differ)
            now = ", ".join(f"{k}={ours.get(k)!r}" for k in differ)
            raise ConfigError(say(f"{where}: key {label!r}: the run was saved with {was}, resumed with {now} "
                                  "(only the number of steps may change)",
                                  f"{where} : clé {label!r} : le run a été sauvegardé avec {was}, repris avec {now} "
                                  "(seul le nombre de pas peut changer)"))
    step = meta["step"]
    if step > config.steps:
        raise ConfigError(say(f"{where}: the run is at step {step}, beyond steps={config.steps} "
                              f"(expected at least {step})",
                              f"{where} : le run est au pas {step}, au-delà de steps={config.steps} "
                              f"(au moins {step} attendu)"))
    try:
        model.load_state_dict({k: tensors[k] for k in model.state_dict()})
        optimizer.load_state_dict(unflatten_state(meta["optimizer"], tensors))
        rng.bit_generator.state = rng_from_state(meta["rng"]["batches"]).bit_generator.state
        model.rng.bit_generator.state = rng_from_state(meta["rng"]["model"]).bit_generator.state  # shared by the layers
        history = History(**{k: list(meta["history"][k]) for k in ("train_loss", "eval_steps", "eval_scores")})
    except KeyError as e:
        raise CheckpointError(say(f"{where}: {e.args[0]!r} is missing", f"{where} : {e.args[0]!r} manque")) from None
    except (CheckpointError, ConfigError, ShapeError, TypeError, ValueError) as e:
        raise CheckpointError(say(f"{where}: cannot restore the run ({e})",
                                  f"{where} : impossible de restaurer le run ({e})")) from None
    if len(history.train_loss) != step:
        raise CheckpointError(say(f"{where}: key 'history': expected {step} training losses, got "
                                  f"{len(history.train_loss)}",
                                  f"{where} : clé 'history' : {step} pertes d'entraînement attendues, reçu "
                                  f"{len(history.train_loss)}"))
    return step, history
