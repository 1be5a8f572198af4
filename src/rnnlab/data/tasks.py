"""Synthetic long-memory tasks: the adding problem and the copy (memorisation) task.

They test what the Chapitre explains: the gradient of a plain RNN reaching back T steps is a
product of T Jacobians ``W_hᵀ diag(tanh′)`` and fades, so information from the start of a long
sequence cannot be learnt; the LSTM's cell state (∂C_t/∂C_{t−1} = f_t) carries it.

Every generator takes an explicit ``numpy.random.Generator`` and returns time-major arrays.

Adding problem (Hochreiter & Schmidhuber 1997, experiment 4; the form of Le et al. 2015)
    x_t = (u_t, m_t), u_t ~ U(0, 1); m_t = 1 at two steps (one in each half), else 0.
    target = Σ_t u_t m_t (the sum of the two marked values).
    Always answering 1 scores MSE = Var(u + u′) = 2/12 ≈ 0.167: the baseline. Solved when the
    test MSE is below 1 % of it (< 0.00167).

Copy task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016)
    input  : S symbols from {1 … K}, then T − 1 blanks (0), the delimiter K + 1, then S blanks
             while the answer is given: length T + 2S;
    target : blank up to and including the delimiter, then the S symbols in order.
    The loss counts the S recall steps only (:func:`copy_recall_targets` sets the other targets
    to ``COPY_IGNORE``): the cross-entropy per recalled symbol, whose memoryless baseline (a
    uniform guess) is log K, whatever T. Arjovsky et al. average over every step, blanks
    included, which gives S·log K / (T + 2S) for the same guesses (``recall_only=False``); the
    blanks teach nothing about memory, and on that loss the RNN and the LSTM learn much more
    slowly (benchmarks/README.md, "Copy task").
    Solved when ≥ 99 % of the recalled symbols of the test set are right.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..i18n import say

ADDING_BASELINE_MSE = 1.0 / 6.0  # Var(U(0,1) + U(0,1)) = 2/12
SOLVED_FRACTION = 0.01
COPY_IGNORE = -1  # the target of a copy step the loss skips (loss_and_grad's ignore_index)


def _check(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ConfigError(say(f"{name}: expected an integer ≥ {minimum}, got {value!r}",
                              f"{name} : entier ≥ {minimum} attendu, reçu {value!r}"))


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(say(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}",
                              f"rng : un numpy.random.Generator attendu, reçu {type(rng).__name__}"))


def adding_problem(n: int, T: int, rng: np.random.Generator, dtype=np.float32):
    """``n`` sequences of length ``T`` (≥ 2): ``x (T, n, 2)`` and targets ``y (n, 1)``."""
    _check("n", n, 1)
    _check("T", T, 2)
    _check_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(T, n))  # (T, n)
    half = T // 2
    first = rng.integers(0, half, size=n)  # one mark in [0, T/2)
    second = rng.integers(half, T, size=n)  # one in [T/2, T)
    marks = np.zeros((T, n))
    marks[first, np.arange(n)] = 1.0
    marks[second, np.arange(n)] = 1.0
    x = np.stack([values, marks], axis=-1).astype(dtype)  # (T, n, 2)
    y = (values * marks).sum(axis=0)[:, None].astype(dtype)  # (n, 1)
    return x, y


def adding_solved_threshold() -> float:
    """The test MSE under which the adding problem counts as solved: 0.01 × 0.167."""
    return SOLVED_FRACTION * ADDING_BASELINE_MSE


def copy_task(n: int, T: int, rng: np.random.Generator, n_symbols: int = 8, length: int = 5,
              dtype=np.float32):
    """``n`` copy sequences with a delay of ``T`` (≥ 1) steps between the last symbol shown and
    the delimiter. Returns one-hot inputs ``x (T + 2S, n, K + 2)`` and class targets
    ``y (T + 2S, n)`` (0 = blank, 1 … K symbols, K + 1 = delimiter), S = ``length``."""
    _check("n", n, 1)
    _check("T", T, 1)
    _check("n_symbols", n_symbols, 1)
    _check("length", length, 1)
    _check_rng(rng)
    S, K = length, n_symbols
    total = T + 2 * S
    symbols = rng.integers(1, K + 1, size=(S, n))  # (S, n)
    inputs = np.zeros((total, n), dtype=np.int64)
    inputs[:S] = symbols
    inputs[S + T - 1] = K + 1  # the delimiter: "now recall"
    targets = np.zeros((total, n), dtype=np.int64)
    targets[total - S:] = symbols
    x = np.eye(K + 2, dtype=dtype)[inputs]  # (T + 2S, n, K + 2)
    return x, targets


def copy_recall_targets(targets, length: int = 5, ignore_index: int = COPY_IGNORE):
    """The targets of :func:`copy_task` with every step but the ``length`` recall steps set to
    ``ignore_index``: the loss then counts the recalled symbols only."""
    _check("length", length, 1)
    recall = np.array(targets, copy=True)  # (T + 2S, n)
    recall[:-length] = ignore_index
    return recall


def copy_baseline_loss(T: int, n_symbols: int = 8, length: int = 5, recall_only: bool = False) -> float:
    """Cross-entropy of the best memoryless answer (blanks, then uniform guesses): per recalled
    symbol, log K (``recall_only``); per step, blanks included, S·log K / (T + 2S)."""
    if recall_only:
        return math.log(n_symbols)
    return length * math.log(n_symbols) / (T + 2 * length)


def copy_recall_accuracy(logits, targets, length: int) -> float:
    """Fraction of the recalled symbols (the last ``length`` steps) predicted right."""
    pred = np.argmax(np.asarray(logits)[-length:], axis=-1)
    return float(np.mean(pred == np.asarray(targets)[-length:]))
