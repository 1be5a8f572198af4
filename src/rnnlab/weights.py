"""A recurrent layer's weights read from a file: what ``rnnlab gradients --weights FILE`` (and any
analysis of trained weights) starts from.

:func:`load_weights` reads ``.safetensors`` or ``.npz`` (never a pickle); :func:`layer_from_weights`
builds the float64 layer those arrays describe, reading the cell from the registry
(:mod:`rnnlab.cells`) by the shape of ``weight_hh_l0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import cells
from .errors import CheckpointError
from .i18n import guillemets, say


def load_weights(path) -> dict:
    """Arrays from a ``.safetensors`` or ``.npz`` file (``allow_pickle=False``: never a pickle)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(say(f"weights file {str(path)!r}: not found",
                                  f"fichier de poids {str(path)!r} : introuvable"))
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.numpy import load_file

            return dict(load_file(str(path)))
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: np.array(data[k]) for k in data.files}
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(say(f"weights file {str(path)!r}: cannot be read ({exc})",
                                  f"fichier de poids {str(path)!r} : illisible "
                                  f"({guillemets(exc)})")) from None
    got_en, got_fr = suffix or "no suffix", suffix or "sans suffixe"
    raise CheckpointError(say(f"weights file {str(path)!r}: expected .safetensors or .npz, got {got_en!r}",
                              f"fichier de poids {str(path)!r} : .safetensors ou .npz attendu, "
                              f"reçu {got_fr!r}"))


def layer_from_weights(arrays: dict, path, cell=None):
    """A float64 layer holding ``arrays`` (keys like PyTorch's, an optional ``prefix.`` allowed);
    the cell is read from the shape of ``weight_hh_l0`` (G·H rows: the registered cell with G
    gates, H, 3H or 4H), a layer-normalised variant from its own parameters (the ``ln_*`` gains)."""
    import re

    from .layers import make_layer

    hh = [k for k in arrays if k.endswith("weight_hh_l0")]
    if len(hh) != 1:
        got = sorted(arrays)[:8]
        raise CheckpointError(say(f"weights file {str(path)!r}: expected one key ending in 'weight_hh_l0', "
                                  f"got {got}",
                                  f"fichier de poids {str(path)!r} : une clé finissant par « weight_hh_l0 » "
                                  f"attendue, reçu {got}"))
    prefix = hh[0][: -len("weight_hh_l0")]
    for k, v in arrays.items():  # booleans, integers or complex numbers are no trained weights
        if k.startswith(prefix) and np.asarray(v).dtype.kind != "f":
            raise CheckpointError(say(f"weights file {str(path)!r}: {k}: expected floating-point numbers, "
                                      f"got {np.asarray(v).dtype}",
                                      f"fichier de poids {str(path)!r} : {k} : nombres à virgule flottante "
                                      f"attendus, reçu {np.asarray(v).dtype}"))
    state = {k[len(prefix):]: np.asarray(v, dtype=np.float64)
             for k, v in arrays.items() if k.startswith(prefix)}
    own = {name: spec for spec in cells.REGISTRY.values()  # the cells' own parameters (LN-LSTM gains)
           for name, _, _ in getattr(spec.module, "PARAMS", ())}
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", *own)
    key = re.compile(r"^(" + "|".join(names) + r")_l(\d+)(_reverse)?$")
    state = {k: v for k, v in state.items() if key.match(k)}
    W_hh = state["weight_hh_l0"]
    if W_hh.ndim != 2 or W_hh.shape[0] % W_hh.shape[1]:
        raise CheckpointError(say(f"{str(path)!r}: {prefix}weight_hh_l0: expected shape (G·H, H), "
                                  f"got {W_hh.shape}",
                                  f"{str(path)!r} : {prefix}weight_hh_l0 : forme (G·H, H) attendue, "
                                  f"reçu {W_hh.shape}"))
    H = W_hh.shape[1]
    candidates = [cell] if cell else cells.names()
    fits = [name for name in candidates if cells.get(name).gates * H == W_hh.shape[0]]
    if not fits:
        want = cells.get(cell or "rnn").gates * H
        raise CheckpointError(say(f"{str(path)!r}: weight_hh_l0 has {W_hh.shape[0]} rows for H = {H}: "
                                  f"expected {want} for --cell {cell or 'rnn'}",
                                  f"{str(path)!r} : weight_hh_l0 a {W_hh.shape[0]} lignes pour H = {H} : "
                                  f"{want} attendues pour --cell {cell or 'rnn'}"))
    found = fits[0]
    if "weight_ih_l0" not in state:
        raise CheckpointError(say(f"{str(path)!r}: missing key {prefix}weight_ih_l0",
                                  f"{str(path)!r} : clé manquante {prefix}weight_ih_l0"))
    layers = 1 + max(int(key.match(k).group(2)) for k in state)
    options = dict(num_layers=layers, bias="bias_ih_l0" in state,
                   bidirectional=any(k.endswith("_reverse") for k in state), dtype=np.float64)
    variant = {spec.base for name, spec in own.items() if f"{name}_l0" in state}  # the LN-LSTM's gains
    options["layer_norm"] = found in variant
    layer = make_layer(found, state["weight_ih_l0"].shape[1], H, **options)
    try:
        layer.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(say(f"{str(path)!r}: {exc}", f"{str(path)!r} : {exc}")) from None
    return layer
