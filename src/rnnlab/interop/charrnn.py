r"""char-rnn (Karpathy's Lua/Torch7 ``model/LSTM.lua``) weights, both ways, in pure NumPy.

char-rnn builds each layer ``L = 1, 2, …`` from two Torch7 ``nn.Linear`` modules, annotated
``i2h_L`` and ``h2h_L``, both with a bias, whose sum is cut into four gate blocks in the order
**i, f, o, g** (in_gate, forget_gate, out_gate, in_transform)::

    [n1, n2, n3, n4] = i2h_L(x) + h2h_L(h_{t-1})           i2h_L.weight (4H, D), h2h_L.weight (4H, H)
    i = σ(n1)   f = σ(n2)   o = σ(n3)   g = tanh(n4)
    c_t = f ⊙ c_{t-1} + i ⊙ g                              h_t = o ⊙ tanh(c_t)

The first layer reads a one-hot vector of the vocabulary (D = vocabulary size); the top ``h``
goes through ``decoder`` (``nn.Linear(H, V)``) and a log-softmax. Torch7's ``nn.Linear``
stores ``weight (out, in)`` as PyTorch does, so the only change is the gate order
(i, f, o, g) ↔ (i, f, g, o): ``i2h_L`` → ``weight_ih_l{L-1}``/``bias_ih_l{L-1}`` and ``h2h_L`` →
``weight_hh_l{L-1}``/``bias_hh_l{L-1}``. Dropout between layers has no weights.

The arrays are named here ``i2h_1.weight``, ``i2h_1.bias``, ``h2h_1.weight``, …,
``decoder.weight``, ``decoder.bias``: the annotations of char-rnn's graph with the field name
(read them from a ``.t7`` checkpoint with any Torch7 reader and pass NumPy arrays).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import ShapeError, describe_shape
from ..i18n import say
from ..module import listed
from ._gates import check_array, gate_order, pick_dtype, reorder_gates

CHARRNN_ORDER = ("i", "f", "o", "g")
_KEY = re.compile(r"^(i2h|h2h)_(\d+)\.(weight|bias)$")


def state_dict_from_charrnn(weights, dtype=None):
    """rnnlab's LSTM state dict (``weight_ih_l0`` …) from char-rnn's arrays, plus
    ``decoder.weight``/``decoder.bias`` passed through unchanged if present.

    Checks that layers run 1..L without gaps and every shape fits (4H rows, D or H columns).
    """
    weights = dict(weights)
    layers = {}
    for key in weights:
        m = _KEY.match(key)
        if m:
            layers.setdefault(int(m.group(2)), {})[f"{m.group(1)}.{m.group(3)}"] = key
        elif key not in ("decoder.weight", "decoder.bias"):
            keys = "i2h_L.weight, i2h_L.bias, h2h_L.weight, h2h_L.bias, decoder.weight, decoder.bias"
            raise ShapeError(say(f"char-rnn weights: unexpected key {key!r} (expected {keys})",
                                 f"poids char-rnn : clé inattendue « {key} » (attendues : {keys})"))
    if sorted(layers) != list(range(1, len(layers) + 1)) or not layers:
        raise ShapeError(say(f"char-rnn weights: expected layers 1..L, got layers {sorted(layers)}",
                             f"poids char-rnn : niveaux 1..L attendus, reçu les niveaux {sorted(layers)}"))
    dtype = pick_dtype(dtype, *weights.values())
    out, H = {}, None
    for L in sorted(layers):
        names = layers[L]
        for part in ("i2h.weight", "i2h.bias", "h2h.weight", "h2h.bias"):
            if part not in names:
                key = part.replace(".", f"_{L}.")
                raise ShapeError(say(f"char-rnn weights: layer {L} has no {key}",
                                     f"poids char-rnn : le niveau {L} n'a pas de {key}"))
        W_i2h = check_array(names["i2h.weight"], weights[names["i2h.weight"]], 2)
        W_h2h = check_array(names["h2h.weight"], weights[names["h2h.weight"]], 2)
        H = W_h2h.shape[1] if H is None else H
        D = W_i2h.shape[1] if L == 1 else H
        for key, want in ((names["i2h.weight"], (4 * H, D)), (names["h2h.weight"], (4 * H, H)),
                          (names["i2h.bias"], (4 * H,)), (names["h2h.bias"], (4 * H,))):
            got = np.shape(weights[key])
            if got != want:
                raise ShapeError(say(f"char-rnn weights: {key}: expected shape {describe_shape(want)}, "
                                     f"got {describe_shape(got)}",
                                     f"poids char-rnn : {key} : forme {describe_shape(want)} attendue, "
                                     f"reçu {describe_shape(got)}"))
        s = f"_l{L - 1}"
        for src, dst in (("i2h.weight", f"weight_ih{s}"), ("h2h.weight", f"weight_hh{s}"),
                         ("i2h.bias", f"bias_ih{s}"), ("h2h.bias", f"bias_hh{s}")):
            out[dst] = reorder_gates(weights[names[src]], CHARRNN_ORDER, gate_order("lstm"), name=names[src])
    for key in ("decoder.weight", "decoder.bias"):
        if key in weights:
            out[key] = np.asarray(weights[key])
    if "decoder.weight" in out and out["decoder.weight"].shape[1:] != (H,):
        got = describe_shape(out["decoder.weight"].shape)
        raise ShapeError(say(f"char-rnn weights: decoder.weight: expected shape (vocabulary, {H}), got {got}",
                             f"poids char-rnn : decoder.weight : forme (vocabulaire, {H}) attendue, "
                             f"reçu {got}"))
    if "decoder.bias" in out:
        V = out["decoder.weight"].shape[0] if "decoder.weight" in out else None
        bias = out["decoder.bias"]
        if bias.ndim != 1 or (V is not None and bias.shape[0] != V):
            want = f"({say('vocabulary', 'vocabulaire') if V is None else V},)"
            raise ShapeError(say(f"char-rnn weights: decoder.bias: expected shape {want}, "
                                 f"got {describe_shape(bias.shape)}",
                                 f"poids char-rnn : decoder.bias : forme {want} attendue, "
                                 f"reçu {describe_shape(bias.shape)}"))
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in out.items()}


def state_dict_to_charrnn(state_dict):
    """char-rnn's arrays from an rnnlab LSTM state dict (one direction, with biases); the
    inverse of :func:`state_dict_from_charrnn`. ``decoder.*`` keys pass through."""
    out = {}
    L = 0
    while f"weight_ih_l{L}" in state_dict:
        s = f"_l{L}"
        if f"weight_ih{s}_reverse" in state_dict:
            raise ShapeError(say(f"char-rnn weights: char-rnn has no bidirectional layers, got key "
                                 f"weight_ih{s}_reverse",
                                 f"poids char-rnn : char-rnn n'a pas de niveaux bidirectionnels, reçu la clé "
                                 f"weight_ih{s}_reverse"))
        if f"weight_hr{s}" in state_dict:
            raise ShapeError(say(f"char-rnn weights: char-rnn's LSTM has no projection, got key weight_hr{s} "
                                 f"(expected an LSTM with proj_size=0)",
                                 f"poids char-rnn : le LSTM de char-rnn n'a pas de projection, reçu la clé "
                                 f"weight_hr{s} (LSTM avec proj_size=0 attendu)"))
        if f"bias_ih{s}" not in state_dict:
            raise ShapeError(say(f"char-rnn weights: char-rnn's layers have biases, got no bias_ih{s}",
                                 f"poids char-rnn : les niveaux de char-rnn ont des biais, bias_ih{s} "
                                 f"manque"))
        for src, dst in (("weight_ih", "i2h_{}.weight"), ("weight_hh", "h2h_{}.weight"),
                         ("bias_ih", "i2h_{}.bias"), ("bias_hh", "h2h_{}.bias")):
            out[dst.format(L + 1)] = reorder_gates(state_dict[src + s], gate_order("lstm"), CHARRNN_ORDER,
                                                   name=src + s)
        L += 1
    if L == 0:
        raise ShapeError(say(f"char-rnn weights: expected an LSTM state dict with weight_ih_l0, got keys "
                             f"{sorted(state_dict)[:6]}",
                             f"poids char-rnn : dictionnaire d'état d'un LSTM avec weight_ih_l0 attendu, "
                             f"reçu les clés {listed(sorted(state_dict)[:6])}"))
    for key in ("decoder.weight", "decoder.bias"):
        if key in state_dict:
            out[key] = np.array(state_dict[key])
    return out


def from_charrnn(weights, *, batch_first=False, dtype=None):
    """``(lstm, decoder)``: an rnnlab :class:`~rnnlab.LSTM` holding char-rnn's layers and the
    ``decoder`` arrays ``{"weight" (V, H), "bias" (V,)}`` (empty if absent). The LSTM reads
    one-hot vectors of the vocabulary, as char-rnn does."""
    from ..layers import LSTM

    sd = state_dict_from_charrnn(weights, dtype=dtype)
    decoder = {k.split(".")[1]: sd.pop(k) for k in ("decoder.weight", "decoder.bias") if k in sd}
    num_layers = sum(1 for k in sd if k.startswith("weight_ih_l"))
    lstm = LSTM(sd["weight_ih_l0"].shape[1], sd["weight_hh_l0"].shape[1], num_layers=num_layers,
                batch_first=batch_first, dtype=sd["weight_ih_l0"].dtype)
    lstm.load_state_dict(sd)
    return lstm, decoder


def to_charrnn(lstm, decoder=None):
    """char-rnn's arrays from an rnnlab :class:`~rnnlab.LSTM` (and optional ``decoder`` arrays)."""
    if lstm.mode != "lstm":  # char-rnn's model is this one cell
        raise ShapeError(say(f"char-rnn weights: char-rnn's model is an LSTM, got a {type(lstm).__name__}",
                             f"poids char-rnn : le modèle de char-rnn est un LSTM, reçu un "
                             f"{type(lstm).__name__}"))
    sd = dict(lstm.params)
    for k, v in (decoder or {}).items():
        sd[f"decoder.{k}"] = v
    return state_dict_to_charrnn(sd)
