r"""Two regularised recurrent layers PyTorch users ask for: variational (recurrent) dropout and the
layer-normalised LSTM. Same interface as ``rnnlab.RNN/LSTM`` (``forward(x, hx, lengths)``,
``backward``, ``params``/``grads`` keyed by name, ``train``/``eval``), unidirectional stacks.

Variational dropout (Gal & Ghahramani 2016, "A theoretically grounded application of dropout in
recurrent neural networks"): one Bernoulli mask per sequence and layer, drawn once per forward
and used at *every* step, on the state entering the recurrence and on the inputs of layers ≥ 1::

    h̃_{t-1} = h_{t-1} ⊙ m_h / (1 − p),     m_h ~ Bernoulli(1 − p)^{B×H}, the same for all t
    (RNN)   h_t = tanh(W_ih x_t + b + W_hh h̃_{t-1})
    (LSTM)  z_t = W_ih x_t + b + W_hh h̃_{t-1};  C_t, h_t as usual (C is never masked)

so that backward multiplies ∂L/∂h̃_{t-1} by the same mask, and ∂L/∂W_hh = Σ_t ∂L/∂z_t h̃_{t-1}ᵀ.
Dropping a fresh mask at each step (naive dropout on h) would erase the memory the LSTM keeps;
a fixed mask only thins the recurrent weights. The weights are those of ``nn.LSTM``/``nn.RNN``
(dropout acts only in training), so they load into PyTorch unchanged.

Layer-normalised LSTM (Ba et al. 2016): see :mod:`rnnlab.cells.lnlstm`. Parameters per layer k:
``weight_ih_lk (4H, D)``, ``weight_hh_lk (4H, H)``, ``bias_lk (4H)`` (forget-gate part
initialised to 1), ``ln_ih_gain_lk``, ``ln_hh_gain_lk`` (4H, initialised to 1),
``ln_c_gain_lk`` (H, 1) and ``ln_c_bias_lk`` (H, 0). It also takes ``recurrent_dropout``.
Beware of a one-dimensional input: W_ih x_t is then x_t times one fixed vector w, and
LN(w x_t) = sign(x_t) LN(w) keeps only the sign of x_t (measured: the airline forecaster gets
worse with it; ``benchmarks/bench_tasks.py``).

These live outside :mod:`rnnlab.layers` because the core unroll takes no per-step hook; see
:func:`make_variant` for what the core would need to offer them as plain options.
"""

from __future__ import annotations

import numpy as np

from .cells import lnlstm
from .errors import ConfigError
from .layers import Recurrent


def _unroll(step, xw, state0, m_h, mask):
    """``step(xw_t, state) -> (state, cache)`` over t = 0 … T−1, the recurrent mask ``m_h``
    (B, H) applied to h_{t-1}; past its length (``mask`` (T, B, 1)) a sequence keeps its state."""
    T = xw.shape[0]
    state = state0
    output = np.empty((T,) + state0[0].shape, dtype=xw.dtype)  # (T, B, H)
    caches = []
    for t in range(T):
        h_in = state[0] if m_h is None else state[0] * m_h
        new, cache = step(xw[t], (h_in,) + tuple(state[1:]))
        if mask is not None:
            new = tuple(np.where(mask[t], n, o) for n, o in zip(new, state))
            output[t] = new[0] * mask[t]
        else:
            output[t] = new[0]
        caches.append(cache)
        state = new
    return output, state, caches


def _unroll_backward(step_backward, caches, d_output, d_final, m_h, mask):
    """BPTT of :func:`_unroll`; returns ``(d_xw (T, B, G), d_hw (T, B, G), d_state0, extra)``
    with ``extra`` the sum over steps of the per-step parameter gradients ``step_backward`` returns."""
    T = len(caches)
    d_state = tuple(d_final)
    d_xw_all, d_hw_all, extra = None, None, {}
    for t in range(T - 1, -1, -1):
        d_h = d_state[0] + (d_output[t] if mask is None else d_output[t] * mask[t])
        d_state = (d_h,) + tuple(d_state[1:])
        upstream = d_state if mask is None else tuple(d * mask[t] for d in d_state)
        d_xw, d_hw, d_prev, step_extra = step_backward(upstream, caches[t])
        if m_h is not None:
            d_prev = (d_prev[0] * m_h,) + tuple(d_prev[1:])  # through h̃ = h ⊙ m
        d_state = d_prev if mask is None else tuple(dp + d * ~mask[t] for dp, d in zip(d_prev, d_state))
        if d_xw_all is None:
            d_xw_all = np.empty((T,) + d_xw.shape, d_xw.dtype)
            d_hw_all = np.empty_like(d_xw_all)
        d_xw_all[t], d_hw_all[t] = d_xw, d_hw
        for k, g in (step_extra or {}).items():
            if k in extra:
                extra[k] += g
            else:
                extra[k] = g.copy()
    return d_xw_all, d_hw_all, d_state, extra


class _OwnUnroll(Recurrent):
    """A unidirectional stack with its own unroll: variational masks, per-layer hooks."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 recurrent_dropout=0.0, *, dtype=np.float32, rng=None, seed=None):
        if not 0.0 <= float(recurrent_dropout) < 1.0:
            raise ConfigError(f"recurrent_dropout: expected a probability in [0, 1), got {recurrent_dropout!r}")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, False,
                         dtype=dtype, rng=rng, seed=seed)
        self.recurrent_dropout = float(recurrent_dropout)
        self.keep_masks = False  # True: reuse the last masks (gradient checks of training mode)
        self._masks = None

    def _draw_masks(self, B):
        """Per layer: (input mask (B, D_l) or None, recurrent mask (B, H) or None)."""
        if self.keep_masks and self._masks is not None:
            return self._masks
        masks = []
        for layer in range(self.num_layers):
            m_x = m_h = None
            if self.training and self.dropout > 0 and layer > 0:
                m_x = ((self.rng.random((B, self.hidden_size)) >= self.dropout) / (1 - self.dropout)).astype(self.dtype)
            if self.training and self.recurrent_dropout > 0:
                p = self.recurrent_dropout
                m_h = ((self.rng.random((B, self.hidden_size)) >= p) / (1 - p)).astype(self.dtype)
            masks.append((m_x, m_h))
        self._masks = masks
        return masks

    def forward(self, x, hx=None, lengths=None):
        x, states0, mask, unbatched = self._prepare(x, hx, lengths)
        masks = self._draw_masks(x.shape[1])
        layer_input, finals, self._tapes = x, [], []
        for layer in range(self.num_layers):
            m_x, m_h = masks[layer]
            x_in = layer_input if m_x is None else layer_input * m_x  # (T, B, D_l), same mask at every t
            state0 = tuple(s[layer] for s in states0)
            layer_input, final, tape = self._layer_forward(layer, x_in, state0, m_h, mask)
            self._tapes.append((x_in, m_x, m_h, mask, tape))
            finals.append(final)
        self._unbatched = unbatched
        out = layer_input
        finals = [np.stack([f[k] for f in finals]) for k in range(len(self.cell.state_names))]
        if unbatched:
            out, finals = out[:, 0], [f[:, 0] for f in finals]
        elif self.batch_first:
            out = out.swapaxes(0, 1)
        return out, (tuple(finals) if len(finals) == 2 else finals[0])

    __call__ = forward

    def backward(self, d_output, d_h_n=None, d_c_n=None):
        if not self._tapes:
            raise ConfigError(f"{type(self).__name__}.backward: call forward first")
        x0 = self._tapes[0][0]
        T, B = x0.shape[:2]
        H = self.hidden_size
        d_out = self._grad_input("d_output", d_output, (T, B, H), (B, T, H), swap=True)
        d_finals = [self._grad_input(f"d_{n}_n", d, (self.num_layers, B, H))
                    for n, d in zip(self.cell.state_names, (d_h_n, d_c_n))]
        d_out = np.zeros((T, B, H), self.dtype) if d_out is None else d_out
        grads, d_init = {}, []
        for layer in range(self.num_layers - 1, -1, -1):
            x_in, m_x, m_h, mask, tape = self._tapes[layer]
            d_final = tuple(np.zeros((B, H), self.dtype) if d is None else d[layer] for d in d_finals)
            d_x_in, d_state0, g = self._layer_backward(layer, x_in, m_h, mask, tape, d_out, d_final)
            grads.update(g)
            d_init.append(d_state0)
            d_out = d_x_in if m_x is None else d_x_in * m_x
        d_init.reverse()
        self.grads = {name: grads[name].astype(self.dtype, copy=False) for name in self.params}
        d_init = [np.stack([d[k] for d in d_init]) for k in range(len(self.cell.state_names))]
        if self._unbatched:
            d_init, d_out = [d[:, 0] for d in d_init], d_out[:, 0]
        elif self.batch_first:
            d_out = d_out.swapaxes(0, 1)
        self.d_hx = tuple(d_init) if len(d_init) == 2 else d_init[0]
        return d_out


class VariationalRecurrent(_OwnUnroll):
    """``rnnlab.RNN``/``LSTM`` with variational dropout (``recurrent_dropout`` on h_{t-1},
    ``dropout`` on the inputs of layers ≥ 1, both one mask per sequence for all steps)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 recurrent_dropout=0.0, *, dtype=np.float32, rng=None, seed=None):
        if mode not in ("rnn", "lstm"):
            raise ConfigError(f"variational dropout: expected cell rnn or lstm (h_{{t-1}} enters them only through "
                              f"W_hh), got {mode!r}")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, recurrent_dropout,
                         dtype=dtype, rng=rng, seed=seed)

    def _layer_forward(self, layer, x_in, state0, m_h, mask):
        s, p = f"_l{layer}", self.params
        T, B, D = x_in.shape
        xw = (x_in.reshape(T * B, D) @ p[f"weight_ih{s}"].T).reshape(T, B, -1)  # (T, B, G·H)
        if self.bias:
            xw += p[f"bias_ih{s}"] + p[f"bias_hh{s}"]  # b_hh is additive in these cells: fold it
        W_hh = p[f"weight_hh{s}"]
        return _unroll(lambda xw_t, st: self.cell.step(xw_t, st, W_hh), xw, state0, m_h, mask)

    def _layer_backward(self, layer, x_in, m_h, mask, caches, d_out, d_final):
        s, p = f"_l{layer}", self.params
        W_hh, W_ih = p[f"weight_hh{s}"], p[f"weight_ih{s}"]
        d_xw, d_hw, d_state0, _ = _unroll_backward(
            lambda d, c: self.cell.step_backward(d, c, W_hh) + (None,), caches, d_out, d_final, m_h, mask)
        T, B, G = d_xw.shape
        h_in = np.stack([c["h_prev"] for c in caches]).reshape(T * B, -1)  # h̃_{t-1}: what W_hh multiplied
        d_xw2, d_hw2 = d_xw.reshape(T * B, G), d_hw.reshape(T * B, G)
        grads = {f"weight_ih{s}": d_xw2.T @ x_in.reshape(T * B, -1), f"weight_hh{s}": d_hw2.T @ h_in}
        if self.bias:
            grads[f"bias_ih{s}"], grads[f"bias_hh{s}"] = d_xw2.sum(axis=0), d_hw2.sum(axis=0)
        return (d_xw2 @ W_ih).reshape(T, B, -1), d_state0, grads


class LayerNormLSTM(_OwnUnroll):
    """Layer-normalised LSTM stack (Ba et al. 2016), optional variational ``recurrent_dropout``."""

    def __init__(self, input_size, hidden_size, num_layers=1, batch_first=False, dropout=0.0, recurrent_dropout=0.0,
                 *, dtype=np.float32, rng=None, seed=None):
        super().__init__("lstm", input_size, hidden_size, num_layers, True, batch_first, dropout, recurrent_dropout,
                         dtype=dtype, rng=rng, seed=seed)
        self.mode = "lnlstm"
        H = hidden_size
        for layer in range(num_layers):
            s = f"_l{layer}"
            self.params[f"bias{s}"][:] = 0.0
            self.params[f"bias{s}"][H:2 * H] = 1.0  # forget gate open at the start
            for name in ("ln_ih_gain", "ln_hh_gain", "ln_c_gain"):
                self.params[f"{name}{s}"][:] = 1.0
            self.params[f"ln_c_bias{s}"][:] = 0.0

    def _param_shapes(self):
        H = self.hidden_size
        for layer in range(self.num_layers):
            s = f"_l{layer}"
            yield f"weight_ih{s}", (4 * H, self.input_size if layer == 0 else H)
            yield f"weight_hh{s}", (4 * H, H)
            yield f"bias{s}", (4 * H,)
            yield f"ln_ih_gain{s}", (4 * H,)
            yield f"ln_hh_gain{s}", (4 * H,)
            yield f"ln_c_gain{s}", (H,)
            yield f"ln_c_bias{s}", (H,)

    def _cell_params(self, s):
        p = self.params
        return {"hh_gain": p[f"ln_hh_gain{s}"], "c_gain": p[f"ln_c_gain{s}"], "c_bias": p[f"ln_c_bias{s}"]}

    def _layer_forward(self, layer, x_in, state0, m_h, mask):
        s, p = f"_l{layer}", self.params
        T, B, D = x_in.shape
        xp = (x_in.reshape(T * B, D) @ p[f"weight_ih{s}"].T).reshape(T, B, -1)  # (T, B, 4H)
        xn, ln_x = lnlstm.layer_norm(xp, p[f"ln_ih_gain{s}"])  # LN(W_ih x_t; α_x) for all t at once
        xw = xn + p[f"bias{s}"]
        W_hh, cp = p[f"weight_hh{s}"], self._cell_params(s)
        out, final, caches = _unroll(lambda xw_t, st: lnlstm.step(xw_t, st, W_hh, cp), xw, state0, m_h, mask)
        return out, final, (caches, ln_x)

    def _layer_backward(self, layer, x_in, m_h, mask, tape, d_out, d_final):
        s, p = f"_l{layer}", self.params
        caches, ln_x = tape
        W_hh, W_ih, cp = p[f"weight_hh{s}"], p[f"weight_ih{s}"], self._cell_params(s)
        d_xw, d_hw, d_state0, extra = _unroll_backward(
            lambda d, c: lnlstm.step_backward(d, c, W_hh, cp), caches, d_out, d_final, m_h, mask)
        d_xp, d_ih_gain, _ = lnlstm.layer_norm_backward(d_xw, ln_x, p[f"ln_ih_gain{s}"])
        T, B, G = d_xw.shape
        h_in = np.stack([c["h_prev"] for c in caches]).reshape(T * B, -1)
        d_xp2 = d_xp.reshape(T * B, G)
        grads = {f"weight_ih{s}": d_xp2.T @ x_in.reshape(T * B, -1), f"weight_hh{s}": d_hw.reshape(T * B, G).T @ h_in,
                 f"bias{s}": d_xw.reshape(T * B, G).sum(axis=0), f"ln_ih_gain{s}": d_ih_gain,
                 f"ln_hh_gain{s}": extra["hh_gain"], f"ln_c_gain{s}": extra["c_gain"], f"ln_c_bias{s}": extra["c_bias"]}
        return (d_xp2 @ W_ih).reshape(T, B, -1), d_state0, grads


def make_variant(cell, input_size, hidden_size, *, num_layers=1, bidirectional=False, dropout=0.0,
                 recurrent_dropout=0.0, dtype=np.float32, rng=None):
    """The layer for ``cell="lnlstm"`` or ``recurrent_dropout > 0`` (what :mod:`rnnlab.seqmodels` calls).

    To make both plain options of ``rnnlab.LSTM(..., recurrent_dropout=p, layer_norm=True)``, the
    core would need (a) in ``Recurrent.forward``, a per-(layer, direction) recurrent mask
    ``m_h (B, H)`` passed to ``sequence.unroll(..., h_mask=m_h)``, which multiplies ``h_{t-1}``
    before ``cell.step`` and ``d_state_prev[0]`` after ``cell.step_backward`` (the cache's
    ``h_prev`` is then already the masked one, so ``weight_hh_grad`` stays right); (b) a way for
    a cell to own extra parameters (``step(xw, state, W_hh, b_hh, params=…)``,
    ``step_backward`` returning their per-step gradients, summed by ``unroll_backward``), plus a
    hook to transform ``xw`` for all steps before the loop (the LN of ``W_ih x_t``).
    """
    if bidirectional:
        raise ConfigError("recurrent_dropout / lnlstm: expected a unidirectional model, got bidirectional=True")
    if cell == "lnlstm":
        return LayerNormLSTM(input_size, hidden_size, num_layers, dropout=dropout,
                             recurrent_dropout=recurrent_dropout, dtype=dtype, rng=rng)
    return VariationalRecurrent(cell, input_size, hidden_size, num_layers, dropout=dropout,
                                recurrent_dropout=recurrent_dropout, dtype=dtype, rng=rng)
