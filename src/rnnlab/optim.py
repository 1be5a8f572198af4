"""Optimisers, gradient clipping and learning-rate schedules, on dicts of NumPy arrays.

Every optimiser holds ``params`` (the model's live dict name -> array) and updates those
arrays **in place** at each :meth:`Optimizer.step(grads)`, where ``grads`` has the same keys.
The updates follow ``torch.optim`` exactly (same equations, same order, same defaults);
the tests compare them over several steps in float64.

Notation: θ parameter, g = ∂L/∂θ, η learning rate, λ weight decay, t = 1, 2, … the step.

==========  ======================================================================
SGD         g ← g + λθ;  b ← μ b + (1 − τ) g  (b₁ = g);  d = g + μ b (Nesterov) or b;
            θ ← θ − η d   (μ = 0: θ ← θ − η g)
Adagrad     g ← g + λθ;  G ← G + g²;  θ ← θ − η_t g / (√G + ε),  η_t = η / (1 + (t − 1) δ)
            (min-char-rnn: θ ← θ − η g / √(G + 1e-8): ``eps_inside_sqrt=True, eps=1e-8``)
RMSprop     g ← g + λθ;  v ← α v + (1 − α) g²;  centred: m̄ ← α m̄ + (1 − α) g, v̂ = v − m̄²;
            a = √v̂ + ε;  b ← μ b + g / a, θ ← θ − η b  (μ = 0: θ ← θ − η g / a)
Adam        g ← g + λθ;  m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
            θ ← θ − (η / (1 − β₁ᵗ)) m / (√v / √(1 − β₂ᵗ) + ε)
AdamW       θ ← θ (1 − η λ), then Adam with λ = 0 (decoupled weight decay)
==========  ======================================================================
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np

from . import kernels
from .errors import ConfigError, ShapeError
from .i18n import say
from .module import listed


def _fused(*arrays) -> bool:
    """Whether an update may run as one compiled pass (:mod:`rnnlab.kernels`): numba is there,
    and the arrays share one float dtype and are contiguous (the pass reads them flat)."""
    return kernels.usable(*arrays) and all(a.flags.c_contiguous for a in arrays)


# --- base class ----------------------------------------------------------------------------


class Optimizer:
    """Base class: checks the gradients, counts the steps, saves and restores the state.

    Subclasses set ``name``, ``hyper_names`` (the hyperparameters saved with the state),
    ``state_names`` (one array per parameter each: momentum buffers, running averages) and
    write :meth:`_update(name, θ, g)`.
    """

    name = "optimizer"
    hyper_names: tuple[str, ...] = ("lr",)
    state_names: tuple[str, ...] = ()

    def __init__(self, params: dict, lr: float):
        if not isinstance(params, dict) or not params:
            raise ConfigError(say(f"{self.name}: expected a non-empty dict of parameter arrays, "
                                  f"got {params!r:.80}",
                                  f"{self.name} : dictionnaire non vide de tableaux de paramètres attendu, "
                                  f"reçu {params!r:.80}"))
        for key, p in params.items():
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                got = f"{type(p).__name__} {getattr(p, 'dtype', '')}"
                raise ConfigError(say(f"{self.name}: parameter {key!r}: expected a floating NumPy array, "
                                      f"got {got}",
                                      f"{self.name} : paramètre « {key} » : tableau NumPy à virgule "
                                      f"flottante attendu, reçu {got}"))
        self.params = params
        self.lr = lr
        self.steps = 0  # t, the number of updates done
        self.state = {s: {} for s in self.state_names}  # state name -> {param name -> array}
        self._work: dict[str, np.ndarray] = {}  # scratch arrays, not saved

    def _check_hyper(self, **conditions):
        """Refuse the first condition that fails; its name reads as English (``lr_at_least_0``)
        and :data:`_CONDITIONS_FR` gives its French."""
        for text, ok in conditions.items():
            if not ok:
                got = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyper_names)
                french = _CONDITIONS_FR.get(text) or text.removesuffix("_at_least_0") + " ≥ 0"
                raise ConfigError(say(f"{self.name}: expected {text.replace('_', ' ')}, got " + got,
                                      f"{self.name} : il faut {french}, reçu " + got))

    def _check_grads(self, grads: dict) -> None:
        where = f"{self.name}.step"
        if grads.keys() != self.params.keys():
            missing = sorted(self.params.keys() - grads.keys())
            extra = sorted(grads.keys() - self.params.keys())
            raise ConfigError(say(f"{where}: expected gradients for the parameters' keys; "
                                  f"missing {missing}, unexpected {extra}",
                                  f"{where} : gradients attendus pour les clés des paramètres ; "
                                  f"manquent : {listed(missing)} ; en trop : {listed(extra)}"))
        for key, p in self.params.items():
            if grads[key].shape != p.shape:
                raise ShapeError(say(f"{where}: gradient {key!r}: expected shape {p.shape}, "
                                     f"got {grads[key].shape}",
                                     f"{where} : gradient « {key} » : forme {p.shape} attendue, "
                                     f"reçu {grads[key].shape}"))

    def _buffer(self, state_name: str, key: str, fill: float = 0.0) -> np.ndarray:
        """The state array of one parameter, created (same shape and dtype) on first use."""
        table = self.state[state_name]
        if key not in table:
            table[key] = np.full_like(self.params[key], fill)
        return table[key]

    def _scratch(self, key: str) -> np.ndarray:
        """A work array shaped like parameter ``key`` (not part of the saved state)."""
        if key not in self._work or self._work[key].shape != self.params[key].shape:
            self._work[key] = np.empty_like(self.params[key])
        return self._work[key]

    def zero_grad(self, grads: dict) -> None:
        """Set every gradient array to 0 in place (before accumulating with +=)."""
        for g in grads.values():
            g[...] = 0

    def step(self, grads: dict) -> None:
        """One update of every parameter, in place, from ``grads`` (same keys and shapes)."""
        self._check_grads(grads)
        self.steps += 1
        for key, p in self.params.items():
            self._update(key, p, np.asarray(grads[key], dtype=p.dtype))

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    # --- saving ----------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """{"name", "steps", "hyper": {...}, "state": {state name: {param name: array}}};
        arrays are copies, so later steps do not change a saved state."""
        return {"name": self.name, "steps": self.steps,
                "hyper": {h: _plain(getattr(self, h)) for h in self.hyper_names},
                "state": {s: {k: a.copy() for k, a in table.items()} for s, table in self.state.items()}}

    def load_state_dict(self, d: dict) -> None:
        """Restore a :meth:`state_dict` (hyperparameters included, as torch does)."""
        if not isinstance(d, dict) or d.get("name") != self.name:
            got = d.get("name") if isinstance(d, dict) else type(d).__name__
            raise ConfigError(say(f"{self.name}.load_state_dict: expected the state of a {self.name!r} "
                                  f"optimiser, got {got!r}",
                                  f"{self.name}.load_state_dict : état d'un optimiseur « {self.name} » "
                                  f"attendu, reçu « {got} »"))
        for key in ("steps", "hyper", "state"):
            if key not in d:
                raise ConfigError(say(f"{self.name}.load_state_dict: key {key!r} is missing",
                                      f"{self.name}.load_state_dict : la clé « {key} » manque"))
        state = {}
        for s in self.state_names:
            table = d["state"].get(s, {})
            for k, a in table.items():
                if k not in self.params:
                    raise ConfigError(say(f"{self.name}.load_state_dict: state {s!r} has parameter {k!r}, "
                                          f"which this model does not have",
                                          f"{self.name}.load_state_dict : l'état « {s} » a un paramètre "
                                          f"« {k} », que ce modèle n'a pas"))
                if np.shape(a) != self.params[k].shape:
                    raise ShapeError(say(f"{self.name}.load_state_dict: state {s}[{k!r}]: expected shape "
                                         f"{self.params[k].shape}, got {np.shape(a)}",
                                         f"{self.name}.load_state_dict : état {s}[{k!r}] : forme "
                                         f"{self.params[k].shape} attendue, reçu {np.shape(a)}"))
            state[s] = {k: np.array(a, dtype=self.params[k].dtype) for k, a in table.items()}
        for h in self.hyper_names:
            if h in d["hyper"]:
                v = d["hyper"][h]
                setattr(self, h, tuple(v) if isinstance(v, list) else v)
        self.steps = int(d["steps"])
        self.state = state


# The French of the conditions :meth:`Optimizer._check_hyper` refuses (``x_at_least_0`` is x ≥ 0).
_CONDITIONS_FR = {
    "nesterov_with_momentum_above_0_and_dampening_0": "nesterov avec momentum > 0 et dampening = 0",
    "alpha_in_0_1": "alpha dans [0, 1]",
    "two_betas_in_0_1": "deux betas dans [0, 1[",
}


def _plain(v):
    """Hyperparameters as JSON-able Python values (tuples become lists)."""
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


# --- the optimisers ------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum (heavy ball) or Nesterov momentum."""

    name = "sgd"
    hyper_names = ("lr", "momentum", "dampening", "nesterov", "weight_decay")
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
        super().__init__(params, lr)
        self.momentum, self.nesterov = momentum, bool(nesterov)
        self.weight_decay, self.dampening = weight_decay, dampening
        self._check_hyper(lr_at_least_0=lr >= 0, momentum_at_least_0=momentum >= 0,
                          weight_decay_at_least_0=weight_decay >= 0,
                          nesterov_with_momentum_above_0_and_dampening_0=(
                              not nesterov or (momentum > 0 and dampening == 0)))

    def _update(self, key, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p  # g ← g + λθ
        if self.momentum:
            first = key not in self.state["momentum_buffer"]
            b = self._buffer("momentum_buffer", key)
            if first:
                b[...] = g  # b₁ = g
            else:
                b *= self.momentum  # b ← μ b + (1 − τ) g
                b += (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g  # θ ← θ − η d


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): per-coordinate steps η / √(Σ g²).

    ``eps_inside_sqrt=True`` with ``eps=1e-8`` is min-char-rnn's update
    ``param += -learning_rate * dparam / np.sqrt(mem + 1e-8)``; the default is torch's.
    """

    name = "adagrad"
    hyper_names = ("lr", "lr_decay", "weight_decay", "eps", "initial_accumulator_value", "eps_inside_sqrt")
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, eps_inside_sqrt=False):
        super().__init__(params, lr)
        self.lr_decay, self.weight_decay, self.eps = lr_decay, weight_decay, eps
        self.initial_accumulator_value = initial_accumulator_value
        self.eps_inside_sqrt = bool(eps_inside_sqrt)
        self._check_hyper(lr_at_least_0=lr >= 0, lr_decay_at_least_0=lr_decay >= 0,
                          weight_decay_at_least_0=weight_decay >= 0, eps_at_least_0=eps >= 0,
                          initial_accumulator_value_at_least_0=initial_accumulator_value >= 0)

    def _update(self, key, p, g):
        G = self._buffer("sum", key, self.initial_accumulator_value)
        lr_t = self.lr / (1.0 + (self.steps - 1) * self.lr_decay)
        if _fused(p, g, G):  # the lines below in one compiled pass
            return kernels.adagrad_update(p, g, G, self.weight_decay, lr_t, self.eps, self.eps_inside_sqrt)
        if self.weight_decay:
            g = g + self.weight_decay * p
        tmp = self._scratch(key)  # one work array per parameter: no allocation per step
        G += np.multiply(g, g, out=tmp)  # G ← G + g²
        if self.eps_inside_sqrt:
            np.sqrt(np.add(G, self.eps, out=tmp), out=tmp)
        else:
            np.sqrt(G, out=tmp)
            tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= lr_t
        p -= tmp  # θ ← θ − η_t g / (√G + ε)


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012): steps scaled by a running root-mean-square of the gradient."""

    name = "rmsprop"
    hyper_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, bool(centered)
        self._check_hyper(lr_at_least_0=lr >= 0, alpha_in_0_1=0 <= alpha <= 1, eps_at_least_0=eps >= 0,
                          weight_decay_at_least_0=weight_decay >= 0, momentum_at_least_0=momentum >= 0)

    def _update(self, key, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = self._buffer("square_avg", key)
        v *= self.alpha  # v ← α v + (1 − α) g²
        v += (1.0 - self.alpha) * (g * g)
        if self.centered:
            m = self._buffer("grad_avg", key)
            m += (1.0 - self.alpha) * (g - m)  # m̄ ← α m̄ + (1 − α) g
            a = np.sqrt(v - m * m) + self.eps
        else:
            a = np.sqrt(v) + self.eps  # a = √v + ε
        if self.momentum > 0:
            b = self._buffer("momentum_buffer", key)
            b *= self.momentum  # b ← μ b + g / a
            b += g / a
            p -= self.lr * b
        else:
            p -= self.lr * (g / a)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with bias-corrected first and second moments; L2 weight decay
    added to the gradient (torch's ``Adam(weight_decay=…)``); ``amsgrad`` keeps max v."""

    name = "adam"
    hyper_names = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay, self.amsgrad = tuple(betas), eps, weight_decay, bool(amsgrad)
        self._check_hyper(lr_at_least_0=lr >= 0, two_betas_in_0_1=(
                              len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)),
                          eps_at_least_0=eps >= 0, weight_decay_at_least_0=weight_decay >= 0)

    def _update(self, key, p, g):
        beta1, beta2 = self.betas
        m = self._buffer("exp_avg", key)
        v = self._buffer("exp_avg_sq", key)
        v_max = self._buffer("max_exp_avg_sq", key) if self.amsgrad else v
        t = self.steps
        step_size = self.lr / (1.0 - beta1 ** t)  # η / (1 − β₁ᵗ)
        if _fused(p, g, m, v, v_max):  # the lines below in one compiled pass
            return kernels.adam_update(p, g, m, v, v_max, 1.0 - self.lr * self.weight_decay if self.decoupled
                                       else None, 0.0 if self.decoupled else self.weight_decay, beta1, beta2,
                                       self.eps, step_size, math.sqrt(1.0 - beta2 ** t), self.amsgrad)
        if self.decoupled:
            p *= 1.0 - self.lr * self.weight_decay  # θ ← θ (1 − ηλ)
        elif self.weight_decay:
            g = g + self.weight_decay * p  # g ← g + λθ
        tmp = self._scratch(key)  # one work array per parameter: no allocation per step
        np.subtract(g, m, out=tmp)
        tmp *= 1.0 - beta1
        m += tmp  # m ← β₁ m + (1 − β₁) g   (torch's lerp: m + (1 − β₁)(g − m))
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v *= beta2
        v += tmp  # v ← β₂ v + (1 − β₂) g²
        if self.amsgrad:
            np.maximum(v_max, v, out=v_max)
            v = v_max
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - beta2 ** t)
        tmp += self.eps  # √v̂ + ε
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p -= tmp  # θ ← θ − (η / (1 − β₁ᵗ)) m / (√v̂ + ε)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay θ ← θ(1 − ηλ)."""

    name = "adamw"
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


OPTIMIZERS = {"sgd": (SGD, {}), "momentum": (SGD, {"momentum": 0.9}),
              "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}), "adagrad": (Adagrad, {}),
              "rmsprop": (RMSprop, {}), "adam": (Adam, {}), "adamw": (AdamW, {})}


def make_optimizer(name: str, params: dict, **kwargs) -> Optimizer:
    """The optimiser called ``name`` (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw);
    ``momentum``/``nesterov`` are SGD with momentum 0.9 unless ``momentum=`` says otherwise."""
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ConfigError(say(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r}",
                              f"optimiseur : une valeur parmi {', '.join(OPTIMIZERS)} attendue, "
                              f"reçu « {name} »"))
    cls, defaults = OPTIMIZERS[key]
    try:
        return cls(params, **{**defaults, **kwargs})
    except TypeError as e:
        known = [p for p in inspect.signature(cls).parameters if p != "params"]
        unknown = ", ".join(sorted(set(kwargs) - set(known))) or "?"
        raise ConfigError(say(f"optimizer {key}: {e}",
                              f"optimiseur {key} : option inconnue ({unknown}) ; ses options : "
                              f"{', '.join(known)}")) from None


# --- gradient clipping ---------------------------------------------------------------------


def clip_grad_norm(grads: dict, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so that their global norm is at most ``max_norm``.

    ‖g‖ = (Σ_k ‖g_k‖²)^½ over every array; if ‖g‖ > max_norm, g ← g · max_norm / (‖g‖ + 1e-6)
    (torch's ``clip_grad_norm_``). ``norm_type=inf`` uses max |g|. Returns ‖g‖ before
    clipping (inf or nan if a gradient is not finite; nothing is scaled then).
    """
    if not max_norm > 0:
        raise ConfigError(say(f"clip_grad_norm: expected max_norm > 0, got {max_norm!r}",
                              f"clip_grad_norm : max_norm > 0 attendu, reçu {max_norm!r}"))
    arrays = [np.asarray(g) for g in grads.values()]
    if not arrays:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    elif norm_type == 2.0:
        # np.linalg.norm's arithmetic, √(a·a), without its checks on every array
        flat = [a.ravel() if a.dtype.kind == "f" else a.ravel().astype(float) for a in arrays]
        per_array = np.array([np.sqrt(a.dot(a)) for a in flat], dtype=np.float64)
        total = float(np.sqrt(per_array.dot(per_array)))
    else:
        raise ConfigError(say(f"clip_grad_norm: expected norm_type 2 or inf, got {norm_type!r}",
                              f"clip_grad_norm : norm_type 2 ou inf attendu, reçu {norm_type!r}"))
    coef = max_norm / (total + 1e-6)
    if math.isfinite(total) and coef < 1.0:
        for g in grads.values():
            g *= coef
    return total


def clip_grad_value(grads: dict, clip: float) -> None:
    """Clip every gradient coordinate to [−clip, clip] in place (the Notebook: ``np.clip(dparam,
    -5, 5, out=dparam)``)."""
    if not clip > 0:
        raise ConfigError(say(f"clip_grad_value: expected clip > 0, got {clip!r}",
                              f"clip_grad_value : clip > 0 attendu, reçu {clip!r}"))
    for g in grads.values():
        np.clip(g, -clip, clip, out=g)


# --- learning-rate schedules ----------------------------------------------------------------

DECAYS = ("none", "cosine", "step")


@dataclass(frozen=True)
class Schedule:
    """η(s) for the update of index s = 0, 1, 2, …

    - warm-up, s < W: η = η₀ (s + 1) / W  (linear, reaches η₀ at s = W − 1);
    - then, with u = s − W:
      ``none``   η = η₀;
      ``cosine`` η = η_min + ½ (η₀ − η_min)(1 + cos(π u / (S − W))), η_min for s ≥ S = total_steps;
      ``step``   η = η₀ γ^⌊u / step_size⌋.
    """

    base_lr: float
    warmup_steps: int = 0
    decay: str = "none"
    total_steps: int | None = None
    min_lr: float = 0.0
    step_size: int = 1000
    gamma: float = 0.5

    def __post_init__(self):
        if self.decay not in DECAYS:
            raise ConfigError(say(f"schedule decay: expected one of {', '.join(DECAYS)}, got {self.decay!r}",
                                  f"décroissance du taux d'apprentissage : l'une de "
                                  f"{', '.join(f'« {d} »' for d in DECAYS)} attendue, reçu « {self.decay} »"))
        if not self.base_lr >= 0 or not self.min_lr >= 0:
            raise ConfigError(say(f"schedule: expected base_lr >= 0 and min_lr >= 0, "
                                  f"got {self.base_lr}, {self.min_lr}",
                                  f"planification du taux : base_lr ≥ 0 et min_lr ≥ 0 attendus, "
                                  f"reçu {self.base_lr} et {self.min_lr}"))
        if self.warmup_steps < 0:
            raise ConfigError(say(f"schedule warmup_steps: expected >= 0, got {self.warmup_steps}",
                                  f"planification du taux, warmup_steps : ≥ 0 attendu, "
                                  f"reçu {self.warmup_steps}"))
        if self.decay == "cosine" and (self.total_steps is None or self.total_steps <= self.warmup_steps):
            raise ConfigError(say(f"schedule: cosine decay expects total_steps > warmup_steps "
                                  f"({self.warmup_steps}), got {self.total_steps}",
                                  f"planification du taux : la décroissance en cosinus demande "
                                  f"total_steps > warmup_steps ({self.warmup_steps}), "
                                  f"reçu {self.total_steps}"))
        if self.decay == "step" and (self.step_size < 1 or not self.gamma > 0):
            raise ConfigError(say(f"schedule: step decay expects step_size >= 1 and gamma > 0, "
                                  f"got {self.step_size}, {self.gamma}",
                                  f"planification du taux : la décroissance par paliers demande "
                                  f"step_size ≥ 1 et gamma > 0, reçu {self.step_size} et {self.gamma}"))

    def lr_at(self, step: int) -> float:
        if step < 0:
            raise ConfigError(say(f"schedule: expected step >= 0, got {step}",
                                  f"planification du taux : indice de pas ≥ 0 attendu, reçu {step}"))
        W = self.warmup_steps
        if step < W:
            return self.base_lr * (step + 1) / W
        u = step - W
        if self.decay == "cosine":
            progress = min(u / (self.total_steps - W), 1.0)
            return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress))
        if self.decay == "step":
            return self.base_lr * self.gamma ** (u // self.step_size)
        return self.base_lr

    def apply(self, optimizer: Optimizer, step: int) -> float:
        """Set ``optimizer.lr`` to η(step) and return it."""
        optimizer.lr = self.lr_at(step)
        return optimizer.lr
