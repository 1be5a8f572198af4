"""Training and evaluation of the sequence models on the long-memory tasks and on classification.

One job serves every task (:class:`TaskJob`, trained by :func:`train_model`): draw a batch,
forward, loss, backward, clip the global gradient norm, one optimiser step
(:mod:`rnnlab.optim`), and every ``eval_every`` steps a score on a fixed test set. The tasks
only say how to draw a batch and how to score.

- :func:`run_adding` / :func:`run_copy`: one cell at one length T, a result that says whether
  it solved the task; :func:`sweep` runs cells × lengths and :func:`plot_sweep` draws the final
  test loss against T per cell (the memorisation study of the Chapitre).
- :func:`make_classification` and :func:`load_classification_csv`: data for ``rnnlab classify``.
- the run's bookkeeping (budget, history, checkpoints, Ctrl-C and ``--resume``): the training
  engine, :mod:`rnnlab.training`; :class:`TaskJob` is what a task gives it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .data.tasks import (adding_problem, adding_solved_threshold, copy_baseline_loss, copy_recall_accuracy,
                         copy_task)
from .data.table import at_field, expect_column, expect_unique, read_csv, read_number
from .errors import ConfigError, DataError
from .functional import cross_entropy, mse
from .i18n import integer, say
from .optim import clip_grad_norm, make_optimizer
from .seqmodels import SeqModelConfig, build_model


@dataclass(frozen=True)
class TrainConfig:
    """The budget and the optimiser of one run: ``steps`` (exact, reproducible), or with
    ``steps=0`` ``minutes`` of training time."""

    steps: int = 1000
    minutes: float = 0.0
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-2
    clip_norm: float | None = 1.0
    eval_every: int = 100
    seed: int = 0

    def __post_init__(self):
        for name in ("batch_size", "eval_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(say(f"{name}: expected a positive integer, got {getattr(self, name)!r}",
                                      f"{name} : entier positif attendu, reçu {getattr(self, name)!r}"))
        if not isinstance(self.steps, int) or self.steps < 0 or (self.steps == 0 and not self.minutes > 0):
            raise ConfigError(say(f"steps: expected a positive integer (or 0 with minutes > 0), "
                                  f"got {self.steps!r} (minutes {self.minutes!r})",
                                  f"« steps » : entier positif attendu (ou 0 avec minutes > 0), "
                                  f"reçu {self.steps!r} (minutes : {self.minutes!r})"))
        if not self.lr > 0:
            raise ConfigError(say(f"lr: expected a positive learning rate, got {self.lr!r}",
                                  f"lr : taux d'apprentissage positif attendu, reçu {self.lr!r}"))


# --- losses per model kind -------------------------------------------------------------------------


def loss_and_grad(model, x, y, lengths=None, ignore_index=-1):
    """Forward, loss and ∂L/∂output for the model's kind; returns ``(loss, output, d_output)``.

    classifier: cross-entropy of logits (B, K) and classes (B,); regressor: MSE of (B, K);
    tagger: cross-entropy over every step, targets (T, B) (``ignore_index`` for padding);
    generator: MSE of (T, B, K) with the teacher-forced inputs built from ``y``.
    """
    kind = model.config.kind
    if kind == "generator":
        out = model(x, model.teacher_inputs(y))
        loss, d_out = mse(out, y)
    elif kind == "tagger":
        out = model(x, lengths)
        K = out.shape[-1]
        y_tm = y.swapaxes(0, 1) if model.config.batch_first else y
        out_tm = out.swapaxes(0, 1) if model.config.batch_first else out
        loss, d = cross_entropy(out_tm.reshape(-1, K), np.asarray(y_tm).reshape(-1),
                                ignore_index=ignore_index)
        d_out = d.reshape(out_tm.shape)
        d_out = d_out.swapaxes(0, 1) if model.config.batch_first else d_out
    elif kind == "classifier":
        out = model(x, lengths)
        loss, d_out = cross_entropy(out, np.asarray(y))
    else:
        out = model(x, lengths)
        loss, d_out = mse(out, y)
    return float(loss), out, d_out


@dataclass(frozen=True)
class Backend:
    """Where the gradients of a task run are computed: ``"numpy"`` (rnnlab's BPTT) or ``"torch"``
    (the same model in PyTorch on ``device``, ``amp``: bfloat16 autocast; see
    :mod:`rnnlab.backends.torch_tasks`)."""

    name: str = "numpy"
    device: str = "cpu"
    amp: bool | None = None

    def __post_init__(self):
        if self.name not in ("numpy", "torch"):
            raise ConfigError(say(f"backend: expected numpy or torch, got {self.name!r}",
                                  f"moteur de calcul : numpy ou torch attendu, reçu « {self.name} »"))


class TaskJob:
    """A sequence task's job for the training engine (:class:`rnnlab.training.Run`): one step
    draws a batch, runs forward, loss and backward, clips the global gradient norm and updates;
    the evaluation is the task's ``evaluate(model)``, in eval mode."""

    kind = "task"
    best_key = None

    def __init__(self, model, draw_batch, config: TrainConfig, evaluate=None):
        self.model, self.draw_batch, self.train_config, self._evaluate = model, draw_batch, config, evaluate
        self.rng = np.random.default_rng(config.seed)  # the batches
        self.optimizer = make_optimizer(config.optimizer, model.params, lr=config.lr)
        self.base_lr = config.lr

    def train_step(self, run=None) -> dict:
        model, config = self.model, self.train_config
        model.train()
        x, y, lengths = self.draw_batch(self.rng, config.batch_size)
        loss, _, d_out = loss_and_grad(model, x, y, lengths)
        if math.isfinite(loss):
            model.backward(d_out)
            grads = model.grads
            if config.clip_norm:
                clip_grad_norm(grads, config.clip_norm)
            self.optimizer.step(grads)
        return {"lr": config.lr, "train_loss": loss}

    def evaluate(self) -> dict:
        if self._evaluate is None:
            return {}
        self.model.eval()
        return self._evaluate(self.model)

    def sync(self) -> None:
        """The NumPy backend trains the arrays checkpoints read."""

    def generators(self) -> dict:
        return {"batches": self.rng, "model": self.model.rng}

    def describe(self) -> dict:
        return asdict(self.train_config)

    def model_config(self) -> dict:
        return {**self.model.config.to_json(), "dtype": np.dtype(self.model.dtype).name}

    def state(self):
        return {}, {}

    def restore(self, tensors, data, where) -> None:
        """Nothing beyond the engine's: weights, optimiser and generators."""


def train_model(model, draw_batch, config: TrainConfig, evaluate=None, callback=None, checkpoint=None,
                backend: Backend | None = None, progress=None):
    """Train ``model`` for ``config.steps`` steps with the training engine; returns its
    :class:`~rnnlab.training.History`.

    ``draw_batch(rng, batch_size) -> (x, y, lengths)``; ``evaluate(model) -> dict`` of scores
    (run in eval mode every ``eval_every`` steps and at the end); ``callback(step, loss,
    scores_or_None)`` after each step (progress bars). Gradient clipping by global norm
    (``clip_norm``), then one step of ``config.optimizer``.

    ``checkpoint``: a :class:`~rnnlab.training.RunFolder`: the run is saved there at every
    evaluation and on Ctrl-C, which lets the step in progress finish, saves, and raises
    :class:`~rnnlab.training.TrainingInterrupted`; with ``resume=True`` the run goes on from the
    saved state and repeats the uninterrupted run step for step (same batches, losses and
    weights, bit for bit). ``backend``: :class:`Backend` (default NumPy); ``progress``: the
    engine's bar (:class:`rnnlab.training.Progress`) or None. A non-finite loss stops the run with
    :class:`~rnnlab.training.Diverged` (the last good checkpoint is kept).
    """
    from .training import Budget, Run

    backend = backend or Backend()
    if backend.name == "torch":
        from .backends.torch_tasks import TorchTaskJob

        job = TorchTaskJob(model, draw_batch, config, evaluate, device=backend.device, amp=backend.amp,
                           checkpointed=checkpoint is not None)
    else:
        job = TaskJob(model, draw_batch, config, evaluate)

    def on_step(run):
        if callback is not None:
            row = run.history.rows[-1]
            scores = {k: row[k] for k in run.history.score_keys if k in row} or None
            callback(run.step, row["train_loss"], scores)

    budget = Budget(steps=config.steps, minutes=0.0 if config.steps else config.minutes,
                    eval_every=config.eval_every)
    run = Run(job, budget, checkpoint, progress=progress, on_step_end=on_step)
    try:
        run.run()
    finally:
        job.sync()
        model.eval()
    return run.history


# --- the long-memory tasks --------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskResult:
    """One run of a long-memory task."""

    task: str
    cell: str
    T: int
    test_loss: float
    baseline: float
    solved: bool
    steps: int
    seconds: float
    accuracy: float | None = None

    def to_json(self):
        return asdict(self)


def check_task_memory(task: str, cell: str, T: int, train: TrainConfig, hidden_size: int, num_layers=1,
                      test_size=None) -> None:
    """Refuse (:func:`rnnlab.memory.require`) a run of the adding problem or the copy task that
    would not fit in memory: a batch and the fixed test set of sequences of length ``T`` (the copy
    task's T + 2·5 steps of 8 + 2 one-hot inputs), kept for BPTT. Called before any allocation
    (and by the commands before they make the run's folder)."""
    from . import cells
    from .memory import recurrent_run_bytes, require

    D, steps, outputs, default_test = (2, T, 1, 500) if task == "adding" else (10, T + 10, 10, 200)
    sequences = max(train.batch_size, test_size or default_test)
    need = recurrent_run_bytes(cells.get(cell).gates, D, hidden_size, steps, sequences, num_layers=num_layers,
                               extra_parameters=hidden_size * outputs)
    require(need, say(f"{task} T={T}", f"{task} T = {integer(T)}"), say("T (--length), --hidden or --batch",
                                                             "T (--length), --hidden ou --batch"))


def run_adding(cell: str, T: int, train: TrainConfig, hidden_size=32, test_size=500, callback=None,
               recurrent_dropout=0.0, return_model=False, *, num_layers=1, dropout=0.0, backend=None,
               checkpoint=None, progress=None):
    """Train ``cell`` on the adding problem of length ``T``; solved when test MSE < 0.01 × 0.167.

    The test set comes from its own generator (seed + 1), fixed for every evaluation."""
    import time

    check_task_memory("adding", cell, T, train, hidden_size, num_layers, test_size)
    test_x, test_y = adding_problem(test_size, T, np.random.default_rng(train.seed + 1_000_003))
    model = build_model(SeqModelConfig("regressor", 2, hidden_size, 1, cell=cell, num_layers=num_layers,
                                       dropout=dropout, recurrent_dropout=recurrent_dropout), seed=train.seed)

    def draw(rng, b):
        x, y = adding_problem(b, T, rng)
        return x, y, None

    def evaluate(m):
        return {"mse": float(np.mean((m(test_x) - test_y) ** 2))}

    start = time.perf_counter()
    history = train_model(model, draw, train, evaluate, callback, checkpoint, backend, progress)
    test_mse = history.eval_scores[-1]["mse"] if history.eval_scores else float("nan")
    result = TaskResult("adding", cell, T, test_mse, 1.0 / 6.0, bool(test_mse < adding_solved_threshold()),
                        len(history.train_loss), time.perf_counter() - start)
    return (result, model, history) if return_model else result


def run_copy(cell: str, T: int, train: TrainConfig, hidden_size=64, n_symbols=8, length=5, test_size=200,
             callback=None, recurrent_dropout=0.0, return_model=False, recall_only=True, forget_bias=3.0, *,
             num_layers=1, dropout=0.0, backend=None, checkpoint=None, progress=None):
    """Train ``cell`` on the copy task (delay ``T``); solved when ≥ 99 % of recalled symbols are right.

    ``recall_only``: the loss counts the ``length`` recall steps only (cross-entropy per recalled
    symbol, baseline log K); False: every step, blanks included, as Arjovsky et al. (2016)
    (baseline S·log K / (T + 2S)). ``forget_bias`` is added to the LSTM's forget-gate bias b_f
    (the rows of f in ``bias_ih``): f_t ≈ σ(3) ≈ 0.95 at the start keeps C_t over tens of steps,
    where PyTorch's initialisation (``forget_bias=0``, f_t ≈ 0.5) halves it at every step; at
    T = 50 an LSTM with + 1 stayed at the guess for 4,000 steps, with + 3 it reached 0.91
    (benchmarks/README.md, "Copy task"). The test set comes from its own generator (seed + 1),
    fixed for every evaluation."""
    import time

    from .data.tasks import copy_recall_targets

    def targets(y):
        return copy_recall_targets(y, length) if recall_only else y

    check_task_memory("copy", cell, T, train, hidden_size, num_layers, test_size)
    test_x, test_y = copy_task(test_size, T, np.random.default_rng(train.seed + 1_000_003), n_symbols, length)
    test_targets = targets(test_y)
    model = build_model(SeqModelConfig("tagger", n_symbols + 2, hidden_size, n_symbols + 2, cell=cell,
                                       num_layers=num_layers, dropout=dropout,
                                       recurrent_dropout=recurrent_dropout),
                        seed=train.seed)
    spec = model.rnn.cell.spec
    if spec.forget_gate and forget_bias:  # the LSTM's f, by the registry's gate order
        model.params["rnn.bias_ih_l0"][spec.gate_rows(spec.forget_gate, hidden_size)] += forget_bias

    def draw(rng, b):
        x, y = copy_task(b, T, rng, n_symbols, length)
        return x, targets(y), None

    def evaluate(m):
        loss, logits, _ = loss_and_grad(m, test_x, test_targets)
        return {"loss": loss, "accuracy": copy_recall_accuracy(logits, test_y, length)}

    start = time.perf_counter()
    history = train_model(model, draw, train, evaluate, callback, checkpoint, backend, progress)
    last = history.eval_scores[-1] if history.eval_scores else {"loss": float("nan"), "accuracy": 0.0}
    result = TaskResult("copy", cell, T, last["loss"], copy_baseline_loss(T, n_symbols, length, recall_only),
                        bool(last["accuracy"] >= 0.99), len(history.train_loss), time.perf_counter() - start,
                        last["accuracy"])
    return (result, model, history) if return_model else result


RUNNERS = {"adding": run_adding, "copy": run_copy}


def task_name(task: str) -> str:
    """``task`` as the output language names it: in French the adding problem is « addition »
    and the copy task « copie »."""
    return say(task, {"adding": "addition", "copy": "copie"}.get(task, task))


def sweep(task: str, cells, lengths, train: TrainConfig, hidden_size=None, callback=None, budget=None, *,
          backend=None, progress=None, **model_options):
    """Run ``task`` for every cell and length; ``budget(T) -> TrainConfig`` may scale the steps with T.

    ``callback(cell, T, step, loss, scores)`` after each training step; ``backend``: :class:`Backend`;
    ``progress(cell, T)``: each run's progress bar (:class:`rnnlab.training.Progress`) or None;
    ``model_options``: ``num_layers``, ``dropout``, ``recurrent_dropout`` of every run."""
    if task not in RUNNERS:
        raise ConfigError(say(f"task: expected one of {', '.join(RUNNERS)}, got {task!r}",
                              f"tâche : l'une de {', '.join(RUNNERS)} attendue, reçu « {task} »"))
    results = []
    for T in lengths:
        for cell in cells:
            cfg = budget(T) if budget is not None else train
            cb = None if callback is None else (lambda s, l, sc, cell=cell, T=T: callback(cell, T, s, l, sc))
            kwargs = {} if hidden_size is None else {"hidden_size": hidden_size}
            bar = None if progress is None else progress(cell, T)
            results.append(RUNNERS[task](cell, T, cfg, callback=cb, backend=backend, progress=bar, **kwargs,
                                         **model_options))
    return results


def plot_sweep(results, path, title=None):
    """Final test loss against T, one line per cell, with the baseline and (adding) the solved
    threshold; log scale. Writes PNG or SVG by the suffix of ``path``."""
    from .plots import new_figure, save_figure

    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    task = results[0].task
    for cell in dict.fromkeys(r.cell for r in results):
        rs = sorted((r for r in results if r.cell == cell), key=lambda r: r.T)
        line, = ax.plot([r.T for r in rs], [r.test_loss for r in rs], "o-", label=cell.upper())
        solved = [r for r in rs if r.solved]
        ax.plot([r.T for r in solved], [r.test_loss for r in solved], "o", ms=11, mfc="none",
                color=line.get_color())
    Ts = sorted({r.T for r in results})
    ax.plot(Ts, [next(r.baseline for r in results if r.T == T) for T in Ts], "k--", lw=1,
            label=say("baseline (no memory)", "référence (sans mémoire)"))
    if task == "adding":
        ax.axhline(adding_solved_threshold(), color="grey", ls=":", lw=1,
                   label=say("solved below (0.01 × 0.167)", "résolu en dessous (0,01 × 0,167)"))
    ax.set_yscale("log")
    ax.set_xlabel(say("sequence length T", "longueur de séquence T"))
    ax.set_ylabel(say("final test loss (MSE)" if task == "adding" else "final test loss (cross-entropy)",
                      "perte finale de test (MSE)" if task == "adding"
                      else "perte finale de test (entropie croisée)"))
    ax.set_title(title or say(f"{task}: final test loss against T (circled: solved)",
                              f"{task_name(task)} : perte finale de test selon T (cerclé : résolu)"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path, dpi=120)


# --- the classification experiment ------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationData:
    """Sequences split for ``rnnlab classify``: ``x (T_max, n, D)`` zero-padded, ``y (n,)``, ``lengths
    (n,)``, the indices of the training and the test sequences, the feature names, and a sha256 of
    the arrays (a resumed run must see the same data)."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    train: np.ndarray
    test: np.ndarray
    features: list
    fingerprint: str

    @property
    def classes(self) -> int:
        return int(self.y.max()) + 1


def classification_data(data="synthetic", *, samples=600, test_fraction=0.2, label_column="label",
                        sequence_column="sequence", seed=0) -> ClassificationData:
    """The synthetic set (:func:`make_classification`, ``samples`` sequences) or a long-format CSV
    (:func:`load_classification_csv`), and a random split with ``test_fraction`` held out."""
    rng = np.random.default_rng(seed)
    if data == "synthetic":
        x, y, lengths = make_classification(samples, rng)
        features = ["shape", "noise1", "noise2"]
    else:
        x, y, lengths, features = load_classification_csv(data, label_column, sequence_column)
    n = len(y)
    n_test = int(round(n * test_fraction))
    if not 0 < n_test < n:
        raise ConfigError(say(f"--test-fraction {test_fraction}: leaves {n - n_test} training "
                              f"and {n_test} test sequences of {n} (expected at least one of each)",
                              f"--test-fraction {test_fraction} : laisse {n - n_test} séquences "
                              f"d'entraînement et {n_test} de test sur {n} "
                              "(au moins une de chaque attendue)"))
    order = rng.permutation(n)
    return ClassificationData(x, y, lengths, order[n_test:], order[:n_test], list(features),
                              data_fingerprint(x, y, lengths))


def data_fingerprint(*arrays) -> str:
    """sha256 of the arrays' dtypes, shapes and bytes (a resumed run checks it sees its data)."""
    import hashlib

    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


@dataclass
class ClassificationResult:
    """What :func:`run_classification` returns: the trained model, its history, the test accuracy
    and the majority-class baseline."""

    model: object
    history: object
    accuracy: float
    majority_baseline: float

    def to_json(self, data: ClassificationData) -> dict:
        return {"accuracy": self.accuracy, "majority_baseline": self.majority_baseline,
                "n_train": len(data.train), "n_test": len(data.test)}


def run_classification(data: ClassificationData, train: TrainConfig, *, hidden_size=16, cell="lstm",
                       layer_norm=False, num_layers=1, bidirectional=False, dropout=0.0,
                       recurrent_dropout=0.0, callback=None, backend=None, checkpoint=None,
                       progress=None) -> ClassificationResult:
    """Train a many-to-one classifier (:class:`~rnnlab.seqmodels.SequenceClassifier`) on
    ``data.train``, scored by its accuracy on ``data.test`` at each evaluation; ``callback``,
    ``backend``, ``checkpoint``: as :func:`train_model`."""
    x, y, lengths = data.x, data.y, data.lengths
    config = SeqModelConfig("classifier", x.shape[2], hidden_size, data.classes, cell=cell,
                            layer_norm=layer_norm, num_layers=num_layers, bidirectional=bidirectional,
                            dropout=dropout, recurrent_dropout=recurrent_dropout)
    model = build_model(config, seed=train.seed)

    def draw(rng, b):
        idx = rng.choice(data.train, size=min(b, len(data.train)), replace=False)
        T = int(lengths[idx].max())
        return x[:T, idx], y[idx], lengths[idx]

    def evaluate(m):
        logits = m(x[:, data.test], lengths[data.test])
        return {"accuracy": float(np.mean(np.argmax(logits, axis=1) == y[data.test]))}

    history = train_model(model, draw, train, evaluate, callback, checkpoint, backend, progress)
    majority = float(np.mean(y[data.test] == np.bincount(y[data.train], minlength=data.classes).argmax()))
    return ClassificationResult(model, history, history.eval_scores[-1]["accuracy"], majority)


# --- classification data ---------------------------------------------------------------------------


def make_classification(n: int, rng: np.random.Generator, T_min=5, T_max=20, n_features=3):
    """A synthetic many-to-one task with variable lengths: the class says which of three shapes
    the first feature follows (rising 0 → 1, falling 1 → 0, oscillating with a period of 4
    steps), under Gaussian noise (σ = 0.3); the other features are noise. Returns
    ``x (T_max, n, n_features)`` zero-padded, ``y (n,)``, ``lengths (n,)``."""
    if T_min < 2 or T_max < T_min:
        raise ConfigError(say(f"lengths: expected 2 ≤ T_min ≤ T_max, got {T_min}, {T_max}",
                              f"longueurs : 2 ≤ T_min ≤ T_max attendu, reçu {T_min}, {T_max}"))
    from .memory import require

    require(T_max * n * n_features * 4,
            say(f"{n} synthetic sequences", f"{integer(n)} séquences synthétiques"),
            say("their number (--samples)", "leur nombre (--samples)"))
    lengths = rng.integers(T_min, T_max + 1, size=n)
    y = rng.integers(0, 3, size=n)
    x = np.zeros((T_max, n, n_features), np.float32)
    for b in range(n):
        t = np.linspace(0.0, 1.0, lengths[b])
        k = np.arange(lengths[b])
        shape = (t, 1.0 - t, 0.5 + 0.5 * np.sin(np.pi / 2 * k))[y[b]]  # oscillating: a period of 4 steps
        x[:lengths[b], b, 0] = shape + 0.3 * rng.normal(size=lengths[b])
        x[:lengths[b], b, 1:] = rng.normal(size=(lengths[b], n_features - 1))
    return x, y, lengths


def load_classification_csv(path, label_column="label", sequence_column="sequence", time_column="t"):
    """Sequences from a long-format CSV: one row per (sequence, step), a ``sequence`` id column,
    an optional ``t`` column (order within a sequence), a ``label`` column (an integer class,
    constant over the sequence) and numeric feature columns (all the others).

    Returns ``x (T_max, n, D)`` zero-padded, ``y (n,)``, ``lengths (n,)``, the feature names.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(say(f"{path}: no such file", f"{path} : fichier introuvable"))
    header, rows = read_csv(path)
    if not rows:
        raise DataError(say(f"{path}: expected a header and at least one row, got the header alone",
                            f"{path} : un en-tête et au moins une ligne attendus, reçu l'en-tête seul"))
    for col in (label_column, sequence_column):
        expect_column(path, col, header)
    features = [h for h in header if h not in (label_column, sequence_column, time_column)]
    if not features:
        raise DataError(say(f"{path}: no feature column (expected numeric columns besides {label_column!r}, "
                            f"{sequence_column!r})",
                            f"{path} : aucune colonne de caractéristiques (colonnes numériques attendues en "
                            f"plus de « {label_column} » et « {sequence_column} »)"))
    seqs: dict = {}
    for line, row in rows:
        rec = dict(zip(header, row))
        values = [read_number(path, f, line, rec[f]) for f in features]
        t = read_number(path, time_column, line, rec[time_column]) if time_column in rec else line
        try:
            label = int(rec[label_column])
        except ValueError:
            where = at_field(path, label_column, line)
            raise DataError(say(f"{where}: expected an integer class, got {rec[label_column]!r}",
                                f"{where} : classe entière attendue, reçu « {rec[label_column]} »")) from None
        entry = seqs.setdefault(rec[sequence_column], {"label": label, "steps": []})
        if entry["label"] != label:
            raise DataError(say(f"{path}: row {line}: sequence {rec[sequence_column]!r} changes label "
                                f"({entry['label']} then {label})",
                                f"{path} : ligne {integer(line)} : la séquence « {rec[sequence_column]} » "
                                f"change de classe ({entry['label']} puis {label})"))
        entry["steps"].append((t, values))
    if time_column in header:  # a step of a sequence given twice
        s, t = header.index(sequence_column), header.index(time_column)
        expect_unique(path, time_column, ((line, (row[s], row[t])) for line, row in rows))
    n, D = len(seqs), len(features)
    lengths = np.array([len(s["steps"]) for s in seqs.values()])
    x = np.zeros((lengths.max(), n, D), np.float32)
    for b, s in enumerate(seqs.values()):
        x[:lengths[b], b] = [v for _, v in sorted(s["steps"], key=lambda p: p[0])]
    y = np.array([s["label"] for s in seqs.values()])
    if y.min() < 0:
        raise DataError(say(f"{path}: column {label_column!r}: expected class indices ≥ 0, got {y.min()}",
                            f"{path} : colonne « {label_column} » : indices de classe ≥ 0 attendus, "
                            f"reçu {y.min()}"))
    return x, y, lengths, features

