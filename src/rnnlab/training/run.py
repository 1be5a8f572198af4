r"""The one training run: budget, evaluation cadence, history, checkpoints, exact resume, Ctrl-C,
divergence stop and progress, for every model rnnlab trains.

What is trained is a *job* (:class:`Job`: the language model's, :class:`rnnlab.train.CharLMJob`;
a sequence task's, :class:`rnnlab.tasks.TaskJob`); how its gradients are computed is the job's
backend (NumPy, or PyTorch through :mod:`rnnlab.training.torch`), chosen by whoever builds the
job and passed to it. A :class:`Run` only sees::

    row    = job.train_step(run)     one update; {"train_loss": L, "lr": η, …} for the history
    scores = job.evaluate()          {"val_loss": …} or {"mse": …}: the evaluation, eval mode
    job.sync()                       another backend copies its weights and optimiser state
                                     into job.model / job.optimizer (before a save or an eval)
    job.state() / job.restore(...)   the job's own state (carried hidden state, data position…)

The loop, for steps s + 1 … while the :class:`Budget` lasts::

    1. row = job.train_step(run); a non-finite loss stops the run (:class:`Diverged`), keeping
       the last good checkpoint
    2. an evaluation when due (every ``eval_every`` steps, or every ``eval_seconds`` with a time
       budget), and always once at the end: scores into the history, ``last`` saved, ``best``
       too when the job's ``best_key`` improved, the CSV and the figure rewritten
    3. Ctrl-C: the step in progress finishes, ``last`` is saved and :class:`TrainingInterrupted`
       says where; a second Ctrl-C breaks the step off and keeps the last checkpoint

Everything a resumed run needs is in the checkpoint (:class:`RunFolder`, one format for every
job, told apart by its ``kind``): weights, optimiser state, every random generator, the step,
the clock, the history and the job's own state; a resumed run repeats the uninterrupted one
step for step (with a step budget, bit for bit).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import CheckpointError, ConfigError, DataError, ValueRangeError
from ..i18n import integer, say
from .history import History, plot, write_csv

FORMAT = "rnnlab.run"
VERSION = 2
OLD_FORMATS = {"rnnlab.charlm-run": "rnnlab 0.1 (rnnlab train)",
               "rnnlab.task-run": "rnnlab 0.1 (rnnlab task)"}


class Diverged(ValueRangeError):
    """The training loss or the gradient norm became non-finite: the run stopped."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run after ``step`` steps. ``checkpoint``: the JSON file of the state saved,
    which holds ``saved_step`` steps (``step``, unless a second Ctrl-C broke a step off: then the
    last evaluation's); None when nothing was saved yet."""

    def __init__(self, step: int, saved_step, checkpoint):
        super().__init__(step)
        self.step, self.saved_step, self.checkpoint = step, saved_step, checkpoint


@dataclass(frozen=True)
class Budget:
    """How long a run trains and how often it evaluates.

    ``steps`` (exact, reproducible) or else ``minutes`` (wall clock, training time). Evaluation
    every ``eval_every`` steps; when 0, every ``eval_seconds`` (time budget) or ten times (step
    budget). The run always evaluates once more at its end."""

    steps: int = 0
    minutes: float = 0.0
    eval_every: int = 0
    eval_seconds: float = 60.0

    def __post_init__(self):
        if not (isinstance(self.steps, int) and self.steps >= 0):
            raise ConfigError(say(f"steps: expected an integer ≥ 0, got {self.steps!r}",
                                  f"« steps » : entier ≥ 0 attendu, reçu {self.steps!r}"))
        if not (isinstance(self.minutes, (int, float)) and math.isfinite(self.minutes) and self.minutes >= 0):
            raise ConfigError(say(f"minutes: expected a finite number ≥ 0, got {self.minutes!r}",
                                  f"minutes : nombre fini ≥ 0 attendu, reçu {self.minutes!r}"))
        if self.steps == 0 and self.minutes == 0:
            raise ConfigError(say("budget: give --steps N or --minutes M (both are 0)",
                                  "budget : donner --steps N ou --minutes M (les deux valent 0)"))

    @property
    def by_steps(self) -> bool:
        return self.steps > 0

    def left(self, step: int, elapsed: float) -> bool:
        return step < self.steps if self.by_steps else elapsed < 60.0 * self.minutes

    def eval_due(self, step: int, elapsed: float, last_eval: float) -> bool:
        """After ``step``: every ``eval_every`` steps (or seconds), and at the last step of a step
        budget (a time budget's end evaluates after the loop)."""
        if self.by_steps and step >= self.steps:
            return True
        if not self.left(step, elapsed):
            return False
        if self.eval_every:
            return step % self.eval_every == 0
        if self.by_steps:
            return step % max(1, self.steps // 10) == 0
        return elapsed - last_eval >= self.eval_seconds

    def total(self) -> float:
        return self.steps if self.by_steps else 60.0 * self.minutes

    def done(self, step: int, elapsed: float) -> float:
        return step if self.by_steps else min(elapsed, 60.0 * self.minutes)


class Job(Protocol):
    """What a :class:`Run` trains (duck-typed; see the module docstring)."""

    kind: str  # "charlm", "task": the checkpoint's kind
    model: object  # a rnnlab.module.Module (what checkpoints save)
    optimizer: object  # a rnnlab.optim.Optimizer over model.params
    best_key: str | None  # a score to minimise: `best.*` is saved when it improves
    base_lr: float  # for the message of a diverged run

    def train_step(self, run: "Run") -> dict: ...  # may raise Diverged (a non-finite gradient)
    def evaluate(self) -> dict: ...
    def sync(self) -> None: ...
    def generators(self) -> dict: ...  # name -> numpy.random.Generator, saved and restored in place
    def state(self) -> tuple[dict, dict]: ...  # (tensors, JSON data) of the job's own state
    def restore(self, tensors: dict, data: dict, where) -> None: ...
    def describe(self) -> dict: ...  # JSON data: what built the job (saved as "config")
    def model_config(self) -> dict: ...  # JSON data: what rebuilds the model (saved as "model")


# --- the run folder: one checkpoint format for every job ------------------------------------------


@dataclass(frozen=True)
class RunFolder:
    """Where a run keeps its state: ``<directory>/last.*`` (and ``best.*``), ``loss.csv``,
    ``loss.png``. ``settings`` (JSON data) is the caller's own description of the run (a command's
    options), saved with it; ``resume=True`` goes on from the state saved there; ``replace=True``
    removes the files of the finished run the folder holds when this one starts
    (:func:`rnnlab.training.folders.remove_run_files`)."""

    directory: Path
    settings: dict = field(default_factory=dict)
    resume: bool = False
    title: str = ""  # of the loss figure
    replace: bool = False  # --force: the finished run the folder holds is removed when this one starts

    def __post_init__(self):
        object.__setattr__(self, "directory", Path(self.directory))

    @property
    def path(self) -> Path:
        """The JSON file of ``last`` (the commit point of a save)."""
        return self.directory / "last.json"


def save_run(folder: RunFolder, name: str, job, run: "Run") -> Path:
    """``<name>.safetensors`` (weights under their state-dict keys, the optimiser's buffers under
    ``optimizer/``, the job's tensors) and ``<name>.json`` (kind, step, clock, configs, optimiser
    scalars, generator states, history, settings, the job's data), atomically."""
    from ..checkpoint import flatten_state, rng_state, save_checkpoint

    opt_tensors, opt_skeleton = flatten_state("optimizer", job.optimizer.state_dict())
    job_tensors, job_data = job.state()
    meta = {"format": FORMAT, "version": VERSION, "kind": job.kind, "step": run.step,
            "elapsed_seconds": run.elapsed, "best": run.best, "config": job.describe(),
            "model": job.model_config(),
            "optimizer": opt_skeleton, "rng": {k: rng_state(g) for k, g in job.generators().items()},
            "history": run.history.to_json(), "settings": folder.settings, "job": job_data}
    tensors = {**job.model.state_dict(), **opt_tensors, **job_tensors}
    return save_checkpoint(folder.directory, name, tensors, meta)


def load_run(directory, kind: str, name: str = "last") -> tuple[dict, dict]:
    """``(tensors, meta)`` of a checkpoint written by :func:`save_run` for a job of ``kind``;
    :class:`~rnnlab.errors.CheckpointError` naming the file for a missing folder or file, a
    corrupt checkpoint, one of an older rnnlab (named) or of another kind. ``last`` is read from
    ``best.*`` when a crash during the run's first save left ``best.*`` alone (both hold the whole
    state of the run)."""
    from ..checkpoint import load_checkpoint
    from ..schema import RUN, validate

    directory = Path(directory)
    if name == "last" and not (directory / "last.json").is_file() and (directory / "best.json").is_file():
        name = "best"  # a first save cut short between best.* and last.*: best holds the whole run too
    where = directory / f"{name}.json"
    if not directory.is_dir():
        raise CheckpointError(say(f"run folder {directory}: no such directory",
                                  f"dossier d'entraînement {directory} : introuvable"))
    if not where.is_file():
        raise CheckpointError(say(f"{where}: not found (a run writes {name}.json and {name}.safetensors "
                                  "at each evaluation)",
                                  f"{where} : introuvable (un entraînement écrit {name}.json et "
                                  f"{name}.safetensors "
                                  "à chaque évaluation)"))
    tensors, meta = load_checkpoint(directory, name, floats=True)
    fmt = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
    if isinstance(fmt, str) and fmt in OLD_FORMATS:
        raise CheckpointError(say(f"{where}: a run written by {OLD_FORMATS[fmt]} (format {fmt!r}); this "
                                  f"rnnlab reads format {FORMAT!r} version {VERSION}: train it again",
                                  f"{where} : un entraînement écrit par {OLD_FORMATS[fmt]} "
                                  f"(format {fmt!r}) ; "
                                  f"ce rnnlab lit le format {FORMAT!r} version {VERSION} : "
                                  "l'entraîner à nouveau"))
    if fmt != FORMAT or meta.get("version") != VERSION:
        got = f"{fmt!r}" + (f" version {meta.get('version')!r}" if fmt == FORMAT else "")
        want = f"format {FORMAT!r} version {VERSION}"
        raise CheckpointError(say(f"{where}: expected a checkpoint of {want}, got {got}",
                                  f"{where} : point de reprise au {want} attendu, reçu {got}"))
    if meta.get("kind") != kind:
        raise CheckpointError(say(f"{where}: expected a run of kind {kind!r}, got {meta.get('kind')!r}",
                                  f"{where} : entraînement de type {kind!r} attendu, reçu "
                                  f"{meta.get('kind')!r}"))
    validate(meta, RUN, where, "meta")  # every key's type and range, before any is used
    return tensors, meta


# --- the run ----------------------------------------------------------------------------------------


class Run:
    """Train ``job`` within ``budget``, saving in ``folder`` (None: nothing is written).

    ``progress``: a :class:`Progress` (or None); ``on_step(run)`` after every update, before the
    evaluation it may be due (tests use it to interrupt at a chosen step); ``on_step_end(run)``
    after that evaluation (the history's last row then holds its scores). With
    ``folder.resume`` the constructor restores the saved state.
    """

    def __init__(self, job, budget: Budget, folder: RunFolder | None = None, *, progress=None, on_step=None,
                 on_step_end=None):
        self.job, self.budget, self.folder = job, budget, folder
        self.progress, self.on_step, self.on_step_end = progress, on_step, on_step_end
        self.step, self.elapsed, self.best = 0, 0.0, None
        self.history = History()
        self.saved, self.saved_step = None, None  # the last `last` checkpoint written, and its step
        self.saved_elapsed = None
        self.stopped = None  # "budget" or "interrupted" once run() returns
        self.session_steps, self.session_train_seconds = 0, 0.0  # this process's, for the speed
        if folder is not None and folder.resume:
            self.restore(*load_run(folder.directory, job.kind), folder.path)

    # --- checkpoints ---------------------------------------------------------------------------

    def save(self, name: str = "last") -> Path | None:
        self.job.sync()
        if not getattr(self.job, "is_main", True):
            return None  # data parallel: rank 0 alone writes
        path = save_run(self.folder, name, self.job, self)
        if name == "last":
            self.saved, self.saved_step, self.saved_elapsed = path, self.step, self.elapsed
        return path

    def restore(self, tensors: dict, meta: dict, where) -> None:
        """Put a saved state back into the job's model, optimiser, generators and own state.

        The run must go on with the settings it was saved with (the job's ``config`` and
        ``model``), except its budget (``steps``, ``minutes``), which may extend it."""
        from ..checkpoint import check_finite_weights, rng_from_state, unflatten_state

        self._check_same_settings(meta, where)
        check_finite_weights(tensors, self.job.model.params, where)
        try:
            self.job.model.load_state_dict({k: tensors[k] for k in self.job.model.params})
            self.job.optimizer.load_state_dict(unflatten_state(meta["optimizer"], tensors))
            for name, generator in self.job.generators().items():  # in place: layers share them
                generator.bit_generator.state = rng_from_state(meta["rng"][name]).bit_generator.state
            self.history = History.from_json(meta["history"])
            self.job.restore(tensors, meta["job"], where)
        except KeyError as e:
            raise CheckpointError(say(f"{where}: {e.args[0]!r} is missing",
                                      f"{where} : {e.args[0]!r} manque")) from None
        except DataError:
            raise  # the data changed since the run began: the job's caller explains
        except (CheckpointError, ConfigError, ValueRangeError, TypeError, ValueError) as e:
            raise CheckpointError(say(f"{where}: cannot restore the run ({e})",
                                      f"{where} : impossible de restaurer l'entraînement ({e})")) from None
        self.step, self.elapsed, self.best = meta["step"], float(meta["elapsed_seconds"]), meta.get("best")
        if len(self.history.rows) != self.step:
            raise CheckpointError(say(f"{where}: key 'history': expected {self.step} rows, got "
                                      f"{len(self.history.rows)}",
                                      f"{where} : clé « history » : {self.step} lignes attendues, reçu "
                                      f"{len(self.history.rows)}"))
        self.saved, self.saved_step = where, self.step

    def _check_same_settings(self, meta: dict, where) -> None:
        from ..checkpoint import to_jsonable

        for label, ours in (("config", self.job.describe()), ("model", self.job.model_config())):
            saved, ours = meta[label], to_jsonable(ours)
            # a key the checkpoint lacks was added to rnnlab since: the run had its default
            differ = sorted(k for k in saved if k not in ("steps", "minutes") and saved[k] != ours.get(k))
            if differ:
                was = ", ".join(f"{k}={saved.get(k)!r}" for k in differ)
                now = ", ".join(f"{k}={ours.get(k)!r}" for k in differ)
                raise ConfigError(say(f"{where}: key {label!r}: the run was saved with {was}, resumed with "
                                      f"{now} (only its budget may change)",
                                      f"{where} : clé {label!r} : l'entraînement a été sauvegardé avec "
                                      f"{was}, "
                                      f"repris avec {now} (seul son budget peut changer)"))
        if self.budget.by_steps and meta["step"] > self.budget.steps:
            step, steps = meta["step"], self.budget.steps
            raise ConfigError(say(f"{where}: the run is at step {step}, beyond steps={steps} "
                                  f"(expected at least {step})",
                                  f"{where} : l'entraînement est au pas {integer(step)}, au-delà de "
                                  f"steps={steps} "
                                  f"(au moins {integer(step)} attendu)"))

    def write_reports(self) -> None:
        """``loss.csv`` and ``loss.png`` of the history so far."""
        if self.folder is None or not getattr(self.job, "is_main", True):
            return
        write_csv(self.folder.directory / "loss.csv", self.history)
        score = self.job.best_key or next(iter(self.history.score_keys), None)
        plot(self.folder.directory / "loss.png", self.history, self.folder.title, score,
             bits_axis=self.job.kind == "charlm")

    # --- evaluation ------------------------------------------------------------------------------

    def evaluate(self) -> dict:
        """Scores into the history; ``best`` and ``last`` saved, reports rewritten."""
        self.job.sync()
        scores = self.job.evaluate()
        bad = {k: v for k, v in scores.items() if isinstance(v, float) and not math.isfinite(v)}
        main = getattr(self.job, "is_main", True)  # data parallel: rank 0 scores, and decides for all
        if getattr(self.job, "agree", lambda decision: decision)(bool(bad) and main):
            # the model's outputs overflow (weights too large for its dtype): nothing to keep
            key, value = next(iter(bad.items()), ("score", math.nan))
            self._diverged(say(f"the evaluation's {key} is {value} at step {self.step}",
                               f"le {key} de l'évaluation vaut {value} au pas {self.step}"))
        if self.history.rows:
            self.history.add_scores(scores)
        key = self.job.best_key
        improved = (key is not None and math.isfinite(scores[key])
                    and (self.best is None or scores[key] < self.best))
        if improved:
            self.best = scores[key]
        after = getattr(self.job, "after_evaluation", None)
        if after is not None:
            after(self, scores, improved)
        if self.folder is not None and all(math.isfinite(v) for v in scores.values() if isinstance(v, float)):
            if improved:
                self.save("best")
            self.save("last")
            self.write_reports()
        return scores

    # --- the loop --------------------------------------------------------------------------------

    def step_once(self) -> dict:
        """One update of the job, checked and recorded (what the loop runs at each step, and what
        ``benchmarks/bench_charlm.py`` times): its history row; :class:`Diverged` for a
        non-finite loss."""
        t0 = time.perf_counter()
        row = self.job.train_step(self)
        loss = row["train_loss"]
        if not math.isfinite(loss):
            raise Diverged(say(f"the training loss is {loss} at step {self.step + 1}",
                               f"la perte d'entraînement vaut {loss} au pas {integer(self.step + 1)}"))
        took = time.perf_counter() - t0
        self.session_steps += 1
        self.session_train_seconds += took
        self.step += 1
        self.history.add_step({"step": self.step, **row, "seconds": round(self.elapsed + took, 3)})
        return row

    def run(self) -> "Run":
        """Train until the budget is spent (``stopped = "budget"``); Ctrl-C raises
        :class:`TrainingInterrupted` (after saving), a non-finite loss :class:`Diverged`. The run
        folder is made here (a run refused earlier leaves none), checked to be writable, and
        removed again, with the parents made for it, if the run fails before its first checkpoint
        (unless it diverged: its loss curve stays); the temporary files a run killed during a save
        left there are removed."""
        from ..checkpoint import check_writable, make_folder, remove_empty, remove_stale_temps
        from .folders import remove_run_files

        made = make_folder(self.folder.directory) if self.folder is not None else []
        try:
            if self.folder is not None and getattr(self.job, "is_main", True):  # data parallel: rank 0 writes
                check_writable(self.folder.directory)  # before any training time is spent
                remove_stale_temps(self.folder.directory)  # left by a run killed during a save
                if self.folder.replace and not self.step:
                    remove_run_files(self.folder.directory)
            return self._loop()
        except BaseException as e:
            if made and self.saved is None and not isinstance(e, Diverged):
                # a new folder whose run failed before its first checkpoint (a full disk, Ctrl-C
                # during the first step): nothing to resume, nothing left behind. A diverged run
                # keeps its loss curve, which shows why.
                remove_run_files(self.folder.directory)
            remove_empty(made)
            raise

    def _loop(self) -> "Run":
        from ..checkpoint import install_sigint, restore_sigint

        stop = {"flag": False}
        previous = install_sigint(stop)
        whole = True  # no step half done: model, optimiser and generators hold step self.step
        agree = getattr(self.job, "agree", lambda decision: decision)  # data parallel: rank 0's clock decides
        start, base, last_eval = time.perf_counter(), self.elapsed, self.elapsed
        try:
            with (self.progress or _NoProgress()).bar(self.budget, self.step, self.elapsed) as update:
                while agree(self.budget.left(self.step, self.elapsed)) and not stop["flag"]:
                    whole = False
                    try:
                        row = self.step_once()
                    except Diverged as e:
                        whole = True
                        self._diverged(str(e))
                    self.elapsed = base + time.perf_counter() - start
                    whole = True
                    update(self, row["train_loss"])
                    if self.on_step is not None:
                        self.on_step(self)
                    if not stop["flag"] and agree(self.budget.eval_due(self.step, self.elapsed, last_eval)):
                        self.evaluate()
                        last_eval = self.elapsed = base + time.perf_counter() - start
                    if self.on_step_end is not None:
                        self.on_step_end(self)
        except KeyboardInterrupt:
            stop["flag"] = True
        finally:
            restore_sigint(previous)
        if stop["flag"]:
            self._interrupted(whole)
        if self.step and not (self.history.rows and self.history.evaluated(self.history.rows[-1])):
            self.evaluate()
        elif self.folder is not None and self.saved_step == self.step and self.saved_elapsed != self.elapsed:
            self.save("last")  # the last evaluation's time counts: a resumed time budget starts after it
            if not self.session_steps:  # a finished run resumed (killed before its reports): write them
                self.write_reports()
        self.stopped = "budget"
        return self

    def _interrupted(self, whole: bool):
        self.stopped = "interrupted"
        if self.folder is None:
            raise KeyboardInterrupt
        if whole and self.saved_step != self.step:
            self.save("last")
            self.write_reports()
        raise TrainingInterrupted(self.step, self.saved_step, self.saved)

    @property
    def speed(self) -> float:
        """Steps per second of training time (evaluations excluded) in this process."""
        return self.session_steps / max(self.session_train_seconds, 1e-9)

    def _diverged(self, what: str):
        self.write_reports()
        kept = self.saved
        keep = (say(f"the last good checkpoint is kept: {kept}",
                    f"le dernier point de reprise valide est conservé : {kept}") if kept is not None
                else say("no checkpoint was saved yet", "aucun point de reprise n'était encore sauvegardé"))
        lr = self.job.base_lr
        raise Diverged(say(f"training stopped: {what}; {keep}. Try a smaller --lr (now {lr:g}).",
                           f"entraînement arrêté : {what} ; {keep}. Essayer un --lr plus petit "
                           f"(actuellement {lr:g})."))


# --- progress -------------------------------------------------------------------------------------


class _NoProgress:
    def bar(self, budget, step, elapsed):
        import contextlib

        return contextlib.nullcontext(lambda run, loss: None)


@dataclass
class Progress:
    """A rich progress bar: the budget spent, the loss and the speed (``unit`` per second of
    training; ``per_step`` units in a step: characters for the language model)."""

    description: str
    console: object = None
    unit: str = "steps"
    per_step: int = 1
    transient: bool = False

    def bar(self, budget: Budget, step: int, elapsed: float):
        import contextlib

        from rich.progress import (BarColumn, Progress as RichProgress, TaskProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        @contextlib.contextmanager
        def bar():
            columns = [TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                       TextColumn(say("loss {task.fields[loss]}", "perte {task.fields[loss]}")),
                       TextColumn("{task.fields[speed]} " + self.unit + say("/s", "/s")),
                       TimeElapsedColumn(), TextColumn(say("ETA", "reste")), TimeRemainingColumn()]
            with RichProgress(*columns, console=self.console, transient=self.transient) as rich_bar:
                task = rich_bar.add_task(self.description, total=budget.total(),
                                         completed=budget.done(step, elapsed), loss="–", speed="–")
                first_step, first_elapsed = step, elapsed

                def update(run, loss):
                    seconds = max(run.elapsed - first_elapsed, 1e-9)
                    speed = (run.step - first_step) * self.per_step / seconds
                    rich_bar.update(task, completed=budget.done(run.step, run.elapsed), loss=f"{loss:.4g}",
                                    speed=integer(round(speed)))

                yield update

        return bar()
