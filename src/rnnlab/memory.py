r"""How much memory a computation needs, checked against what the machine has before allocating.

A recurrent run trained by BPTT keeps, besides its P parameters, their gradients and the
optimiser's buffers (Adam: two moments), every step's activations for the backward pass::

    P        = Σ_levels  dirs · G·H · (D_l + H + 2)          (G gates; D_l = D, then dirs·H)
    training = P · (1 + 1 + 2)                               parameters, gradients, optimiser
    tape     = T · N · Σ_levels dirs · (G·H + 4·H + D_l)     gates, states, input of each step
    bytes    = (training + tape) × itemsize + the data T · N · D in float64

with N the sequences processed at once (the batch, or the fixed evaluation set when larger).
:func:`require` compares an estimate with the memory available (``MemAvailable`` of
``/proc/meminfo``, else ``os.sysconf``) and refuses, with a :class:`~rnnlab.errors.ValueRangeError`
that says how much was needed, how much there is, and what to make smaller, a computation that
could only end in an out-of-memory crash (or the system killing the process). Small requests
(under :data:`UNCHECKED` bytes) are not checked, so the check costs nothing where it cannot fail.
"""

from __future__ import annotations

import os

from .errors import ValueRangeError
from .i18n import say

UNCHECKED = 256 * 2**20  # below this, an allocation is not worth a look at /proc/meminfo


def available_bytes() -> int | None:
    """The memory a new allocation can use now (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def describe_bytes(n: float) -> str:
    """``3.2 GiB``, ``512 MiB``, ``1.5e+06 TiB`` (in French ``3,2 Gio``): a size read at a glance."""
    units = say("B KiB MiB GiB TiB", "o Kio Mio Gio Tio").split()
    for unit in units[:-1]:
        if n < 1024:
            break
        n /= 1024
    else:
        unit = units[-1]
    return say(f"{n:.3g} {unit}", f"{n:.3g} {unit}".replace(".", ","))


def require(nbytes: float, what: str, smaller: str) -> None:
    """Refuse (:class:`ValueRangeError`) a computation ``what`` that needs about ``nbytes`` when
    the machine has less available; ``smaller`` names the options (or arguments) that shrink it."""
    if nbytes < UNCHECKED:
        return
    free = available_bytes()
    if free is None or nbytes <= free:
        return
    need, have = describe_bytes(nbytes), describe_bytes(free)
    raise ValueRangeError(say(f"{what}: expected to fit in the {have} of memory available, got an estimate "
                              f"of {need}; make {smaller} smaller",
                              f"{what} : doit tenir dans les {have} de mémoire disponibles, estimé à "
                              f"{need} ; réduire {smaller}"))


def recurrent_parameters(gates: int, input_size: int, hidden_size: int, num_layers: int = 1,
                         directions: int = 1) -> int:
    """P: the weights and biases of a stack of recurrent levels (formula in the module docstring; the
    levels above the first read dirs·H inputs)."""
    per_input = directions * gates * hidden_size  # the weights one input width adds to a level
    first = per_input * (input_size + hidden_size + 2)
    return first + (num_layers - 1) * per_input * (directions * hidden_size + hidden_size + 2)


def recurrent_run_bytes(gates: int, input_size: int, hidden_size: int, steps: int, sequences: int, *,
                        num_layers: int = 1, directions: int = 1, extra_parameters: int = 0,
                        itemsize: int = 4, train: bool = True, parameters: bool = True) -> int:
    """The bytes a recurrent stack needs to run ``steps`` time steps over ``sequences``
    sequences at once, by BPTT when ``train`` (formula in the module docstring);
    ``extra_parameters``: a head's or an embedding's; ``parameters=False``: the activations and
    the data alone (the parameters exist already)."""
    P = recurrent_parameters(gates, input_size, hidden_size, num_layers, directions) + extra_parameters
    level = directions * (gates * hidden_size + 4 * hidden_size)  # one step of one level, without its input
    tape = num_layers * level + directions * (input_size + (num_layers - 1) * directions * hidden_size)
    copies = (4 if train else 1) if parameters else 0
    return (P * copies + steps * sequences * tape) * itemsize + steps * sequences * input_size * 8
