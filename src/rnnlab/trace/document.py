"""What the renderers render: a :class:`Document` is a list of blocks (headings, paragraphs,
formulas, tables, traces, figures, errata) built once, in the current language, by an
exercise preset or by ``rnnlab trace``; each renderer (text, Markdown, LaTeX, JSON, HTML)
walks the same blocks.

Paragraphs may hold inline mathematics between backticks, in the course's Unicode notation
(`` `∂C_t/∂C_{t-1} = f_t` ``): Markdown keeps it as code, HTML as ``<code>``, LaTeX as math.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Formula:
    """A displayed block of equations or code (monospace, one item per line)."""

    text: str


@dataclass(frozen=True)
class Table:
    """``rows`` hold strings or numbers (numbers are formatted at the document's precision).

    ``key`` and ``fields`` name the table and its columns for machines: JSON writes a keyed table
    as ``"<key>": [{field: cell, …}, …]`` (the errata list, for instance); without a key it goes
    to ``"tables"`` with its headers."""

    headers: tuple
    rows: tuple
    caption: str = ""
    key: str = ""
    fields: tuple = ()


@dataclass(frozen=True)
class TraceBlock:
    """A forward trace (and its backward, if the trace has one), rendered one table per step."""

    trace: object
    title: str = ""
    forward: bool = True


@dataclass(frozen=True)
class Figure:
    """``draw()`` returns a matplotlib figure; renderers save it as PNG/SVG or inline it."""

    name: str
    draw: Callable
    caption: str = ""


@dataclass(frozen=True)
class Erratum:
    """Where the seed is wrong or rounded: what it says, the correct value, why."""

    where: str
    seed_says: str
    correct: str
    why: str


@dataclass
class Document:
    id: str
    title: str
    blocks: list = field(default_factory=list)
    precision: int = 4
    lang: str = "en"
    data: dict = field(default_factory=dict)  # the preset's numbers, for JSON and the tests

    def add(self, *blocks):
        self.blocks.extend(blocks)
        return self

    @property
    def traces(self):
        return [b.trace for b in self.blocks if isinstance(b, TraceBlock)]

    @property
    def errata(self):
        return [b for b in self.blocks if isinstance(b, Erratum)]


# --- numbers ------------------------------------------------------------------------------------


def fmt(value, precision: int = 4) -> str:
    """A computed number at fixed precision (``0.2000``); never ``-0.0000``."""
    v = float(value)
    text = f"{v:.{precision}f}"
    if float(text) == 0.0:
        text = f"{0.0:.{precision}f}"
    return text


def fmt_operand(value, precision: int = 4) -> str:
    """A number substituted into a formula: short when it is exactly short (``0.1``, ``1.0``,
    ``-0.32``, given data), else at fixed precision (``0.1224``, computed)."""
    v = float(value)
    if v == 0.0:
        return "0.0"
    short = repr(round(v, precision))
    if abs(float(short) - v) <= 1e-12 * max(1.0, abs(v)):
        return short
    return fmt(v, precision)


def fmt_vector(values, precision: int = 4) -> str:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.size == 1:
        return fmt(arr[0], precision)
    return "[" + ", ".join(fmt(v, precision) for v in arr.ravel()) + "]"


def fmt_given(values, precision: int = 4) -> str:
    """Given data (weights, inputs) in short form: ``[[0.8, 0.1], [-0.1, 0.8]]``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return fmt_operand(arr, precision)
    return "[" + ", ".join(fmt_given(v, precision) for v in arr) + "]"
