"""rnnlab's errors: one base class, messages that say what was expected and what was got."""

from __future__ import annotations

from .i18n import integer, say


class RnnlabError(Exception):
    """Base class of every error rnnlab raises on purpose (user input, files, configuration)."""


class ShapeError(RnnlabError, ValueError):
    """An array has the wrong shape, size or dtype."""


class ValueRangeError(RnnlabError, ValueError):
    """A value is outside the range it must lie in (non-finite input, negative length, ...)."""


class ConfigError(RnnlabError, ValueError):
    """An option or a configuration is invalid."""


class DataError(RnnlabError, ValueError):
    """A data file or corpus cannot be used (missing column, non-numeric value, too short)."""


class CheckpointError(RnnlabError, ValueError):
    """A checkpoint or weights file is missing, corrupt or does not fit the model."""


class WriteError(RnnlabError):
    """A file or folder cannot be written (a read-only folder, a full disk, a file-size limit, a
    folder where a file is expected): the message names the user's path, never a temporary one."""


class TorchNotInstalledError(ConfigError, ImportError):
    """PyTorch is needed (``pip install 'rnnlab[torch]'``) and cannot be imported."""


def describe_shape(shape) -> str:
    """``(3, 5, 7)`` -> ``'(3, 5, 7)'``, the way the messages print shapes."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def expect_shape(name: str, array, expected: tuple) -> None:
    """Raise :class:`ShapeError` unless ``array.shape == expected`` (``None`` matches any size)."""
    got = tuple(array.shape)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        want = describe_shape(tuple("*" if e is None else e for e in expected))
        raise ShapeError(say(f"{name}: expected shape {want}, got {describe_shape(got)}",
                             f"{name} : forme {want} attendue, reçu {describe_shape(got)}"))


def _named(name) -> str:
    """A check's name: a string, or ``(english, french)``, translated only when a check fails
    (the checks run at every forward; a name is read only in a refusal)."""
    return say(*name) if isinstance(name, tuple) else name


def expect_finite(name, array) -> None:
    """Raise :class:`ValueRangeError` if ``array`` holds NaN or infinity; ``name`` a string or
    ``(english, french)``."""
    import numpy as np

    array = np.asarray(array)
    if array.dtype.kind in "iub":
        return  # integers and booleans are finite
    if not np.isfinite(array).all():
        name = _named(name)
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueRangeError(say(f"{name}: expected finite values, got {bad} NaN or infinite value(s)",
                                  f"{name} : valeurs finies attendues, reçu {integer(bad)} "
                                  f"valeur{'s' * (bad > 1)} NaN ou infinie{'s' * (bad > 1)}"))


def expect_real(name, array):
    """``array`` as a NumPy array of real numbers (integers or floats; not booleans, complex numbers
    or objects), finite: :class:`ShapeError` for another kind, :class:`ValueRangeError` for NaN or
    infinity. A complex array would lose its imaginary part when cast; a boolean one is no number.
    ``name``: a string or ``(english, french)``."""
    import numpy as np

    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        name = _named(name)
        note = {"b": say("booleans", "des booléens"),
                "c": say("complex: the imaginary part would be lost",
                         "des complexes : la partie imaginaire serait perdue")}.get(
            array.dtype.kind, say("not numeric", "non numérique"))
        raise ShapeError(say(f"{name}: expected real numbers, got dtype {array.dtype} ({note})",
                             f"{name} : nombres réels attendus, reçu le type {array.dtype} ({note})"))
    expect_finite(name, array)
    return array


FLOAT_DTYPES = ("float32", "float64")


def expect_float_dtype(name: str, dtype):
    """``dtype`` as a ``numpy.dtype`` of the parameters: float32 or float64 (what the kernels and
    the gradient checks compute in); :class:`ConfigError` for anything else (``"float17"``,
    ``np.int32``: integer weights could not learn)."""
    import numpy as np

    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError):
        resolved = None
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        got = repr(dtype) if resolved is None else resolved.name
        raise ConfigError(say(f"{name}: expected one of {', '.join(FLOAT_DTYPES)}, got {got}",
                              f"{name} : l'un de {', '.join(FLOAT_DTYPES)} attendu, reçu « {got} »"))
    return resolved
