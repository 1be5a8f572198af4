r"""The TP's exercise 1.2 (vanishing gradient), answered with the general tools of
:mod:`rnnlab.analysis`.

With tanh' replaced by its average 0.9, every step of BPTT multiplies the gradient by the same
matrix ``J = diag(0.9) W_hh``, so after n steps::

    ∂h_T/∂h_{T−n} ≈ J^n,      W_hh = [[0.8, 0.1], [−0.1, 0.8]]

The exercise asks for the size of ``J^n`` after 3, 5 and 10 steps, the first n where it falls
below 0.01, and what happens when the eigenvalues of ``W_hh`` exceed 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import NORMS, LinearisedFlow, linearised_flow

EXERCISE_1_2_W_HH = ((0.8, 0.1), (-0.1, 0.8))


@dataclass(frozen=True)
class Exercise12:
    """The answers of the TP's ex. 1.2 (see :func:`exercise_1_2`)."""

    flow: LinearisedFlow
    steps: tuple
    threshold: float
    norms: dict  # ord -> (len(steps),) values of ‖J^n‖
    steps_below: dict  # ord -> first n with ‖J^n‖ < threshold
    larger: dict = field(default_factory=dict)  # |λ(W_hh)| -> LinearisedFlow with W_hh rescaled


def exercise_1_2(W_hh=EXERCISE_1_2_W_HH, slope=0.9, steps=(3, 5, 10), threshold=0.01,
                 larger_radii=(1.05, 1.2, 1.5)) -> Exercise12:
    """TP ex. 1.2: the product of n factors ``diag(0.9) W_hh`` after 3, 5, 10 steps, in three
    norms; the first step where each is below 0.01; and, for question 3, the same W_hh rescaled
    so that its eigenvalues have modulus 1.05, 1.2, 1.5 (growth needs ``|λ| · tanh' > 1``,
    i.e. |λ| > 1/0.9 ≈ 1.11 here: eigenvalues just above 1 still vanish)."""
    flow = linearised_flow(W_hh, slope)
    n_max = max(steps)
    norms = {o: flow.norms(n_max, o)[list(steps)] for o in NORMS}
    below = {o: flow.steps_below(threshold, o) for o in NORMS}
    larger = {r: linearised_flow(flow.W_hh * (r / flow.W_spectral_radius), slope) for r in larger_radii}
    return Exercise12(flow, tuple(steps), threshold, norms, below, larger)


__all__ = ["EXERCISE_1_2_W_HH", "Exercise12", "exercise_1_2"]
