"""Activations and losses, numerically stable, each next to its derivative.

Derivatives are written in terms of the *output* where the course does so
(σ'(z) = σ(z)(1 − σ(z)), tanh'(z) = 1 − tanh²(z)): the backward passes have the
outputs at hand and need not recompute the activation.

No function here overflows or returns NaN for finite inputs up to ±1e4 (and beyond).
"""

from __future__ import annotations

import numpy as np

from .i18n import say

# --- sigmoid -------------------------------------------------------------------------------


def sigmoid(z, out=None):
    """σ(z) = 1 / (1 + e^{−z}), computed as ½(1 + tanh(z/2)): exact to the last bit in
    practice, never overflows and needs no branch on the sign of z."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def sigmoid_grad_from_output(s):
    """σ'(z) = σ(z) (1 − σ(z)), given s = σ(z)."""
    return s * (1.0 - s)


def sigmoid_grad(z):
    """σ'(z) from z."""
    return sigmoid_grad_from_output(sigmoid(np.asarray(z, dtype=np.result_type(z, np.float64))))


# --- tanh ----------------------------------------------------------------------------------


def tanh(z, out=None):
    """tanh(z); NumPy's is stable for any finite input."""
    return np.tanh(z, out=out)


def tanh_grad_from_output(y):
    """tanh'(z) = 1 − tanh²(z), given y = tanh(z)."""
    return 1.0 - y * y


def tanh_grad(z):
    """tanh'(z) from z."""
    return tanh_grad_from_output(np.tanh(z))


# --- relu ----------------------------------------------------------------------------------


def relu(z, out=None):
    """ReLU(z) = max(z, 0)."""
    return np.maximum(z, 0, out=out)


def relu_grad_from_output(y):
    """ReLU'(z) = 1 where z > 0 else 0 (0 at z = 0, as PyTorch), given y = ReLU(z)."""
    return (y > 0).astype(np.result_type(y, np.float32))


def relu_grad(z):
    """ReLU'(z) from z."""
    return relu_grad_from_output(np.asarray(z))


# --- softmax, log-softmax, cross-entropy ---------------------------------------------------


def log_softmax(z, axis=-1):
    """log softmax(z)_k = z_k − max(z) − log Σ_j e^{z_j − max(z)}: the max shift keeps every
    exponent ≤ 0, so nothing overflows."""
    z = np.asarray(z)
    shifted = z - np.maximum.reduce(z, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """softmax(z)_k = e^{z_k} / Σ_j e^{z_j}, with the max shift of :func:`log_softmax`."""
    z = np.asarray(z)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(d_y, y, axis=-1):
    """Vector-Jacobian product of softmax: dz = y ⊙ (dy − Σ_k dy_k y_k), given y = softmax(z)."""
    return y * (d_y - np.sum(d_y * y, axis=axis, keepdims=True))


def cross_entropy(logits, targets, reduction="mean", ignore_index=None):
    """Softmax cross-entropy on integer targets, and its gradient with respect to the logits.

    L = −log softmax(z)[target]; ∂L/∂z = softmax(z) − onehot(target).

    Parameters
    ----------
    logits : array (N, K)
    targets : int array (N,)
    reduction : "mean" (over counted rows), "sum" or "none"
    ignore_index : targets equal to it count for nothing (padding)

    Returns
    -------
    loss : float (or array (N,) for reduction="none")
    d_logits : array (N, K), gradient of the reduced loss
    """
    logits = np.asarray(logits)
    targets = np.asarray(targets)
    if logits.ndim != 2 or targets.shape != logits.shape[:1]:
        from .errors import ShapeError

        raise ShapeError(say(
            f"cross_entropy: expected logits (N, K) and targets (N,), got {logits.shape} and {targets.shape}",
            f"cross_entropy : logits (N, K) et cibles (N,) attendus, reçu {logits.shape} et {targets.shape}"))
    n, K = logits.shape
    keep = None if ignore_index is None else targets != ignore_index  # None: every row counts
    bad = (targets < 0) | (targets >= K)  # NumPy would silently read class −1 as K − 1
    if keep is not None:
        bad &= keep
    if bad.any():
        from .errors import ValueRangeError

        ignored = "" if ignore_index is None else f" ou ignore_index {ignore_index}"
        raise ValueRangeError(say(f"cross_entropy targets: expected class indices in 0..{K - 1}"
                                  + ("" if ignore_index is None else f" or ignore_index {ignore_index}")
                                  + f", got {targets[bad][:5].tolist()}",
                                  f"cross_entropy, cibles : indices de classe dans 0..{K - 1}{ignored} "
                                  f"attendus, reçu {targets[bad][:5].tolist()}"))
    logp = log_softmax(logits, axis=1)
    rows, safe_t = np.arange(n), targets if keep is None else np.where(keep, targets, 0)
    losses = -logp[rows, safe_t]
    d_logits = np.exp(logp)
    d_logits[rows, safe_t] -= 1.0
    if keep is not None:
        losses *= keep
        d_logits *= keep[:, None]
    if reduction == "none":
        return losses, d_logits
    if reduction == "sum":
        return float(losses.sum()), d_logits
    count = max(n if keep is None else int(keep.sum()), 1)
    return float(losses.sum() / count), d_logits / count


def mse(pred, target, reduction="mean"):
    """Mean squared error ½-free, as PyTorch: L = mean((ŷ − y)²); ∂L/∂ŷ = 2(ŷ − y)/N."""
    diff = np.asarray(pred) - np.asarray(target)
    if reduction == "sum":
        return float(np.sum(diff * diff)), 2.0 * diff
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size
