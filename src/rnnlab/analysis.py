r"""Why plain RNNs forget: gradient flow, measured on the core's own backward.

BPTT carries ∂L/∂h_T back to h_t through a product of one-step Jacobians (TP §1.2)::

    ∂h_T/∂h_t = Π_{k=t+1..T} ∂h_k/∂h_{k−1},      RNN:  ∂h_k/∂h_{k−1} = diag(tanh'(z_k)) W_hh

(the TP writes ``W_hh × diag(1 − tanh²(z_t))``: the same factors, the diagonal on the wrong
side, identical only when tanh' is a constant). The Chapitre calls ``W_h^{t−t'} Π tanh'(o_k)`` the
attenuation factor. For the LSTM the cell state has a direct path ``∂C_t/∂C_{t−1} = f_t``
(TP §2.3), for the GRU ``∂h_t/∂h_{t−1} ∋ z_t`` (PyTorch's z; the course's 1 − z_t).

What is here:

- :func:`state_jacobians`: the exact ``∂s_T/∂s_t`` (s = h, or (h, C) for the LSTM) of any
  layer on any input, by feeding the identity through the cell's ``step_backward``;
- :func:`linearised_flow`: the course's view ``J = diag(tanh') W_hh`` with eigenvalues,
  spectral radius, spectral norm and the number of steps until a norm falls below a
  threshold (:mod:`rnnlab.course` answers the TP's ex. 1.2 with it);
- :func:`sigmoid_chain`: the Cours' chain of sigmoids (σ' ≤ 1/4 per layer);
- :func:`compare_cells`: RNN vs LSTM vs GRU, gradient norm against distance, at
  initialisation and after a short training on a long-dependency task (recall a marked bit
  among ±1 distractors, :func:`first_input_task`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import cells
from .errors import ConfigError, ShapeError, describe_shape
from .i18n import say
from .memory import require
from .sequence import unroll

NORMS = {
    "2": "spectral norm ‖·‖₂ (largest singular value)",
    "fro": "Frobenius norm ‖·‖_F (root of the sum of squares)",
    "max": "largest absolute entry max|·|",
}


def matrix_norm(A, ord="2"):
    """Norm of ``A (..., n, n)`` over its last two axes: ``"2"``, ``"fro"`` or ``"max"``."""
    A = np.asarray(A)
    if ord == "2":
        return np.linalg.norm(A, ord=2, axis=(-2, -1))
    if ord == "fro":
        return np.sqrt(np.sum(A * A, axis=(-2, -1)))
    if ord == "max":
        return np.max(np.abs(A), axis=(-2, -1))
    raise ConfigError(say(f"norm: expected one of {sorted(NORMS)}, got {ord!r}",
                          f"norme : l'une de {sorted(NORMS)} attendue, reçu {ord!r}"))


# --- 1. exact Jacobians from the cell's step_backward --------------------------------------


@dataclass(frozen=True)
class StateJacobians:
    """``jacobians[b, d] = ∂s_T/∂s_{T−d}`` for sequence b at distance d = 0 … T.

    ``s`` stacks the states of the cell: ``h`` (RNN, GRU) or ``[h, C]`` (LSTM), so each matrix
    is ``(K, K)`` with K = H or 2H; row = component of s_T, column = component of s_{T−d}.
    ``direct_path[b, d]`` (H,) is the product over the last d steps of the cell's direct
    factor: ``1 − h_k²`` (RNN, the tanh' of the attenuation factor), ``f_k`` (LSTM),
    ``z_k`` (GRU, PyTorch's z).
    """

    mode: str
    hidden_size: int
    state_names: tuple
    jacobians: np.ndarray  # (B, T+1, K, K)
    direct_path: np.ndarray  # (B, T+1, H)
    slopes: np.ndarray  # (B, T, H): tanh'(z_t) = 1 − h_t² for the RNN (the cell's h for others)
    W_hh: np.ndarray

    @property
    def steps(self) -> int:
        return self.jacobians.shape[1] - 1

    @property
    def distance(self) -> np.ndarray:
        return np.arange(self.steps + 1)

    def block(self, out="h", wrt="h") -> np.ndarray:
        """``∂out_T/∂wrt_{T−d}``, ``(B, T+1, H, H)``; e.g. ``block("c", "c")`` for ∂C_T/∂C_t."""
        H = self.hidden_size
        names = list(self.state_names)
        for n in (out, wrt):
            if n not in names:
                raise ConfigError(say(f"{self.mode} state: expected one of {names}, got {n!r}",
                                      f"état du {self.mode} : l'un de {names} attendu, reçu {n!r}"))
        i, j = names.index(out), names.index(wrt)
        return self.jacobians[:, :, i * H:(i + 1) * H, j * H:(j + 1) * H]

    def norms(self, out=None, wrt=None, ord="2") -> np.ndarray:
        """Norms ``(B, T+1)`` of the full state Jacobian (or of one block)."""
        J = self.jacobians if out is None else self.block(out, wrt or out)
        return matrix_norm(J, ord)

    def mean_norms(self, out=None, wrt=None, ord="2") -> np.ndarray:
        """Norms averaged over the sequences, ``(T+1,)``."""
        return self.norms(out, wrt, ord).mean(axis=0)


def _float64_params(layer):
    return {k: np.asarray(v, dtype=np.float64) for k, v in layer.params.items()}


def _time_major(layer, x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return x[:, None, :]
    if x.ndim == 3:
        return x.swapaxes(0, 1) if layer.batch_first else x
    raise ShapeError(say(f"{type(layer).__name__} input: expected (T, D) or (T, B, D), "
                         f"got shape {describe_shape(x.shape)}",
                         f"entrée de {type(layer).__name__} : (T, D) ou (T, B, D) attendu, "
                         f"reçu la forme {describe_shape(x.shape)}"))


def _initial_states(layer, hx, B):
    LD, H, n = layer.num_layers * layer.num_directions, layer.hidden_size, len(layer.cell.state_names)
    if hx is None:
        return [tuple(np.zeros((B, H)) for _ in range(n)) for _ in range(LD)]
    parts = tuple(hx) if n == 2 else (hx,)
    parts = [np.asarray(p, dtype=np.float64).reshape(LD, -1, H) for p in parts]
    return [tuple(np.broadcast_to(p[i], (B, H)).copy() for p in parts) for i in range(LD)]


def _cell_params(layer, p, suffix):
    """The cell's own parameters of one level and direction (the LN-LSTM's gains), by name."""
    return {name: p[f"{name}{suffix}"] for name, _, _ in layer.cell.extra_params}


def _level_inputs(layer, x, states0, level):
    """The input sequence that level ``level`` of the stack reads (lower levels unrolled)."""
    p = _float64_params(layer)
    seq = x
    for lv in range(level):
        outs = []
        for direction in range(layer.num_directions):
            s = f"_l{lv}" + ("_reverse" if direction else "")
            out, _, _ = unroll(layer.cell, seq, states0[lv * layer.num_directions + direction],
                               p[f"weight_ih{s}"], p[f"weight_hh{s}"],
                               p.get(f"bias_ih{s}"), p.get(f"bias_hh{s}"),
                               reverse=direction == 1, cell_params=_cell_params(layer, p, s))
            outs.append(out)
        seq = np.concatenate(outs, axis=-1)
    return seq


def jacobians_bytes(cell: str, input_size: int, hidden_size: int, steps: int, sequences: int) -> int:
    """Memory of :func:`state_jacobians` (float64): the forward of every sequence repeated
    K = dim(s) times, kept for the backward, and the ``(B, T + 1, K, K)`` Jacobians."""
    from .memory import recurrent_run_bytes

    spec = cells.get(cell)
    K = len(spec.state_names) * hidden_size
    tape = recurrent_run_bytes(spec.gates, input_size, hidden_size, steps, sequences * K, itemsize=8,
                               train=False)
    return tape + sequences * (steps + 1) * K * K * 8


def state_jacobians(layer, x, hx=None, *, level=0, direction=0) -> StateJacobians:
    """Exact ``∂s_T/∂s_t`` of one level of a layer (``rnnlab.RNN``/``LSTM``/``GRU``, also
    ``LSTM(layer_norm=True)``) on ``x``, in eval mode (no dropout mask).

    ``x`` is one sequence ``(T, D)`` or a batch ``(T, B, D)`` (``(B, T, D)`` with
    ``batch_first``). Each sequence is repeated K = dim(s) times and the K rows of the identity
    are fed back through the cell's own ``step_backward``: after k steps, row i holds
    ``e_iᵀ ∂s_T/∂s_{T−k}``. Computed in float64, inputs of the lower levels fixed.
    """
    if not 0 <= level < layer.num_layers or direction not in range(layer.num_directions):
        raise ConfigError(say(f"state_jacobians: expected level in 0..{layer.num_layers - 1} and direction "
                              f"in 0..{layer.num_directions - 1}, got level={level}, direction={direction}",
                              f"state_jacobians : niveau dans 0..{layer.num_layers - 1} et direction dans "
                              f"0..{layer.num_directions - 1} attendus, reçu level={level}, "
                              f"direction={direction}"))
    x = _time_major(layer, x)
    if x.shape[-1] != layer.input_size:
        raise ShapeError(say(f"state_jacobians: expected input_size {layer.input_size}, got {x.shape[-1]}",
                             f"state_jacobians : input_size {layer.input_size} attendu, reçu {x.shape[-1]}"))
    T, B, _ = x.shape
    if getattr(layer, "proj_size", 0):  # the state is (h of size P, C of size H): not one square Jacobian
        raise ConfigError(say(f"state_jacobians: expected a layer without projections, "
                              f"got proj_size={layer.proj_size}",
                              f"state_jacobians : couche sans projections attendue, "
                              f"reçu proj_size={layer.proj_size}"))
    H, cell = layer.hidden_size, layer.cell
    n_states = len(cell.state_names)
    K = n_states * H
    require(jacobians_bytes(cell.spec.name, layer.input_size, H, T, B),
            f"state_jacobians (H = {H}, T = {T}, {B} sequences)", "hidden_size, T or the batch")
    states0 = _initial_states(layer, hx, B)
    seq = _level_inputs(layer, x, states0, level)
    s = f"_l{level}" + ("_reverse" if direction else "")
    p = _float64_params(layer)
    W_hh = p[f"weight_hh{s}"]
    # 1. forward, every sequence repeated K times (row b·K + i carries the seed e_i)
    seq_rep = np.repeat(seq, K, axis=1)  # (T, B·K, D_l)
    state_rep = tuple(np.repeat(st, K, axis=0) for st in states0[level * layer.num_directions + direction])
    cell_params = _cell_params(layer, p, s)
    _, _, tape = unroll(cell, seq_rep, state_rep, p[f"weight_ih{s}"], W_hh, p.get(f"bias_ih{s}"),
                        p.get(f"bias_hh{s}"), reverse=direction == 1, cell_params=cell_params)
    extra = {}
    if cell_params:  # the LN-LSTM's step also returns its gains' gradients: collected and dropped
        extra = {"params": cell_params, "param_grads": {k: np.zeros_like(v) for k, v in cell_params.items()}}
    order = list(range(T)) if direction == 1 else list(range(T - 1, -1, -1))  # last step first
    # 2. backward: the identity, one cell step at a time
    eye = np.tile(np.eye(K), (B, 1))  # (B·K, K)
    d_state = tuple(eye[:, j * H:(j + 1) * H] for j in range(n_states))
    jac = np.empty((B, T + 1, K, K))
    jac[:, 0] = np.eye(K)
    for d, t in enumerate(order, start=1):
        _, _, d_state = cell.step_backward(d_state, tape.caches[t], W_hh, **extra)
        jac[:, d] = np.concatenate(d_state, axis=1).reshape(B, K, K)
    # 3. the cell's direct path (its file's direct_factor) and the RNN's slopes, read from the caches
    factors = np.stack([cell.spec.direct_factor(tape.caches[t], H)[::K] for t in order])  # (T, B, H)
    direct = np.ones((B, T + 1, H))
    direct[:, 1:] = np.cumprod(factors, axis=0).transpose(1, 0, 2)
    slopes = np.stack([1.0 - tape.caches[t]["h"][::K] ** 2 for t in range(T)]).transpose(1, 0, 2)
    return StateJacobians(cell.mode, H, tuple(cell.state_names), jac, direct, slopes, W_hh)


# --- 2. the course's linearised view ------------------------------------------------------------


@dataclass(frozen=True)
class LinearisedFlow:
    """One step of the gradient, linearised: ``J = diag(tanh') W_hh`` with a fixed slope.

    ``J^n = ∂h_T/∂h_{T−n}`` if every step had the same tanh'. Its size after n steps falls like
    ``ρ(J)^n`` (ρ = spectral radius, the largest |eigenvalue|); the spectral norm ``‖J‖₂``
    bounds every step: ``‖J^n‖₂ ≤ ‖J‖₂^n``.
    """

    W_hh: np.ndarray
    slope: np.ndarray  # (H,)
    J: np.ndarray
    eigenvalues: np.ndarray  # of J
    W_eigenvalues: np.ndarray  # of W_hh

    @property
    def spectral_radius(self) -> float:
        return float(np.max(np.abs(self.eigenvalues)))

    @property
    def W_spectral_radius(self) -> float:
        return float(np.max(np.abs(self.W_eigenvalues)))

    @property
    def spectral_norm(self) -> float:
        return float(np.linalg.norm(self.J, 2))

    def power(self, n: int) -> np.ndarray:
        return np.linalg.matrix_power(self.J, int(n))

    def norms(self, n_max: int, ord="2") -> np.ndarray:
        """``‖J^n‖`` for n = 0 … n_max."""
        out, P = np.empty(n_max + 1), np.eye(self.J.shape[0])
        for n in range(n_max + 1):
            out[n] = matrix_norm(P, ord)
            P = self.J @ P
        return out

    def steps_below(self, threshold=0.01, ord="2", max_steps=10_000) -> int | None:
        """The first n with ``‖J^n‖ < threshold`` (``None`` if not within ``max_steps``)."""
        P = np.eye(self.J.shape[0])
        for n in range(max_steps + 1):
            if matrix_norm(P, ord) < threshold:
                return n
            if matrix_norm(P, ord) > 1e150:  # exploding: it will not come back
                return None
            P = self.J @ P
        return None

    def steps_above(self, threshold=100.0, ord="2", max_steps=10_000) -> int | None:
        """The first n with ``‖J^n‖ > threshold`` (explosion), or ``None``."""
        P = np.eye(self.J.shape[0])
        for n in range(max_steps + 1):
            size = matrix_norm(P, ord)
            if size > threshold:
                return n
            if size < 1e-150:  # vanished
                return None
            P = self.J @ P
        return None


def linearised_flow(W_hh, slope=0.9) -> LinearisedFlow:
    """The course's one-step factor for ``W_hh (H, H)`` and a tanh' ``slope`` (scalar or (H,))."""
    W = np.atleast_2d(np.asarray(W_hh, dtype=np.float64))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(say(f"W_hh: expected a square matrix (H, H), got shape {describe_shape(W.shape)}",
                             f"W_hh : matrice carrée (H, H) attendue, "
                             f"reçu la forme {describe_shape(W.shape)}"))
    slope = np.broadcast_to(np.asarray(slope, dtype=np.float64), (W.shape[0],)).copy()
    J = slope[:, None] * W  # diag(tanh') W_hh
    return LinearisedFlow(W, slope, J, np.linalg.eigvals(J), np.linalg.eigvals(W))


def recurrent_matrix(hidden_size, spectral_radius, rng: np.random.Generator) -> np.ndarray:
    """A random ``W_hh (H, H)`` (Gaussian entries) rescaled to the given spectral radius."""
    if spectral_radius < 0:
        raise ConfigError(say(f"spectral radius: expected a non-negative number, got {spectral_radius}",
                              f"rayon spectral : nombre positif ou nul attendu, reçu {spectral_radius}"))
    G = rng.normal(0.0, 1.0 / np.sqrt(hidden_size), size=(hidden_size, hidden_size))
    return G * (spectral_radius / np.max(np.abs(np.linalg.eigvals(G))))


def rnn_with_spectral_radius(hidden_size, spectral_radius, rng: np.random.Generator, input_size=1):
    """A float64 ``rnnlab.RNN`` whose ``W_hh`` has the given spectral radius (no biases)."""
    from .layers import RNN

    layer = RNN(input_size, hidden_size, bias=False, dtype=np.float64, rng=rng)
    layer.params["weight_hh_l0"] = recurrent_matrix(hidden_size, spectral_radius, rng)
    return layer


# --- 3. the Cours' sigmoid chain ----------------------------------------------------------------


@dataclass(frozen=True)
class SigmoidChain:
    """``a_0 = x``, ``a_l = σ(w a_{l−1} + b)``; ``gradients[l] = ∂a_L/∂a_l`` (by the tape),
    ``bound[l] = (|w|/4)^(L−l)`` since σ' ≤ 1/4."""

    activations: np.ndarray  # (L+1,)
    slopes: np.ndarray  # (L,) σ'(z_l)
    gradients: np.ndarray  # (L+1,)
    bound: np.ndarray  # (L+1,)


def sigmoid_chain(layers=10, x=1.0, weight=1.0, bias=0.0) -> SigmoidChain:
    """The Cours' vanishing gradient: L sigmoid layers, differentiated by :class:`rnnlab.tape.Tape`."""
    from .tape import Tape

    if layers < 1:
        raise ConfigError(say(f"sigmoid chain: expected at least 1 layer, got {layers}",
                              f"chaîne de sigmoïdes : au moins une couche attendue, reçu {layers}"))
    tape = Tape()
    a = [tape.value(x, "a_0")]
    for _ in range(layers):
        a.append((a[-1] * weight + bias).sigmoid())
    tape.backward(a[-1])
    acts = np.array([v.data for v in a])
    slopes = acts[1:] * (1 - acts[1:])
    grads = np.array([v.grad for v in a])
    bound = (abs(weight) / 4.0) ** np.arange(layers, -1, -1)
    return SigmoidChain(acts, slopes, grads, bound)


# --- 4. RNN vs LSTM vs GRU, before and after training -------------------------------------------


def first_input_task(rng: np.random.Generator, steps, batch, window=5):
    """Recall a marked bit among distractors of the same size (a long dependency).

    Every step carries a random bit ``b_t = ±1`` and a marker ``m_t ∈ {0, 1}``; exactly one step
    ``t* < window`` (drawn uniformly) is marked, and the target is its bit ``y = b_{t*}``, read
    from ``h_T`` at the end (distance ≥ ``steps − window``). Every input has the size of the one
    to remember, so a cell must *write* its memory when the marker comes and *keep* it while the
    later bits arrive: a gate does that (``i_t`` opened by ``m_t``, ``f_t`` ≈ 1), a plain RNN
    ``h_t = tanh(W_hh h_{t−1} + W_xh x_t + b)`` can only add each new bit to its state.
    Returns ``x (T, B, 2)`` (``[b_t, m_t]``) and ``y (B,)``.
    """
    if not 1 <= window <= steps:
        raise ConfigError(say(f"first_input_task: expected 1 <= window <= steps, "
                              f"got window={window}, steps={steps}",
                              f"first_input_task : « 1 <= window <= steps » attendu, "
                              f"reçu window={window}, steps={steps}"))
    x = np.zeros((steps, batch, 2))
    x[:, :, 0] = rng.choice([-1.0, 1.0], size=(steps, batch))  # the bits b_t
    marked = rng.integers(0, window, size=batch)  # t* for each sequence
    x[marked, np.arange(batch), 1] = 1.0  # the marker m_t
    return x, x[marked, np.arange(batch), 0].copy()


@dataclass(frozen=True)
class CellComparison:
    """Mean ‖∂s_T/∂s_{T−d}‖₂ by cell, at initialisation and after training (``profiles[mode]``
    = ``(before (T+1,), after (T+1,))``); the task's loss on a fixed test batch before and after
    training (``losses[mode] = (before, after)``; 1.0 = guessing 0, 0.0 = perfect recall) and
    the training loss at each Adam step (``curves[mode]``, ``(train_steps,)``)."""

    steps: int
    hidden_size: int
    train_steps: int
    profiles: dict
    losses: dict
    lstm_forget_bias: float = 0.0
    curves: dict = field(default_factory=dict)
    lr: float = 0.0
    window: int = 1

    @property
    def distance(self) -> np.ndarray:
        return np.arange(self.steps + 1)


def _make_layer(mode, hidden, rng, input_size=2):
    from .layers import make_layer

    return make_layer(mode, input_size, hidden, dtype=np.float64, rng=rng)


def _final_h(h_n):
    return h_n[0] if isinstance(h_n, tuple) else h_n  # (L·dirs, B, H); the LSTM gives (h_n, c_n)


def _recall_loss(layer, readout, x, y):
    """``L = mean (ŷ − y)²`` with ``ŷ = v·h_T + c``; returns L, ∂L/∂h_n, ∂L/∂v, ∂L/∂c."""
    _, h_n = layer.forward(x)
    h_n = _final_h(h_n)
    h_T = h_n[-1]  # (B, H): the last level's last state
    err = h_T @ readout["readout_v"] + readout["readout_c"][0] - y  # (B,)
    d_pred = 2.0 * err / len(y)  # ∂L/∂ŷ
    d_h_n = np.zeros_like(h_n)
    d_h_n[-1] = d_pred[:, None] * readout["readout_v"]  # ∂L/∂h_T = ∂L/∂ŷ · v
    return float(np.mean(err**2)), d_h_n, h_T.T @ d_pred, np.array([d_pred.sum()])


def train_first_input(layer, rng, steps, train_steps=300, batch=32, lr=0.05, clip=1.0, window=5,
                      readout=None):
    """Train ``layer`` and a linear readout ``ŷ = v·h_T + c`` on :func:`first_input_task`:
    ``train_steps`` steps of :class:`rnnlab.optim.Adam` on ``L = mean (ŷ − y)²``, a fresh batch
    each step, the global gradient norm clipped to ``clip`` (``None``: no clipping).

    ``readout`` (dict ``readout_v (H,)``, ``readout_c (1,)``) is created from ``rng`` if not
    given and updated in place. Returns the training losses, one per step.
    """
    from .optim import Adam, clip_grad_norm

    if readout is None:
        readout = _new_readout(layer.hidden_size, rng)
    optimizer = Adam({**layer.params, **readout}, lr=lr)
    losses = []
    for _ in range(train_steps):
        x, y = first_input_task(rng, steps, batch, window)
        loss, d_h_n, d_v, d_c = _recall_loss(layer, readout, x, y)
        layer.backward(None, d_h_n)
        grads = {**layer.grads, "readout_v": d_v, "readout_c": d_c}
        if clip is not None:
            clip_grad_norm(grads, clip)
        optimizer.step(grads)
        losses.append(loss)
    return np.array(losses)


def _new_readout(hidden, rng):
    return {"readout_v": rng.normal(0.0, 1.0 / np.sqrt(hidden), size=hidden), "readout_c": np.zeros(1)}


def compare_cells(modes=("rnn", "lstm", "gru"), hidden=16, steps=20, train_steps=300, batch=32,
                  lr=0.05, probes=4, seed=0, lstm_forget_bias=3.0, window=5, clip=1.0, test_size=256,
                  progress=None) -> CellComparison:
    """Gradient norm against distance for each cell on :func:`first_input_task` (T = ``steps``),
    at initialisation and after ``train_steps`` Adam steps (``probes`` sequences averaged), with
    the task's loss on ``test_size`` held-out sequences before and after training.

    The defaults (T = 20, H = 16, 300 steps of Adam at lr 0.05, a few seconds of CPU) show the
    course's point: the LSTM and the GRU learn to recall the marked bit (test loss ≈ 10⁻⁴), the
    plain RNN stays at the loss of a guess (≈ 1; it still does after 1500 steps); its
    ``‖∂h_T/∂h_t‖`` has vanished long before the distance of the marked step. Learning comes as
    a sudden drop after a plateau whose length varies with ``seed``: of seeds 0–8 the LSTM needed
    more than 300 steps once (seed 3, ≈ 330). Every cell starts from PyTorch's initialisation, except that
    ``lstm_forget_bias`` is added to the LSTM's forget-gate bias: with 3, ``f_t ≈ σ(3) ≈ 0.95``
    and the cell path ``Π f_k`` starts open (with the usual +1, ``σ(1)^20 ≈ 2·10⁻³``, the LSTM
    does not find the task within this budget; 0.0 gives PyTorch's plain initialisation).
    ``progress(mode)`` is called before each cell.
    """
    if not modes:
        raise ConfigError(say("compare_cells: expected at least one cell in modes, got none",
                              "compare_cells : au moins une cellule attendue dans modes, reçu aucune"))
    profiles, losses, curves = {}, {}, {}
    probe, _ = first_input_task(np.random.default_rng(seed + 1), steps, probes, window)
    test_x, test_y = first_input_task(np.random.default_rng(seed + 2), steps, test_size, window)
    for mode in modes:
        if mode not in cells.names():
            raise ConfigError(say(f"compare_cells: expected cells among {', '.join(cells.names())}, "
                                  f"got {mode!r}",
                                  f"compare_cells : cellules parmi {', '.join(cells.names())} attendues, "
                                  f"reçu « {mode} »"))
        if progress is not None:
            progress(mode)
        rng = np.random.default_rng(seed)
        layer = _make_layer(mode, hidden, rng)
        spec = cells.get(mode)
        if spec.forget_gate and "bias_ih_l0" in layer.params:  # the LSTM's f: open the cell path
            layer.params["bias_ih_l0"][spec.gate_rows(spec.forget_gate, hidden)] += lstm_forget_bias
        readout = _new_readout(hidden, rng)
        before = state_jacobians(layer, probe).mean_norms()
        loss_before = _recall_loss(layer, readout, test_x, test_y)[0]
        curves[mode] = train_first_input(layer, rng, steps, train_steps, batch, lr, clip, window, readout)
        after = state_jacobians(layer, probe).mean_norms()
        profiles[mode] = (before, after)
        losses[mode] = (loss_before, _recall_loss(layer, readout, test_x, test_y)[0])
    forget_bias = float(lstm_forget_bias) if any(cells.get(m).forget_gate for m in modes) else 0.0
    return CellComparison(steps, hidden, train_steps, profiles, losses, forget_bias, curves, float(lr),
                          int(window))


__all__ = ["NORMS", "matrix_norm", "StateJacobians", "state_jacobians", "LinearisedFlow", "linearised_flow",
           "recurrent_matrix", "rnn_with_spectral_radius",
           "SigmoidChain", "sigmoid_chain", "first_input_task", "train_first_input", "CellComparison",
           "compare_cells"]
