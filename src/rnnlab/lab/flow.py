"""The gradient-flow page's computations, from :mod:`rnnlab.analysis`: exercise 1.2 of the TP
(``‖Jⁿ‖`` for ``J = diag(tanh′) W_hh`` in three norms, the steps until it falls under a
threshold or rises over another) and the exact ``‖∂s_T/∂s_{T−d}‖₂`` against the distance d for
the RNN, the LSTM and the GRU, at random initialisation or in a trained model."""

from __future__ import annotations

import numpy as np

from .. import analysis, cells
from ..errors import ConfigError
from ..i18n import say

MAX_STEPS = 200  # n on the plot; the thresholds are searched up to 10 000 steps
MAX_HIDDEN = 64


def exercise_12() -> dict:
    """The TP's W_hh and tanh′ slope, the page's starting point."""
    from ..trace.presets.course000 import EX12

    return {"W_hh": EX12["W_hh"], "slope": EX12["tanh_slope"], "n_max": 30, "low": 0.01, "high": 100.0}


def _first(values, test):
    return next((n for n, v in enumerate(values) if test(v)), None)


def linearised(W_hh, slope, radius=None, n_max=30, low=0.01, high=100.0) -> dict:
    """``‖Jⁿ‖`` for n = 0 … n_max in the norms of :data:`rnnlab.analysis.NORMS`, the eigenvalues,
    and the first n below ``low`` / above ``high`` for each norm; with ``radius`` (the |λ| of the
    page), ``W_hh`` is first rescaled so that its largest |eigenvalue| is ``radius``."""
    W = square_matrix("W_hh", W_hh)
    if radius is not None:
        rho = float(np.max(np.abs(np.linalg.eigvals(W))))
        if rho == 0.0:
            raise ConfigError(say("radius: W_hh has no non-zero eigenvalue to rescale",
                                  "radius : W_hh n'a pas de valeur propre non nulle à remettre à l'échelle"))
        W = W * (radius / rho)
    flow = analysis.linearised_flow(W, slope)
    norms = {ord: flow.norms(n_max, ord).tolist() for ord in analysis.NORMS}
    return {
        "W_hh": flow.W_hh.tolist(), "slope": flow.slope.tolist(), "J": flow.J.tolist(),
        "eigenvalues": [[float(e.real), float(e.imag)] for e in flow.eigenvalues],
        "W_eigenvalues": [[float(e.real), float(e.imag)] for e in flow.W_eigenvalues],
        "spectral_radius": flow.spectral_radius, "W_spectral_radius": flow.W_spectral_radius,
        "spectral_norm": flow.spectral_norm, "n": list(range(n_max + 1)), "norms": norms,
        "norm_names": {ord: say(text, _NORMS_FR[ord]) for ord, text in analysis.NORMS.items()},
        "low": low, "high": high,
        "steps_below": {ord: flow.steps_below(low, ord) for ord in analysis.NORMS},
        "steps_above": {ord: flow.steps_above(high, ord) for ord in analysis.NORMS},
    }


_NORMS_FR = {"2": "norme spectrale ‖·‖₂ (plus grande valeur singulière)",
             "fro": "norme de Frobenius ‖·‖_F (racine de la somme des carrés)",
             "max": "plus grand coefficient en valeur absolue max|·|"}


def random_profiles(steps=20, hidden=8, seed=0, probes=4) -> dict:
    """Mean ``‖∂s_T/∂s_{T−d}‖₂`` over ``probes`` sequences of the TP's recall task
    (:func:`rnnlab.analysis.first_input_task`) for each cell at PyTorch's initialisation."""
    from ..layers import make_layer

    probe, _ = analysis.first_input_task(np.random.default_rng(seed + 1), steps, probes)
    profiles = {}
    for mode in cells.names():
        layer = make_layer(mode, probe.shape[-1], hidden, dtype=np.float64, rng=np.random.default_rng(seed))
        profiles[mode] = analysis.state_jacobians(layer, probe).mean_norms().tolist()
    return {"distance": list(range(steps + 1)), "profiles": profiles, "source": "random"}


def trained_profile(model, ids, level=0) -> dict:
    """The same for the recurrent stack of a trained language model, reading ``ids`` (a stretch
    of its validation text) through its embedding; one sequence."""
    x = model.embedding.forward(np.asarray(ids)[:, None])  # (T, 1, E)
    jac = analysis.state_jacobians(model.rnn, x, level=level)
    return {"distance": list(range(len(ids) + 1)), "profiles": {model.cell_name: jac.mean_norms().tolist()},
            "source": "trained"}


def square_matrix(name, value) -> np.ndarray:
    """``value`` as a square matrix of finite numbers (ConfigError naming ``name``)."""
    try:
        W = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        W = None
    if W is None or W.ndim != 2 or W.shape[0] != W.shape[1] or W.size == 0 or not np.all(np.isfinite(W)):
        got = f"shape {W.shape}" if W is not None and np.all(np.isfinite(W)) else repr(value)[:60]
        raise ConfigError(say(f"'{name}': expected a square matrix of finite numbers (H, H), got {got}",
                              f"« {name} » : matrice carrée de nombres finis (H, H) attendue, reçu {got}"))
    if W.shape[0] > MAX_HIDDEN:
        raise ConfigError(say(f"'{name}': expected at most {MAX_HIDDEN} rows, got {W.shape[0]}",
                              f"« {name} » : au plus {MAX_HIDDEN} lignes attendues, reçu {W.shape[0]}"))
    return W
