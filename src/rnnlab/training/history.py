"""The history of a training run, in one format for every model: one row per step.

Each row holds ``step``, ``seconds`` (training time so far), ``lr`` and ``train_loss``, the
job's own columns (the language model adds ``epoch`` and ``chars``), and, at the steps where
the run evaluated, the evaluation's scores (``val_loss`` and ``val_bpc``; ``mse``; ``loss``
and ``accuracy`` …). The same rows give the CSV (:func:`write_csv`) and the figure
(:func:`plot`), and are saved in every checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..i18n import say

FIRST_COLUMNS = ("step", "epoch", "chars", "seconds", "lr", "train_loss")
SCORE_NAMES = {"val_loss": ("validation loss", "perte de validation"), "loss": ("test loss", "perte de test"),
               "mse": ("test MSE", "MSE de test"), "accuracy": ("test accuracy", "exactitude de test")}


@dataclass
class History:
    """One dict per step (see the module docstring); ``score_keys`` are the evaluation's columns."""

    rows: list = field(default_factory=list)
    score_keys: tuple = ()

    def add_step(self, row: dict) -> None:
        self.rows.append(dict(row))

    def add_scores(self, scores: dict) -> None:
        """The evaluation of the last step."""
        self.rows[-1].update(scores)
        self.score_keys = tuple(dict.fromkeys(self.score_keys + tuple(scores)))

    def truncate(self, step: int) -> None:
        self.rows = [r for r in self.rows if r["step"] <= step]

    # the views the task code and its tests read
    @property
    def train_loss(self) -> list:
        return [r["train_loss"] for r in self.rows]

    @property
    def eval_steps(self) -> list:
        return [r["step"] for r in self.rows if self.evaluated(r)]

    @property
    def eval_scores(self) -> list:
        return [{k: r[k] for k in self.score_keys if k in r} for r in self.rows if self.evaluated(r)]

    def evaluated(self, row) -> bool:
        """Whether the run evaluated at this row's step."""
        return any(k in row for k in self.score_keys)

    def to_json(self) -> dict:
        return {"rows": self.rows, "score_keys": list(self.score_keys)}

    @classmethod
    def from_json(cls, data: dict) -> "History":
        rows, keys = data["rows"], data["score_keys"]
        if not (isinstance(rows, list) and all(isinstance(r, dict) and "step" in r for r in rows)):
            raise TypeError(say("history rows: expected a list of dicts with a 'step'",
                                "lignes de l'historique : liste de dictionnaires ayant chacun une clé "
                                "« step » attendue"))
        return cls([dict(r) for r in rows], tuple(keys))

    def columns(self) -> list:
        keys = dict.fromkeys(k for r in self.rows for k in r)
        first = [c for c in FIRST_COLUMNS if c in keys]
        return first + [k for k in keys if k not in first]


def write_csv(path, history: History) -> None:
    """One line per step; a score's column is empty where the run did not evaluate. Atomic."""
    from ..checkpoint import atomic_write

    columns = history.columns() or list(FIRST_COLUMNS[:1])

    def cell(v):
        return "" if v is None else repr(v) if isinstance(v, float) else str(v)

    lines = [",".join(columns)] + [",".join(cell(r.get(c)) for c in columns) for r in history.rows]
    atomic_write(path, "\n".join(lines) + "\n")


def plot(path, history: History, title: str, score: str | None = None, bits_axis: bool = False) -> None:
    """Training loss (raw and smoothed) and the score ``score`` at each evaluation against the
    step; a score in [0, 1] named ``accuracy`` gets its own linear axis; ``bits_axis`` adds a
    right axis in bits per character (the language model). PNG or SVG, written atomically."""
    from ..plots import new_figure, save_figure

    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    rows = history.rows
    steps = np.array([r["step"] for r in rows])
    train = np.array([r["train_loss"] for r in rows], dtype=np.float64)
    if len(rows):
        ax.plot(steps, train, color="tab:blue", alpha=0.3, lw=0.8,
                label=say("training (per batch)", "entraînement (par lot)"))
        w = max(1, len(rows) // 50)
        if len(rows) > w > 1:
            smooth = np.convolve(train, np.ones(w) / w, mode="valid")
            ax.plot(steps[w - 1:], smooth, color="tab:blue", lw=1.6,
                    label=say(f"training (mean of {w})", f"entraînement (moyenne de {w})"))
    points = [(r["step"], r[score]) for r in rows if score and r.get(score) is not None]
    if points:
        on = ax
        if score == "accuracy":
            on = ax.twinx()
            on.set_ylim(0, 1.02)
            on.set_ylabel(say("test accuracy", "exactitude de test"))
        xs, ys = zip(*points)
        en, fr = SCORE_NAMES.get(score, (score, score))
        on.plot(xs, ys, "o-", color="tab:orange", lw=1.6, ms=4,
                label=say(f"evaluation: {en}", f"évaluation : {fr}"))
        on.annotate(f"{ys[-1]:.3g}", (xs[-1], ys[-1]), textcoords="offset points", xytext=(-4, 8), ha="right",
                    color="tab:orange")
        if on is not ax:
            on.legend(loc="center right", fontsize=8)
    if len(rows) and np.all(train[np.isfinite(train)] > 0) and not bits_axis and np.ptp(train) > 0 \
            and train.max() / max(train.min(), 1e-300) > 30:
        ax.set_yscale("log")  # losses that fall over decades (the tasks' MSE)
    ax.set_xlabel(say("step", "pas"))
    if bits_axis:
        ax.set_ylabel(say("loss (nats per character)", "perte (nats par caractère)"))
        ln2 = math.log(2.0)
        sec = ax.secondary_yaxis("right", functions=(lambda n: n / ln2, lambda b: b * ln2))
        sec.set_ylabel(say("bits per character", "bits par caractère"))
    else:
        ax.set_ylabel(say("loss", "perte"))
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=8)
    save_figure(fig, Path(path), dpi=110)
