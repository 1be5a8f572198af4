"""Gate blocks: the one piece of arithmetic every weight-layout conversion shares.

A fused matrix stacks one block of H rows (or columns) per gate. Frameworks agree on the
gates and disagree on their order; converting is cutting the blocks and stacking them again.
Gate names are PyTorch's everywhere in rnnlab (LSTM ``i f g o``, GRU ``r z n``, RNN ``h``).
"""

from __future__ import annotations

import numpy as np

from .. import cells
from ..errors import ShapeError, describe_shape
from ..i18n import say


def gate_order(mode):
    """rnnlab's (PyTorch's) gate order of a registered cell: its file's ``GATE_NAMES``."""
    return cells.get(mode).gate_names


def reorder_gates(array, src, dst, axis=0, name=None):
    """Blocks of equal size along ``axis``, named by ``src`` in order, restacked in ``dst`` order.

    ``reorder_gates(w, "ifog", "ifgo")`` takes char-rnn's (i, f, o, g) to PyTorch's (i, f, g, o).
    """
    array = np.asarray(array)
    name = name or say("weights", "poids")
    G = len(src)
    if sorted(src) != sorted(dst):
        raise ShapeError(say(f"{name}: cannot reorder gates {tuple(src)} into {tuple(dst)}",
                             f"{name} : impossible de réordonner les portes {tuple(src)} en {tuple(dst)}"))
    if array.shape[axis] % G:
        raise ShapeError(say(f"{name}: expected axis {axis} to hold {G} gate blocks of equal size, "
                             f"got shape {describe_shape(array.shape)}",
                             f"{name} : {G} blocs de portes de même taille attendus sur l'axe {axis}, "
                             f"reçu la forme {describe_shape(array.shape)}"))
    blocks = dict(zip(src, np.split(array, G, axis=axis)))
    return np.concatenate([blocks[g] for g in dst], axis=axis)


def check_array(name, array, ndim):
    """``np.asarray(array)`` if it is a floating array with ``ndim`` dimensions, else ShapeError."""
    array = np.asarray(array)
    if array.ndim != ndim:
        raise ShapeError(say(f"{name}: expected {ndim} dimension(s), got shape {describe_shape(array.shape)}",
                             f"{name} : {ndim} dimension{'s' if ndim > 1 else ''} attendue"
                             f"{'s' if ndim > 1 else ''}, reçu la forme {describe_shape(array.shape)}"))
    if not np.issubdtype(array.dtype, np.floating):
        raise ShapeError(say(f"{name}: expected floating-point values, got dtype {array.dtype}",
                             f"{name} : valeurs à virgule flottante attendues, reçu le dtype {array.dtype}"))
    return array


def pick_dtype(dtype, *arrays):
    """The requested dtype, else float32 if every array is float32, else float64."""
    if dtype is not None:
        return np.dtype(dtype)
    return (np.dtype(np.float32) if all(np.asarray(a).dtype == np.float32 for a in arrays)
            else np.dtype(np.float64))
