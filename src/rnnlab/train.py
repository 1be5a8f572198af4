r"""Training a character language model: truncated BPTT with the state carried across batches.

One step, for a batch of B parallel streams cut into pieces of T characters (seed 003's loop,
done the char-rnn way)::

    1. (inputs, targets) = next T characters of each stream          (T, B) ids
    2. loss, h_T = model.loss(inputs, targets, h_0)                   nats per character
    3. grads = model.backward()    BPTT over the T steps only (h_0 is a constant: "detached")
    4. clip the global gradient norm;  η = schedule(step);  optimiser update in place
    5. h_0 ← h_T for the next batch (zeros when the streams restart at a new epoch)

Validation runs on the held-out text, in nats per character L, bits per character L / ln 2,
and perplexity e^L. Everything needed to continue is written to the run folder
(``last.*``, ``best.*`` through :mod:`rnnlab.checkpoint`): weights, optimiser state, step,
batcher position, carried hidden state, random-generator states (the model's draws every
dropout mask, recurrent ones included) and the loss history, so a resumed run reproduces the
uninterrupted one step for step.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .checkpoint import atomic_write, install_sigint, restore_sigint
from .errors import CheckpointError, ConfigError, DataError, RnnlabError, ShapeError, ValueRangeError
from .functional import log_softmax
from .i18n import say
from . import cells
from .models import CharLM
from .sample import generate

CHECKPOINT_FORMAT = "rnnlab.charlm-run"
TIME_SCHEDULE_STEPS = 1_000_000  # resolution of the schedule when the budget is in minutes


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in every checkpoint).

    Budget: ``steps`` (exact, reproducible: a resumed run repeats the uninterrupted one step for
    step) or else ``minutes`` (wall clock; the cosine decay then follows the fraction of the time
    spent, so two runs differ by where the clock stops them). Evaluation every ``eval_every``
    steps; when it is 0, every ``eval_seconds`` (time budget) or ten times (step budget).
    The defaults were chosen by measurement on Tiny Shakespeare (validation nats/char after the
    number of steps two CPU cores run in five minutes, ≈ 1,900 at ≈ 26k chars/s): LSTM 1×256
    beats 1×384 at equal compute (1.51 vs 1.56), and Adam's peak lr 1e-2 beats 6e-3 and 3e-3
    (1.44, 1.46, 1.51; at half the steps 1.49, 1.54, 1.63). ``benchmarks/bench_charlm.py
    --minutes 5`` measures the default run. ``recurrent_dropout`` and ``layer_norm`` are those of
    :class:`~rnnlab.models.CharLM`; ``benchmarks/bench_regularisers.py`` measures them where the
    model over-fits.
    """

    corpus: str = "shakespeare"
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    embedding_dim: int = 64
    dropout: float = 0.0
    recurrent_dropout: float = 0.0  # variational dropout on h_{t-1} entering W_hh (one mask per window)
    layer_norm: bool = False  # the layer-normalised LSTM (cell "lstm" only)
    seq_len: int = 64
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-2
    warmup_steps: int = 50
    decay: str = "cosine"
    min_lr_ratio: float = 0.05
    clip_norm: float = 5.0
    minutes: float = 5.0
    steps: int = 0
    eval_every: int = 0
    eval_seconds: float = 60.0
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


# --- the loss history, as CSV and PNG ----------------------------------------------------------

HISTORY_COLUMNS = ("step", "epoch", "chars", "seconds", "lr", "train_loss", "val_loss", "val_bpc")


def write_history_csv(path: Path, rows: list) -> None:
    """One row per step; ``val_loss``/``val_bpc`` empty except at evaluations. Atomic."""
    lines = [",".join(HISTORY_COLUMNS)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else repr(r[c]) if isinstance(r[c], float) else str(r[c])
                              for c in HISTORY_COLUMNS))
    atomic_write(path, "\n".join(lines) + "\n")


def plot_history(path: Path, rows: list, title: str) -> None:
    """Training loss (raw and smoothed) and validation loss against the step; right axis in
    bits per character. PNG (matplotlib, Agg), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([r["step"] for r in rows])
    train = np.array([r["train_loss"] for r in rows], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    if len(rows):
        ax.plot(steps, train, color="tab:blue", alpha=0.25, lw=0.8, label=say("training (per batch)", "entraînement (par lot)"))
        w = max(1, len(rows) // 50)
        if len(rows) > w > 1:
            smooth = np.convolve(train, np.ones(w) / w, mode="valid")
            ax.plot(steps[w - 1:], smooth, color="tab:blue", lw=1.6,
                    label=say(f"training (mean of {w})", f"entraînement (moyenne de {w})"))
        val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
        if val:
            vs, vl = zip(*val)
            ax.plot(vs, vl, "o-", color="tab:orange", lw=1.6, ms=4, label=say("validation", "validation"))
            ax.annotate(f"{vl[-1]:.3f}", (vs[-1], vl[-1]), textcoords="offset points", xytext=(-4, 8), ha="right",
                        color="tab:orange")
    ax.set_xlabel(say("step", "pas"))
    ax.set_ylabel(say("loss (nats per character)", "perte (nats par caractère)"))
    sec = ax.secondary_yaxis("right", functions=(bits_per_char, lambda b: b * math.log(2.0)))
    sec.set_ylabel(say("bits per character", "bits par caractère"))
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(path, buf.getvalue())


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
    """A training run in a folder: build it with ``Trainer(config, run_dir)`` or
    :meth:`Trainer.resume`, then :meth:`run`.

    ``console`` is a ``rich.console.Console`` (a quiet one for tests); ``progress=False`` hides
    the progress bar. ``on_step(trainer)`` is called after every step (tests use it to
    interrupt a run at a chosen step).
    """

    def __init__(self, config: TrainConfig, run_dir, *, console=None, progress=True, on_step=None, _vocab=None):
        from rich.console import Console

        from .data.corpora import load_corpus
        from .data.text import StreamBatcher, Vocabulary, split_train_val
        from .optim import make_optimizer

        self.config, self.run_dir = config, Path(run_dir)
        self.console = console or Console()
        self.show_progress, self.on_step = progress, on_step
        # 1. data: the whole corpus fixes the vocabulary; a contiguous 90/10 split
        text = load_corpus(config.corpus)
        self.vocab = _vocab or Vocabulary.from_text(text)
        if self.vocab.size < 2:
            raise ValueRangeError(say(f"corpus {config.corpus}: expected at least 2 distinct characters, got {self.vocab.size}",
                                      f"corpus {config.corpus} : au moins 2 caractères distincts attendus, reçu {self.vocab.size}"))
        self.train_ids, self.val_ids = split_train_val(self.vocab.encode(text), config.val_fraction)
        self.batcher = StreamBatcher(self.train_ids, config.batch_size, config.seq_len)
        # 2. model, optimiser, random sources (one for the model's dropout, one for samples)
        self.model = CharLM(self.vocab.size, config.cell, config.hidden_size, config.num_layers, config.embedding_dim,
                            config.dropout, config.recurrent_dropout, config.layer_norm, dtype=np.dtype(config.dtype),
                            seed=config.seed)
        self.optimizer = make_optimizer(config.optimizer, self.model.params, lr=config.lr)
        self.sample_rng = np.random.default_rng([config.seed, 1])
        self.schedule = self._make_schedule()
        # 3. the run's state
        self.step, self.elapsed, self.carry = 0, 0.0, None
        self.history, self.best_val, self.last_sample = [], None, ""

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
        step, then the cosine follows the fraction of the minutes spent."""
        cfg, W = self.config, self.schedule.warmup_steps
        if cfg.budget_is_steps or self.step < W:
            return self.schedule.lr_at(self.step)
        progress = min(self.elapsed / (60.0 * cfg.minutes), 1.0)
        return self.schedule.lr_at(W + int(progress * (TIME_SCHEDULE_STEPS - W)))

    def budget_left(self) -> bool:
        cfg = self.config
        if cfg.budget_is_steps:
            return self.step < cfg.steps
        return self.elapsed < 60.0 * cfg.minutes

    def _eval_due(self, last_eval_time) -> bool:
        cfg = self.config
        if cfg.budget_is_steps:
            every = cfg.eval_every or max(1, cfg.steps // 10)
            return self.step % every == 0 and self.step < cfg.steps
        if cfg.eval_every:
            return self.step % cfg.eval_every == 0
        return self.elapsed - last_eval_time >= cfg.eval_seconds

    # --- one step ---------------------------------------------------------------------------

    def train_step(self) -> float:
        """Steps 1–5 of the module docstring; returns the batch loss (nats per character)."""
        if self.batcher.position == 0:
            self.carry = None  # the streams restart: so does the state
        epoch = self.batcher.epoch + self.batcher.position / self.batcher.batches_per_epoch
        inputs, targets = self.batcher.next_batch()  # (T, B), (T, B)
        loss, carry = self.model.loss(inputs, targets, self.carry)
        if not math.isfinite(loss):
            raise _Diverged(say(f"the training loss is {loss} at step {self.step + 1}",
                                f"la perte d'entraînement vaut {loss} au pas {self.step + 1}"))
        from .optim import clip_grad_norm

        grads = self.model.backward()
        norm = clip_grad_norm(grads, self.config.clip_norm)
        if not math.isfinite(norm):
            raise _Diverged(say(f"the gradient norm is {norm} at step {self.step + 1}",
                                f"la norme du gradient vaut {norm} au pas {self.step + 1}"))
        lr = self.learning_rate()
        self.optimizer.lr = lr
        self.optimizer.step(grads)
        self.carry = carry
        self.step += 1
        self.history.append({"step": self.step, "epoch": round(epoch, 4), "chars": self.step * self.batcher.tokens_per_batch,
                             "seconds": round(self.elapsed, 3), "lr": lr, "train_loss": loss})
        return loss

    # --- evaluation, samples, checkpoints ---------------------------------------------------

    def validate(self) -> float:
        cfg = self.config
        return evaluate(self.model, self.val_ids, batch_size=cfg.batch_size, seq_len=max(cfg.seq_len, 128),
                        max_chars=cfg.eval_chars or None)

    def evaluate_and_save(self, progress=None) -> float:
        """Validation loss, a printed sample, ``best.*`` if it improved, ``last.*``, CSV and PNG."""
        from rich.text import Text

        val = self.validate()
        if self.history:
            self.history[-1]["val_loss"], self.history[-1]["val_bpc"] = val, bits_per_char(val)
        improved = self.best_val is None or val < self.best_val
        if improved:
            self.best_val = val
        cfg = self.config
        self.last_sample = generate(self.model, self.vocab, cfg.sample_length, temperature=cfg.sample_temperature,
                                    rng=self.sample_rng)
        train = self.history[-1]["train_loss"] if self.history else float("nan")
        line = say(f"step {self.step:>6} · train {train:.3f} · validation {val:.3f} nats/char, {bits_per_char(val):.3f} "
                   f"bits/char, perplexity {perplexity(val):.2f}",
                   f"pas {self.step:>6} · entraînement {train:.3f} · validation {val:.3f} nats/car., "
                   f"{bits_per_char(val):.3f} bits/car., perplexité {perplexity(val):.2f}")
        self.console.print(Text(line + ("  ★" if improved else ""), style="bold" if improved else ""))
        self.console.print(Text(self.last_sample.strip("\n"), style="dim"))
        with open(self.run_dir / "samples.txt", "a", encoding="utf-8") as f:
            f.write(f"--- step {self.step}, validation {val:.4f} nats/char ---\n{self.last_sample}\n\n")
        if improved:
            self.save("best")
        self.save("last")
        return val

    def write_reports(self):
        cfg = self.config
        write_history_csv(self.run_dir / "loss.csv", self.history)
        cell = cells.get(cells.resolve(cfg.cell, cfg.layer_norm)).label[0]  # "LSTM", "LN-LSTM", …
        regularisers = "".join(f" · {name} {p:g}" for name, p in (("dropout", cfg.dropout),
                                                                  ("rec. dropout", cfg.recurrent_dropout)) if p)
        title = (f"{Path(cfg.corpus).name} · {cell} {cfg.num_layers}×{cfg.hidden_size} · T={cfg.seq_len} "
                 f"B={cfg.batch_size} · {cfg.optimizer} lr {cfg.lr:g}{regularisers}")
        plot_history(self.run_dir / "loss.png", self.history, title)

    def save(self, name: str) -> None:
        """``<run_dir>/<name>.safetensors`` + ``.json``: weights (PyTorch state-dict keys),
        optimiser state, carried hidden state; config, vocabulary, step, RNG states, batcher
        position, loss history."""
        from .checkpoint import flatten_state, rng_state, save_checkpoint

        opt_tensors, opt_skeleton = flatten_state("optimizer", self.optimizer.state_dict())
        tensors = {**self.model.params, **opt_tensors}
        if self.carry is not None:
            parts = self.carry if isinstance(self.carry, tuple) else (self.carry,)
            for label, part in zip("hc", parts):
                tensors[f"carry.{label}"] = part
        meta = {
            "format": CHECKPOINT_FORMAT, "config": asdict(self.config), "model": self.model.config(),
            "vocabulary": self.vocab.to_json(), "step": self.step, "elapsed_seconds": self.elapsed,
            "best_val": self.best_val, "batcher": self.batcher.state_dict(), "optimizer": opt_skeleton,
            "rng": {"model": rng_state(self.model.rng), "sample": rng_state(self.sample_rng)},
            "history": self.history,
        }
        save_checkpoint(self.run_dir, name, tensors, meta)

    def restore(self, tensors: dict, meta: dict) -> None:
        """Put a :meth:`save`\\ d state back (the config was already taken from ``meta``)."""
        from .checkpoint import rng_from_state, unflatten_state

        where = str(self.run_dir / "last.json")
        try:
            weights = {k: tensors[k] for k in self.model.params}
        except KeyError as e:
            raise CheckpointError(say(f"{where}: tensor {e.args[0]!r} is missing", f"{where} : tenseur {e.args[0]!r} absent")) from None
        self.model.load_state_dict(weights)
        self.optimizer.load_state_dict(unflatten_state(meta["optimizer"], tensors))
        if "carry.h" in tensors:
            self.carry = (tensors["carry.h"], tensors["carry.c"]) if "carry.c" in tensors else tensors["carry.h"]
            self.carry = tuple(np.array(c) for c in self.carry) if isinstance(self.carry, tuple) else np.array(self.carry)
        self.batcher.load_state_dict(meta["batcher"])
        # in place: the model's layers share this generator
        self.model.rng.bit_generator.state = rng_from_state(meta["rng"]["model"]).bit_generator.state
        self.sample_rng = rng_from_state(meta["rng"]["sample"])
        self.step, self.elapsed = int(meta["step"]), float(meta["elapsed_seconds"])
        self.best_val, self.history = meta["best_val"], list(meta["history"])

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
            trainer = cls(config, run_dir, _vocab=Vocabulary.from_json(meta["vocabulary"]), **kwargs)
            trainer.restore(tensors, meta)
        except RnnlabError as e:
            if isinstance(e, CheckpointError):
                raise
            hint = say(f" (has the corpus {meta['config'].get('corpus')!r} changed since the run began?)",
                       f" (le corpus {meta['config'].get('corpus')!r} a-t-il changé depuis le début du run ?)") \
                if isinstance(e, DataError) else ""
            raise CheckpointError(say(f"{where}: cannot resume this run: {e}{hint}",
                                      f"{where} : impossible de reprendre ce run : {e}{hint}")) from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CheckpointError(say(f"{where}: cannot resume this run ({type(e).__name__}: {e})",
                                      f"{where} : impossible de reprendre ce run ({type(e).__name__} : {e})")) from None
        return trainer

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train until the budget is spent or Ctrl-C; evaluate, sample and save on the way."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        interrupted = {"flag": False}
        previous = install_sigint(interrupted)
        session_start, session_chars = time.perf_counter(), 0
        base_elapsed, last_eval = self.elapsed, self.elapsed
        train_time = 0.0
        try:
            with self._progress() as bar:
                task = bar.add_task(say("training", "entraînement"), total=self._progress_total(),
                                    completed=self._progress_done(), loss="–", speed="–")
                while self.budget_left() and not interrupted["flag"]:
                    t0 = time.perf_counter()
                    try:
                        loss = self.train_step()
                    except _Diverged as e:
                        self._stop_diverged(str(e))
                    train_time += time.perf_counter() - t0
                    session_chars += self.batcher.tokens_per_batch
                    self.elapsed = base_elapsed + time.perf_counter() - session_start
                    speed = session_chars / max(train_time, 1e-9)
                    bar.update(task, completed=self._progress_done(), loss=f"{loss:.3f}", speed=f"{speed:,.0f}")
                    if self.on_step is not None:
                        self.on_step(self)
                    if self.budget_left() and not interrupted["flag"] and self._eval_due(last_eval):
                        self.evaluate_and_save()
                        self.write_reports()
                        last_eval = self.elapsed = base_elapsed + time.perf_counter() - session_start
        finally:
            restore_sigint(previous)
        speed = session_chars / max(train_time, 1e-9)
        if interrupted["flag"]:
            self.save("last")
            self.write_reports()
            self.console.print(say(f"Interrupted at step {self.step}; saved {self.run_dir / 'last.json'}. Continue with: "
                                   f"rnnlab train --resume {self.run_dir}",
                                   f"Interrompu au pas {self.step} ; sauvegardé dans {self.run_dir / 'last.json'}. "
                                   f"Reprendre avec : rnnlab train --resume {self.run_dir}"))
            stopped, val = "interrupted", None
        else:
            val = self.evaluate_and_save() if self.step else None
            self.write_reports()
            stopped = "budget"
        train = self.history[-1]["train_loss"] if self.history else None
        return TrainResult(self.run_dir, self.step, stopped, train, val, self.best_val, self.last_sample, speed,
                           self.history)

    def _stop_diverged(self, what: str):
        self.history = [r for r in self.history if r["step"] <= self.step]
        self.write_reports()
        kept = self.run_dir / "last.json"
        keep = (say(f"the last good checkpoint is kept: {kept}", f"le dernier point de reprise valide est conservé : {kept}")
                if kept.exists() else say("no checkpoint was saved yet", "aucun point de reprise n'était encore sauvegardé"))
        raise ValueRangeError(say(f"training stopped: {what}; {keep}. Try a smaller --lr (now {self.config.lr:g}).",
                                  f"entraînement arrêté : {what} ; {keep}. Essayer un --lr plus petit "
                                  f"(actuellement {self.config.lr:g})."))

    def _progress_total(self):
        return self.config.steps if self.config.budget_is_steps else 60.0 * self.config.minutes

    def _progress_done(self):
        return self.step if self.config.budget_is_steps else min(self.elapsed, 60.0 * self.config.minutes)

    def _progress(self):
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                        TextColumn(say("loss {task.fields[loss]}", "perte {task.fields[loss]}")),
                        TextColumn(say("{task.fields[speed]} chars/s", "{task.fields[speed]} car./s")),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                        console=self.console, disable=not self.show_progress, transient=False)


class _Diverged(Exception):
    """A non-finite loss or gradient (caught in :meth:`Trainer.run`)."""


def load_run_checkpoint(run_dir, name="last"):
    """``(tensors, meta)`` of a run's checkpoint; :class:`CheckpointError` for anything that is not
    a run folder written by :class:`Trainer` (names the file and what is wrong)."""
    from .checkpoint import load_checkpoint

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(say(f"run folder {run_dir}: no such directory",
                                  f"dossier d'entraînement {run_dir} : introuvable"))
    tensors, meta = load_checkpoint(run_dir, name)
    where = run_dir / f"{name}.json"
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(say(f"{where}: expected a checkpoint of format {CHECKPOINT_FORMAT!r}, got {got!r}",
                                  f"{where} : point de reprise au format {CHECKPOINT_FORMAT!r} attendu, reçu {got!r}"))
    for key in ("config", "model", "vocabulary", "step", "elapsed_seconds", "batcher", "optimizer", "rng", "history"):
        if key not in meta:
            raise CheckpointError(say(f"{where}: key {key!r} is missing", f"{where} : la clé {key!r} manque"))
    return tensors, meta


def load_model(run_dir, name=None):
    """``(model, vocabulary, meta)`` from a run folder: ``best`` if present, else ``last``."""
    from .data.text import Vocabulary

    run_dir = Path(run_dir)
    if name is None:
        name = "best" if (run_dir / "best.json").exists() else "last"
    tensors, meta = load_run_checkpoint(run_dir, name)
    where = run_dir / f"{name}.json"
    try:
        vocab = Vocabulary.from_json(meta["vocabulary"])
        cfg = meta["model"]
        model = CharLM(cfg["vocab_size"], cfg["cell"], cfg["hidden_size"], cfg["num_layers"], cfg["embedding_dim"],
                       cfg["dropout"], cfg.get("recurrent_dropout", 0.0), cfg.get("layer_norm", False), seed=0)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(say(f"{where}: cannot rebuild the model ({e})",
                                  f"{where} : impossible de reconstruire le modèle ({e})")) from None
    if vocab.size != model.vocab_size:
        raise CheckpointError(say(f"{where}: vocabulary of {vocab.size} characters, model for {model.vocab_size}",
                                  f"{where} : vocabulaire de {vocab.size} caractères, modèle pour {model.vocab_size}"))
    missing = [k for k in model.params if k not in tensors]
    if missing:
        raise CheckpointError(say(f"{where}: tensors {missing} are missing", f"{where} : tenseurs {missing} absents"))
    try:
        model.load_state_dict({k: tensors[k] for k in model.params})
    except ShapeError as e:
        raise CheckpointError(say(f"{where}: the weights do not fit the model it describes ({e})",
                                  f"{where} : les poids ne correspondent pas au modèle décrit ({e})")) from None
    return model.eval(), vocab, meta
