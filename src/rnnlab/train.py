r"""Training a character language model: truncated BPTT with the state carried across batches.

One step, for a batch of B parallel streams cut into pieces of T characters (the Notebook's loop,
done the char-rnn way)::

    1. (inputs, targets) = next T characters of each stream          (T, B) ids
    2. loss, h_T = model.loss(inputs, targets, h_0)                   nats per character
    3. grads = model.backward()    BPTT over the T steps only (h_0 is a constant: "detached")
    4. clip the global gradient norm;  η = schedule(step);  optimiser update in place
    5. h_0 ← h_T for the next batch (zeros when the streams restart at a new epoch)

Validation runs on the held-out text, in nats per character L, bits per character L / ln 2,
and perplexity e^L. The loop, the checkpoints (``last.*``, ``best.*``), the history and exact
resume are the training engine's (:mod:`rnnlab.training`); :class:`Trainer` is the language
model's job for it, and adds to each checkpoint the batcher position, the carried hidden state,
the vocabulary and the samples' generator (the model's draws every dropout mask, recurrent ones
included), so a resumed run reproduces the uninterrupted one step for step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from . import cells
from .errors import CheckpointError, ConfigError, DataError, RnnlabError, ShapeError, ValueRangeError
from .functional import log_softmax
from .i18n import integer, say
from .models import CharLM
from .sample import generate

CHECKPOINT_FORMAT = "rnnlab.charlm-run"
TIME_SCHEDULE_STEPS = 1_000_000  # resolution of the schedule when the budget is in minutes
# streams the validation text is cut into, whatever the training batch: the loss of a stream's first
# characters (read with no context) weighs in proportion to their number, so runs with different
# batches are compared on the same measure (64: that of the README's figures since version 0.1);
# fewer for a short text, so that every stream is at least VAL_STREAM_CHARS long
VAL_STREAMS = 64
VAL_STREAM_CHARS = 1024
# AdamW's λ for training unless --weight-decay says otherwise (torch's AdamW default is 0.01): at
# 8,600 steps the default model reaches 1.449 nats/char with 0.1, 1.459 with 0.2, 1.483 with 0.01
# (benchmarks/README.md, "Five minutes")
ADAMW_WEIGHT_DECAY = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in every checkpoint).

    Budget: ``steps`` (exact, reproducible: a resumed run repeats the uninterrupted one step for
    step) or else ``minutes`` (wall clock; after the warm-up the cosine decay follows the fraction
    spent of the time left, so a run of S steps follows ``steps=S``'s schedule; two runs differ by
    where the clock stops them). Evaluation every ``eval_every``
    steps; when it is 0, every ``eval_seconds`` (time budget) or ten times (step budget).
    The defaults were chosen on Tiny Shakespeare (benchmarks/README.md, "Five minutes"): a sweep
    of step budgets chose batches of 32 streams, then five-minute runs on two idle cores showed
    that model over-fitting (1.526 nats/char on the whole validation split, training loss 1.17),
    dropout 0.2 before the head bringing it to 1.491, and a second sweep at that step count
    (8,600 steps) AdamW's weight decay 0.1 to 1.449 (the five-minute run: 1.442).
    ``recurrent_dropout`` and ``layer_norm`` are those of :class:`~rnnlab.models.CharLM`;
    ``benchmarks/bench_regularisers.py`` measures them
    where the model over-fits.
    """

    corpus: str = "shakespeare"
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    embedding_dim: int = 64
    dropout: float = 0.2  # five idle minutes over-fit without it (Adam: 1.526 against 1.491 nats/char)
    recurrent_dropout: float = 0.0  # variational dropout on h_{t-1} entering W_hh (one mask per window)
    layer_norm: bool = False  # the layer-normalised LSTM (cell "lstm" only)
    seq_len: int = 64
    batch_size: int = 32
    optimizer: str = "adamw"
    lr: float = 1e-2
    weight_decay: float | None = None  # λ; None: ADAMW_WEIGHT_DECAY with adamw, 0 with the others
    warmup_steps: int = 50
    decay: str = "cosine"
    min_lr_ratio: float = 0.05
    clip_norm: float = 5.0
    minutes: float = 5.0
    steps: int = 0
    eval_every: int = 0
    eval_seconds: float = 100.0  # twice within five minutes, then at the end (benchmarks/README.md)
    eval_chars: int = 0  # validation characters read per evaluation (0: the whole validation split)
    val_fraction: float = 0.1
    sample_length: int = 200
    sample_temperature: float = 0.8
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        def bad(name, want):
            raise ConfigError(say(f"{name}: expected {want}, got {getattr(self, name)!r}",
                                  f"{name} : {want} attendu, reçu {getattr(self, name)!r}"))

        for name in ("hidden_size", "num_layers", "embedding_dim", "seq_len", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(name, say("an integer ≥ 1", "un entier ≥ 1"))
        for name in ("steps", "eval_every", "warmup_steps", "sample_length", "eval_chars", "seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                bad(name, say("an integer ≥ 0", "un entier ≥ 0"))
        for name in ("lr", "clip_norm", "eval_seconds", "sample_temperature"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                bad(name, say("a finite number > 0", "un nombre fini > 0"))
        if not (isinstance(self.minutes, (int, float)) and math.isfinite(self.minutes) and self.minutes >= 0):
            bad("minutes", say("a finite number ≥ 0", "un nombre fini ≥ 0"))
        if self.steps == 0 and self.minutes == 0:
            raise ConfigError(say("budget: give --steps N or --minutes M (both are 0)",
                                  "budget : donner --steps N ou --minutes M (les deux valent 0)"))
        for name in ("dropout", "recurrent_dropout"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v < 1.0):
                bad(name, say("a probability in [0, 1)", "une probabilité dans [0, 1["))
        if not isinstance(self.layer_norm, bool):
            bad("layer_norm", say("true or false", "true ou false"))
        wd = self.weight_decay
        if wd is None:  # the run records the λ it uses
            object.__setattr__(self, "weight_decay", ADAMW_WEIGHT_DECAY if self.optimizer == "adamw" else 0.0)
        elif isinstance(wd, bool) or not (isinstance(wd, (int, float)) and math.isfinite(wd) and wd >= 0):
            bad("weight_decay", say("a finite number ≥ 0", "un nombre fini ≥ 0"))
        if not 0.0 < self.val_fraction < 1.0:
            bad("val_fraction", say("a fraction in (0, 1)", "une fraction dans ]0, 1["))
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            bad("min_lr_ratio", say("a ratio in [0, 1]", "un rapport dans [0, 1]"))
        if self.cell not in cells.names():
            bad("cell", " | ".join(cells.names()))
        cells.resolve(self.cell, self.layer_norm)  # layer_norm: only a cell with a layer-normalised variant
        if self.decay not in ("none", "cosine"):
            bad("decay", "none | cosine")
        if self.dtype not in ("float32", "float64"):
            bad("dtype", "float32 | float64")

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise CheckpointError(say(f"{where}: unknown training options {unknown}",
                                      f"{where} : options d'entraînement inconnues {unknown}"))
        if "weight_decay" not in d:  # saved before the option: the optimiser's own λ then (AdamW's 0.01)
            d = {**d, "weight_decay": 0.01 if d.get("optimizer") == "adamw" else 0.0}
        return cls(**d)

    @property
    def budget_is_steps(self) -> bool:
        return self.steps > 0


# --- measures -------------------------------------------------------------------------------


def bits_per_char(nats: float) -> float:
    """L / ln 2: the same loss in bits per character."""
    return nats / math.log(2.0)


def perplexity(nats: float) -> float:
    """e^L: the number of equally likely characters the model hesitates between."""
    return math.exp(min(nats, 700.0))


def evaluate(model, ids, batch_size=32, seq_len=256, max_chars=None) -> float:
    """Mean cross-entropy (nats per character) of predicting ``ids[1:]`` from ``ids[:-1]``.

    The text is cut into ``batch_size`` contiguous streams read ``seq_len`` characters at a
    time with the state carried, in eval mode (no dropout). ``max_chars`` caps the text read.
    """
    ids = np.asarray(ids)
    if max_chars:
        ids = ids[: max_chars + 1]
    B = max(1, min(batch_size, len(ids) - 1))
    L = (len(ids) - 1) // B
    inputs = ids[: B * L].reshape(B, L).T  # (L, B)
    targets = ids[1: B * L + 1].reshape(B, L).T  # (L, B)
    was_training, total, state = model.training, 0.0, None
    model.eval()
    try:
        for k in range(0, L, seq_len):
            logits, state = model(inputs[k:k + seq_len], state)  # (T, B, V)
            logp = log_softmax(logits.astype(np.float64), axis=-1)
            total -= float(np.take_along_axis(logp, targets[k:k + seq_len, :, None], axis=-1).sum())
    finally:
        model.train(was_training)
    return total / (B * L)


def time_schedule_step(elapsed: float, warmed: float, seconds: float, warmup_steps: int) -> int:
    """Where a time budget of ``seconds`` stands on the schedule's grid of
    :data:`TIME_SCHEDULE_STEPS` steps after its warm-up: W + ⌊p (S_grid − W)⌋ with
    p = (τ − τ_W) / (τ_max − τ_W), the fraction spent of the time left when the warm-up ended."""
    left = seconds - warmed
    progress = min(max(elapsed - warmed, 0.0) / left, 1.0) if left > 0 else 1.0
    return warmup_steps + int(progress * (TIME_SCHEDULE_STEPS - warmup_steps))


def validation_streams(n_chars: int) -> int:
    """How many streams a validation text of ``n_chars`` characters is read as: :data:`VAL_STREAMS`,
    fewer when it is shorter than ``VAL_STREAMS × VAL_STREAM_CHARS``, at least 1."""
    return max(1, min(VAL_STREAMS, n_chars // VAL_STREAM_CHARS))


# --- the run ----------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """How a run ended: ``stopped`` is "budget" or "interrupted"."""

    run_dir: Path
    step: int
    stopped: str
    train_loss: float | None
    val_loss: float | None
    best_val: float | None
    sample: str
    chars_per_second: float
    history: list


class Trainer:
    """The language model's job for the training engine (:class:`rnnlab.training.Run`), in a run
    folder: build it with ``Trainer(config, run_dir)`` or :meth:`Trainer.resume`, then :meth:`run`.

    The engine owns the loop, the budget, the evaluations, the checkpoints (``last.*``,
    ``best.*``: :mod:`rnnlab.training.run`), the history, Ctrl-C and the divergence stop; this
    class says what one step is (steps 1–5 of the module docstring), how to evaluate
    (validation nats and bits per character, then a sample), and what else a checkpoint holds
    (vocabulary, batcher position, carried state, the samples' generator).

    ``console`` is a ``rich.console.Console`` (a quiet one for tests); ``progress=False`` hides
    the progress bar. ``on_step(trainer)`` is called after every step (tests use it to
    interrupt a run at a chosen step). ``replace=True`` (``--force``): the finished run ``run_dir``
    holds is removed when this one starts.
    """

    kind = "charlm"
    best_key = "val_loss"
    is_main = True  # a data-parallel run's other processes neither print nor write

    def __init__(self, config: TrainConfig, run_dir, *, console=None, progress=True, on_step=None,
                 replace=False, _vocab=None, _corpus_sha256=None):
        from rich.console import Console

        from .data.corpora import read_corpus
        from .data.text import StreamBatcher, Vocabulary, split_train_val
        from .optim import make_optimizer
        from .training import Budget, Progress, Run, RunFolder

        self.config, self.run_dir = config, Path(run_dir)
        self.console = console or Console()
        self.show_progress = progress
        # 1. data: the whole corpus fixes the vocabulary; a contiguous 90/10 split (a resumed run
        #    refuses a corpus other than the one it recorded, before reading it as text)
        text, self.corpus_sha256 = read_corpus(config.corpus, expect_sha256=_corpus_sha256,
                                               recorded_in=self.run_dir / "last.json")
        self.vocab = _vocab or Vocabulary.from_text(text)
        if self.vocab.size < 2:
            raise ValueRangeError(say(f"corpus {config.corpus}: expected at least 2 distinct characters, "
                                      f"got {self.vocab.size}",
                                      f"corpus {config.corpus} : au moins 2 caractères distincts attendus, "
                                      f"reçu {self.vocab.size}"))
        self.train_ids, self.val_ids = split_train_val(self.vocab.encode(text), config.val_fraction)
        self.batcher = StreamBatcher(self.train_ids, config.batch_size, config.seq_len)
        # 2. model, optimiser, random sources (one for the model's dropout, one for samples)
        self._check_memory(config)
        self.model = CharLM(self.vocab.size, config.cell, config.hidden_size, config.num_layers,
                            config.embedding_dim, config.dropout, config.recurrent_dropout, config.layer_norm,
                            dtype=np.dtype(config.dtype), seed=config.seed)
        self.optimizer = make_optimizer(config.optimizer, self.model.params, lr=config.lr,
                                        weight_decay=config.weight_decay)
        self.base_lr = config.lr
        self.sample_rng = np.random.default_rng([config.seed, 1])
        self.schedule = self._make_schedule()
        self.carry, self.last_sample = None, ""
        # 3. the engine's run
        budget = Budget(config.steps, 0.0 if config.budget_is_steps else config.minutes, config.eval_every,
                        config.eval_seconds)
        bar = Progress(say("training", "entraînement"), self.console, unit=say("chars", "car."),
                       per_step=self.batcher.tokens_per_batch)
        self.engine = Run(self, budget, RunFolder(self.run_dir, title=self._title(), replace=replace),
                          progress=bar if progress else None,
                          on_step=None if on_step is None else (lambda run: on_step(self)))

    def _check_memory(self, config) -> None:
        """Refuse a model and a batch that would not fit in memory (:mod:`rnnlab.memory`), before
        allocating them: the embedding and the head around the recurrent stack, BPTT over
        ``seq_len`` characters (evaluation windows of at least 128)."""
        from . import cells
        from .memory import recurrent_run_bytes, require

        V, E = self.vocab.size, config.embedding_dim or min(self.vocab.size, 64)
        H = config.hidden_size
        need = recurrent_run_bytes(cells.get(config.cell).gates, E, H, max(config.seq_len, 128),
                                   config.batch_size, num_layers=config.num_layers,
                                   extra_parameters=V * E + H * V + V,
                                   itemsize=np.dtype(config.dtype).itemsize)
        require(need, say(f"a {config.num_layers}×{H} model on {config.corpus}",
                          f"un modèle {integer(config.num_layers)}×{integer(H)} sur {config.corpus}"),
                say("--hidden, --layers, --batch or --seq-len", "--hidden, --layers, --batch ou --seq-len"))

    # the run's state, as the engine holds it
    step = property(lambda self: self.engine.step, lambda self, v: setattr(self.engine, "step", v))
    elapsed = property(lambda self: self.engine.elapsed, lambda self, v: setattr(self.engine, "elapsed", v))
    history = property(lambda self: self.engine.history.rows)
    best_val = property(lambda self: self.engine.best)

    # --- schedule and budget --------------------------------------------------------------

    def _make_schedule(self):
        from .optim import Schedule

        cfg = self.config
        total = cfg.steps if cfg.budget_is_steps else TIME_SCHEDULE_STEPS
        warmup = min(cfg.warmup_steps, total - 1)
        decay = cfg.decay if total > warmup else "none"
        return Schedule(cfg.lr, warmup, decay, total_steps=total, min_lr=cfg.lr * cfg.min_lr_ratio)

    def learning_rate(self) -> float:
        """η for the next update: by step with a step budget; with a time budget, warm-up by
        step, then the cosine follows the fraction of the time left after the warm-up that has
        been spent, (τ − τ_W) / (τ_max − τ_W) with τ_W the clock at the end of the warm-up — the
        step budget's (s − W) / (S − W) when the steps take equal time, so a time budget that
        runs S steps follows the schedule of ``--steps S``."""
        cfg, W = self.config, self.schedule.warmup_steps
        if cfg.budget_is_steps or self.step < W:
            return self.schedule.lr_at(self.step)
        warmed = self.history[W - 1]["seconds"] if 0 < W <= len(self.history) else 0.0  # τ_W
        return self.schedule.lr_at(time_schedule_step(self.elapsed, warmed, 60.0 * cfg.minutes, W))

    def budget_left(self) -> bool:
        return self.engine.budget.left(self.step, self.elapsed)

    # --- the job: one step ------------------------------------------------------------------

    def _epoch(self) -> float:
        return round(self.batcher.epoch + self.batcher.position / self.batcher.batches_per_epoch, 4)

    def _row(self, epoch, lr, loss) -> dict:
        return {"epoch": epoch, "chars": (self.step + 1) * self.batcher.tokens_per_batch, "lr": lr,
                "train_loss": loss}

    def train_step(self, run=None) -> dict:
        """Steps 1–5 of the module docstring; returns the history row (loss in nats per character)."""
        from .optim import clip_grad_norm
        from .training import Diverged

        if self.batcher.position == 0:
            self.carry = None  # the streams restart: so does the state
        epoch = self._epoch()
        inputs, targets = self.batcher.next_batch()  # (T, B), (T, B)
        loss, carry = self.model.loss(inputs, targets, self.carry)
        if not math.isfinite(loss):
            return self._row(epoch, self.learning_rate(), loss)  # the engine stops the run
        grads = self.model.backward()
        norm = clip_grad_norm(grads, self.config.clip_norm)
        if not math.isfinite(norm):
            raise Diverged(say(f"the gradient norm is {norm} at step {self.step + 1}",
                               f"la norme du gradient vaut {norm} au pas {integer(self.step + 1)}"))
        lr = self.learning_rate()
        self.optimizer.lr = lr
        self.optimizer.step(grads)
        self.carry = carry
        return self._row(epoch, lr, loss)

    # --- the job: evaluation and samples ------------------------------------------------------

    def validate(self) -> float:
        cfg = self.config
        ids = self.val_ids[: cfg.eval_chars + 1] if cfg.eval_chars else self.val_ids
        return evaluate(self.model, ids, batch_size=validation_streams(len(ids) - 1),
                        seq_len=max(cfg.seq_len, 128))

    def evaluate(self) -> dict:
        val = self.validate()
        return {"val_loss": val, "val_bpc": bits_per_char(val)}

    def after_evaluation(self, run, scores, improved) -> None:
        """A sample, the validation line on the console, the sample appended to ``samples.txt``."""
        from rich.text import Text

        from .checkpoint import append_text

        if not self.is_main:
            return
        cfg, val = self.config, scores["val_loss"]
        self.last_sample = generate(self.model, self.vocab, cfg.sample_length,
                                    temperature=cfg.sample_temperature, rng=self.sample_rng)
        train = self.history[-1]["train_loss"] if self.history else float("nan")
        line = say(f"step {self.step:>6} · train {train:.3f} · validation {val:.3f} nats/char, "
                   f"{bits_per_char(val):.3f} bits/char, perplexity {perplexity(val):.2f}",
                   f"pas {integer(self.step):>6} · entraînement {train:.3f} · validation {val:.3f} "
                   "nats/car., "
                   f"{bits_per_char(val):.3f} bits/car., perplexité {perplexity(val):.2f}")
        self.console.print(Text(line + ("  ★" if improved else ""), style="bold" if improved else ""))
        self.console.print(Text(self.last_sample.strip("\n"), style="dim"))
        append_text(self.run_dir / "samples.txt",
                    f"--- step {self.step}, validation {val:.4f} nats/char ---\n{self.last_sample}\n\n")

    # --- the job: what else a checkpoint holds -------------------------------------------------

    def sync(self) -> None:
        """The NumPy backend trains the arrays checkpoints read: nothing to copy."""

    def generators(self) -> dict:
        return {"model": self.model.rng, "sample": self.sample_rng}

    def describe(self) -> dict:
        return asdict(self.config)

    def model_config(self) -> dict:
        return self.model.config()

    def state(self):
        tensors = {}
        if self.carry is not None:
            parts = self.carry if isinstance(self.carry, tuple) else (self.carry,)
            tensors = {f"carry.{label}": part for label, part in zip("hc", parts)}
        data = {"vocabulary": self.vocab.to_json(), "batcher": self.batcher.state_dict(),
                "corpus_sha256": self.corpus_sha256}
        return tensors, data

    def restore(self, tensors: dict, data: dict, where) -> None:
        self.carry = None
        if "carry.h" in tensors:
            parts = tuple(np.array(tensors[f"carry.{k}"]) for k in ("h", "c") if f"carry.{k}" in tensors)
            self.carry = parts if len(parts) == 2 else parts[0]
        self.batcher.load_state_dict(data["batcher"])

    def _title(self) -> str:
        cfg = self.config
        cell = cells.get(cells.resolve(cfg.cell, cfg.layer_norm)).label[0]  # "LSTM", "LN-LSTM", …
        rates = (("dropout", cfg.dropout), ("rec. dropout", cfg.recurrent_dropout))
        regularisers = "".join(f" · {name} {p:g}" for name, p in rates if p)
        return (f"{Path(cfg.corpus).name} · {cell} {cfg.num_layers}×{cfg.hidden_size} · T={cfg.seq_len} "
                f"B={cfg.batch_size} · {cfg.optimizer} lr {cfg.lr:g}{regularisers}")

    def write_reports(self):
        self.engine.write_reports()

    def save(self, name: str) -> None:
        self.engine.save(name)

    @classmethod
    def resume(cls, run_dir, *, steps=None, minutes=None, **kwargs) -> "Trainer":
        """Continue the run saved in ``run_dir/last.*``. ``steps``/``minutes`` replace the run's
        total budget (the other options are the run's own)."""
        from dataclasses import replace

        from .data.text import Vocabulary

        run_dir = Path(run_dir)
        tensors, meta = load_run_checkpoint(run_dir, "last")
        where = run_dir / "last.json"
        try:
            config = TrainConfig.from_dict(meta["config"], where=str(where))
            if steps is not None or minutes is not None:
                config = replace(config, steps=steps or 0, minutes=minutes or 0.0)
            trainer = cls(config, run_dir, _vocab=Vocabulary.from_json(meta["job"]["vocabulary"]),
                          _corpus_sha256=recorded_corpus(meta, where), **kwargs)
            trainer.engine.restore(tensors, meta, where)
        except RnnlabError as e:
            if isinstance(e, CheckpointError):
                raise
            hint = say(f" (has the corpus {meta['config'].get('corpus')!r} changed since the run began?)",
                       f" (le corpus {meta['config'].get('corpus')!r} a-t-il changé "
                       "depuis le début de l'entraînement ?)") \
                if isinstance(e, DataError) else ""
            raise CheckpointError(say(f"{where}: cannot resume this run: {e}{hint}",
                                      f"{where} : impossible de reprendre cet entraînement : "
                                      f"{e}{hint}")) from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CheckpointError(say(f"{where}: cannot resume this run ({type(e).__name__}: {e})",
                                      f"{where} : impossible de reprendre cet entraînement "
                                      f"({type(e).__name__} : {e})")) from None
        return trainer

    # --- the loop: the engine's ----------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train until the budget is spent or Ctrl-C; evaluate, sample and save on the way."""
        from .training import TrainingInterrupted

        try:
            self.engine.run()
            stopped = "budget"
            val = self.history[-1].get("val_loss") if self.history else None
        except TrainingInterrupted:
            self.console.print(say(f"Interrupted at step {self.step}; saved {self.run_dir / 'last.json'}. "
                                   f"Continue with: rnnlab train --resume {self.run_dir}",
                                   f"Interrompu au pas {integer(self.step)} ; sauvegardé dans "
                                   f"{self.run_dir / 'last.json'}. Reprendre avec : "
                                   f"rnnlab train --resume {self.run_dir}"))
            stopped, val = "interrupted", None
        train = self.history[-1]["train_loss"] if self.history else None
        speed = self.engine.speed * self.batcher.tokens_per_batch
        return TrainResult(self.run_dir, self.step, stopped, train, val, self.best_val, self.last_sample,
                           speed, self.history)


def load_run_checkpoint(run_dir, name="last"):
    """``(tensors, meta)`` of a language model's checkpoint (:func:`rnnlab.training.load_run`, kind
    ``charlm``); :class:`CheckpointError` for anything else (names the file and what is wrong)."""
    from .training import load_run

    tensors, meta = load_run(run_dir, Trainer.kind, name)
    for key in ("vocabulary", "batcher"):
        if key not in meta["job"]:
            raise CheckpointError(say(f"{Path(run_dir) / (name + '.json')}: key 'job.{key}' is missing",
                                      f"{Path(run_dir) / (name + '.json')} : la clé « job.{key} » manque"))
    return tensors, meta


def recorded_corpus(meta, where) -> str | None:
    """The sha256 of its corpus a run recorded (None for a run of an rnnlab that did not: its
    batcher's ``data_sha256`` then checks the text once encoded)."""
    digest = meta["job"].get("corpus_sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        raise CheckpointError(say(f"{where}: key 'job.corpus_sha256': expected a sha256 (64 hex digits), "
                                  f"got {digest!r:.80}",
                                  f"{where} : clé « job.corpus_sha256 » : sha256 attendu (64 chiffres "
                                  f"hexadécimaux), reçu « {digest!s:.80} »"))
    return digest


def load_model(run_dir, name=None):
    """``(model, vocabulary, meta)`` from a run folder: ``best`` if present, else ``last``."""
    from .checkpoint import check_finite_weights
    from .data.text import Vocabulary

    run_dir = Path(run_dir)
    if name is None:
        name = "best" if (run_dir / "best.json").exists() else "last"
    tensors, meta = load_run_checkpoint(run_dir, name)
    where = run_dir / f"{name}.json"
    try:
        vocab = Vocabulary.from_json(meta["job"]["vocabulary"])
        cfg = meta["model"]
        model = CharLM(cfg["vocab_size"], cfg["cell"], cfg["hidden_size"], cfg["num_layers"],
                       cfg["embedding_dim"], cfg["dropout"], cfg.get("recurrent_dropout", 0.0),
                       cfg.get("layer_norm", False), seed=0)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(say(f"{where}: cannot rebuild the model ({e})",
                                  f"{where} : impossible de reconstruire le modèle ({e})")) from None
    if vocab.size != model.vocab_size:
        raise CheckpointError(say(f"{where}: vocabulary of {vocab.size} characters, "
                                  f"model for {model.vocab_size}",
                                  f"{where} : vocabulaire de {vocab.size} caractères, "
                                  f"modèle pour {model.vocab_size}"))
    missing = [k for k in model.params if k not in tensors]
    if missing:
        raise CheckpointError(say(f"{where}: tensors {missing} are missing",
                                  f"{where} : tenseurs {missing} absents"))
    check_finite_weights(tensors, model.params, where)
    try:
        model.load_state_dict({k: tensors[k] for k in model.params})
    except ShapeError as e:
        raise CheckpointError(say(f"{where}: the weights do not fit the model it describes ({e})",
                                  f"{where} : les poids ne correspondent pas au modèle décrit "
                                  f"({e})")) from None
    return model.eval(), vocab, meta
