"""Gradient checking by float64 central differences.

For a scalar function L(θ), each component of the numerical gradient is

    ∂L/∂θ_k ≈ (L(θ + ε e_k) − L(θ − ε e_k)) / (2ε)

(error O(ε²)); the analytic gradient passes when the relative error

    ‖g_analytic − g_numeric‖₂ / max(‖g_analytic‖₂, ‖g_numeric‖₂)

is at most ``tol`` (1e-6 by default). Usable on any function of arrays and on any rnnlab
layer: see :func:`check_layer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .i18n import say


def numerical_gradient(f, x, eps=1e-6):
    """∂f/∂x by central differences; ``f()`` reads ``x`` (a float64 array perturbed in place)."""
    if x.dtype != np.float64:
        raise ConfigError(say(f"numerical_gradient: expected a float64 array, got {x.dtype}",
                              f"numerical_gradient : tableau float64 attendu, reçu {x.dtype}"))
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):  # by index, not through a flat view: x may be non-contiguous
        saved = x[k]
        x[k] = saved + eps
        plus = float(f())
        x[k] = saved - eps
        minus = float(f())
        x[k] = saved
        grad[k] = (plus - minus) / (2.0 * eps)
    return grad


def relative_error(analytic, numeric) -> float:
    """‖a − n‖ / max(‖a‖, ‖n‖); 0 when both are 0."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    return 0.0 if scale == 0.0 else float(np.linalg.norm(analytic - numeric) / scale)


@dataclass
class GradcheckReport:
    """Relative error per checked array, and the verdict."""

    errors: dict
    tol: float

    @property
    def passed(self) -> bool:
        return all(e <= self.tol for e in self.errors.values())

    @property
    def worst(self) -> tuple:
        name = max(self.errors, key=self.errors.get)
        return name, self.errors[name]

    def __str__(self):
        rows = [f"{name:<24} {err:.3e}  {'ok' if err <= self.tol else 'FAIL'}"
                for name, err in self.errors.items()]
        return "\n".join(rows + [f"tolerance {self.tol:.1e}: {'passed' if self.passed else 'FAILED'}"])


def check_gradients(loss, arrays: dict, analytic: dict, eps=1e-6, tol=1e-6) -> GradcheckReport:
    """Compare ``analytic[name]`` with the central difference of ``loss()`` with respect to each
    ``arrays[name]`` (float64 arrays that ``loss`` reads and that are perturbed in place)."""
    errors = {}
    for name, array in arrays.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, array, eps))
    return GradcheckReport(errors, tol)


def check_layer(layer, x, hx=None, lengths=None, seed=0, eps=1e-6, tol=1e-6) -> GradcheckReport:
    """Check a recurrent layer's backward (every parameter, the input and the initial state)
    on the loss L = Σ output ⊙ G + Σ h_n ⊙ G_h (+ Σ c_n ⊙ G_c), G random and fixed.

    The layer must hold float64 parameters. In training mode, every forward starts from the
    same state of the layer's ``rng``, so its dropout masks (between layers and recurrent) are
    the same in every evaluation of the loss: the check is of the gradient for those masks.
    """
    if layer.dtype != np.float64:
        raise ConfigError(say(f"check_layer: expected a float64 layer, got {layer.dtype}",
                              f"check_layer : couche float64 attendue, reçu {layer.dtype}"))
    rng_state = layer.rng.bit_generator.state
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    out, final = layer.forward(x, hx, lengths)
    layer.rng.bit_generator.state = rng_state
    finals = final if isinstance(final, tuple) else (final,)
    g_out = rng.normal(size=out.shape)
    g_finals = [rng.normal(size=f.shape) for f in finals]
    states = None if hx is None else [np.array(h, dtype=np.float64)
                                      for h in (hx if isinstance(hx, tuple) else (hx,))]

    def loss():
        h0 = None if states is None else (tuple(states) if len(states) == 2 else states[0])
        layer.rng.bit_generator.state = rng_state  # the same dropout masks every time
        o, fin = layer.forward(x, h0, lengths)
        fin = fin if isinstance(fin, tuple) else (fin,)
        return np.sum(o * g_out) + sum(np.sum(f * g) for f, g in zip(fin, g_finals))

    loss()
    d_x = layer.backward(g_out, *g_finals)
    analytic = {**layer.grads, "input": d_x}
    arrays = {**layer.params, "input": x}
    if states is not None:
        d_hx = layer.d_hx if isinstance(layer.d_hx, tuple) else (layer.d_hx,)
        for name, s, d in zip(layer.cell.state_names, states, d_hx):
            arrays[f"{name}_0"], analytic[f"{name}_0"] = s, d
    return check_gradients(loss, arrays, analytic, eps, tol)
