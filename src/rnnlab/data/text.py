"""Text as integers: a character vocabulary, a contiguous train/validation split, the
char-rnn batches (B parallel streams, truncated BPTT) and the seed's windowed dataset.

A *character* here is one Unicode code point after NFC normalisation: ``"e\\u0301"`` (e +
combining acute accent) and ``"é"`` are the same character ``"é"``, so accented French
encodes the same way whatever the editor that wrote it. The vocabulary is the sorted set of
characters of the training text, as in the Notebook (``chars = sorted(list(set(text)))``).

Characters unseen in training follow a declared policy (:attr:`Vocabulary.unknown`):

- ``"error"`` (default): encoding raises :class:`~rnnlab.errors.DataError` naming the first
  unseen character, its code point and its position in the (normalised) text;
- ``"replace"``: each unseen character becomes :attr:`Vocabulary.fallback` (by default
  U+FFFD ``"�"``, added to the vocabulary when it is built).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import ConfigError, DataError, ValueRangeError
from ..i18n import integer, say

UNKNOWN_POLICIES = ("error", "replace")
DEFAULT_FALLBACK = "\ufffd"  # � REPLACEMENT CHARACTER
VOCABULARY_FORMAT = "rnnlab.vocabulary"
VOCABULARY_VERSION = 1


def normalize(text: str) -> str:
    """NFC normal form: composed characters (``"é"`` as one code point, not e + ◌́)."""
    return unicodedata.normalize("NFC", text)


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a (len(text),) uint32 array, without a Python loop."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _char_name(ch: str) -> str:
    """``'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)``: unambiguous in a message."""
    return f"{ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')})"


@dataclass(frozen=True)
class Vocabulary:
    """A frozen, sorted list of characters; ``chars[i]`` is the character of index ``i``.

    Build it with :meth:`from_text`; save it with :meth:`to_json` and read it back with
    :meth:`from_json` (a checkpoint stores it next to the weights).
    """

    chars: tuple[str, ...]
    unknown: str = "error"
    fallback: str | None = None
    _codes: np.ndarray = field(init=False, repr=False, compare=False)  # (V,) sorted uint32

    def __post_init__(self):
        chars = tuple(self.chars)
        object.__setattr__(self, "chars", chars)
        if not chars:
            raise DataError(say("vocabulary: expected at least one character, got none",
                                "vocabulaire : au moins un caractère attendu, aucun reçu"))
        for i, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise DataError(say(f"vocabulary: chars[{i}]: expected one character, got {ch!r}",
                                    f"vocabulaire : chars[{i}] : un caractère attendu, reçu {ch!r}"))
        codes = np.array([ord(c) for c in chars], dtype=np.uint32)
        if np.any(np.diff(codes.astype(np.int64)) <= 0):
            raise DataError(say("vocabulary: expected distinct characters sorted by code point",
                                "vocabulaire : caractères distincts triés par point de code attendus"))
        if self.unknown not in UNKNOWN_POLICIES:
            raise ConfigError(say(f"vocabulary unknown: expected one of {UNKNOWN_POLICIES}, "
                                  f"got {self.unknown!r}",
                                  f"vocabulaire unknown : une valeur parmi {UNKNOWN_POLICIES} attendue, "
                                  f"reçu {self.unknown!r}"))
        if self.unknown == "replace" and self.fallback not in chars:
            raise ConfigError(say(f"vocabulary fallback: expected a character of the vocabulary, "
                                  f"got {self.fallback!r}",
                                  f"vocabulaire fallback : un caractère du vocabulaire attendu, "
                                  f"reçu {self.fallback!r}"))
        object.__setattr__(self, "_codes", codes)

    # --- building --------------------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, unknown: str = "error", fallback: str | None = None) -> "Vocabulary":
        """The sorted set of characters of NFC(``text``).

        With ``unknown="replace"``, ``fallback`` (default U+FFFD) is added to the vocabulary
        if the text does not contain it.
        """
        if not isinstance(text, str):
            raise DataError(say(f"vocabulary: expected text (str), got {type(text).__name__}",
                                f"vocabulaire : texte (str) attendu, reçu {type(text).__name__}"))
        chars = set(normalize(text))
        if unknown == "replace":
            fallback = DEFAULT_FALLBACK if fallback is None else fallback
            if not isinstance(fallback, str) or len(normalize(fallback)) != 1:
                raise ConfigError(say(f"vocabulary fallback: expected one character, got {fallback!r}",
                                      f"vocabulaire fallback : un caractère attendu, reçu {fallback!r}"))
            fallback = normalize(fallback)
            chars.add(fallback)
        elif fallback is not None and unknown == "error":
            raise ConfigError(say("vocabulary fallback: only used with unknown='replace'",
                                  "vocabulaire fallback : seulement avec unknown='replace'"))
        return cls(tuple(sorted(chars)), unknown=unknown, fallback=fallback)

    # --- sizes and look-ups (the seed's char_to_idx / idx_to_char) --------------------------

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch) -> bool:
        return ch in self.char_to_idx

    @cached_property
    def char_to_idx(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.chars)}

    @property
    def idx_to_char(self) -> dict[int, str]:
        return dict(enumerate(self.chars))

    # --- encoding and decoding -------------------------------------------------------------

    def encode(self, text: str) -> np.ndarray:
        """NFC(``text``) as an int64 array of indices, (len(NFC(text)),).

        Unseen characters: :class:`DataError` (policy ``"error"``) naming the first one and its
        position in the normalised text, or the fallback's index (policy ``"replace"``).
        """
        if not isinstance(text, str):
            raise DataError(say(f"encode: expected text (str), got {type(text).__name__}",
                                f"encode : texte (str) attendu, reçu {type(text).__name__}"))
        text = normalize(text)
        codes = _code_points(text)  # (N,)
        ids = np.searchsorted(self._codes, codes)  # (N,) insertion points
        ids_in = np.minimum(ids, len(self._codes) - 1)
        seen = self._codes[ids_in] == codes
        if not np.all(seen):
            unseen = np.flatnonzero(~seen)
            if self.unknown == "error":
                pos = int(unseen[0])
                others = len(set(text[i] for i in unseen[:10000])) - 1
                s, t = ("s" if len(unseen) > 1 else ""), ("s" if others > 1 else "")
                more = say(f" ({len(unseen)} unseen occurrence(s), {others} other unseen character(s))",
                           f" ({len(unseen)} occurrence{s} inconnue{s}, "
                           f"{others} autre{t} caractère{t} inconnu{t})")
                raise DataError(say(
                    f"text: character {_char_name(text[pos])} at position {pos} is not in the "
                    f"vocabulary of {self.size} characters{more}",
                    f"texte : le caractère {_char_name(text[pos])} à la position {pos} n'est pas "
                    f"dans le vocabulaire de {self.size} caractères{more}"))
            ids_in[unseen] = self.chars.index(self.fallback)
        return ids_in.astype(np.int64)

    def decode(self, ids) -> str:
        """The text of a sequence of indices (any integer array-like, flattened)."""
        ids = np.asarray(ids)
        if ids.size == 0:
            return ""
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueRangeError(say(f"decode: expected integer indices, got dtype {ids.dtype}",
                                      f"decode : indices entiers attendus, reçu le type {ids.dtype}"))
        ids = ids.ravel()
        bad = (ids < 0) | (ids >= self.size)
        if np.any(bad):
            raise ValueRangeError(say(
                f"decode: expected indices in 0..{self.size - 1}, got {ids[bad][:5].tolist()}",
                f"decode : indices dans 0..{self.size - 1} attendus, reçu {ids[bad][:5].tolist()}"))
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")

    def one_hot(self, ids, dtype=np.float64) -> np.ndarray:
        """The seed's one-hot vectors: (..., V) with a 1 at each index (see :func:`one_hot`)."""
        return one_hot(ids, self.size, dtype=dtype)

    # --- saving ----------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {"format": VOCABULARY_FORMAT, "version": VOCABULARY_VERSION,
                "chars": list(self.chars), "unknown": self.unknown, "fallback": self.fallback}

    @classmethod
    def from_json(cls, d: dict) -> "Vocabulary":
        """Inverse of :meth:`to_json`; :class:`DataError` naming the key if ``d`` is malformed."""
        if not isinstance(d, dict):
            raise DataError(say(f"vocabulary: expected a JSON object, got {type(d).__name__}",
                                f"vocabulaire : objet JSON attendu, reçu {type(d).__name__}"))
        if d.get("format") != VOCABULARY_FORMAT or d.get("version") != VOCABULARY_VERSION:
            raise DataError(say(
                f"vocabulary: expected format {VOCABULARY_FORMAT!r} version {VOCABULARY_VERSION}, "
                f"got {d.get('format')!r} version {d.get('version')!r}",
                f"vocabulaire : format {VOCABULARY_FORMAT!r} version {VOCABULARY_VERSION} attendu, "
                f"reçu {d.get('format')!r} version {d.get('version')!r}"))
        chars = d.get("chars")
        if not isinstance(chars, list):
            raise DataError(say(f"vocabulary: key 'chars': expected a list, got {type(chars).__name__}",
                                f"vocabulaire : clé « chars » : liste attendue, reçu {type(chars).__name__}"))
        return cls(tuple(chars), unknown=d.get("unknown", "error"), fallback=d.get("fallback"))


def one_hot(ids, size: int, dtype=np.float64) -> np.ndarray:
    """x = e_{id}: (..., size) zeros with a 1 at each index, as the Notebook's ``one_hot_dict``."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros(ids.shape + (size,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    return out


# --- splitting -----------------------------------------------------------------------------


def split_train_val(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous split: train = ids[:n_train], val = ids[n_train:], n_train = ⌊N(1 − f)⌋.

    Contiguous (not shuffled) so that validation text is text the model never read, as in
    nanoGPT's 90/10 split. Both parts must hold at least 2 characters (one input → target
    pair) unless ``val_fraction == 0`` (empty validation part).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise DataError(say(f"split: expected a 1-D array of ids, got shape {ids.shape}",
                            f"découpage : tableau 1-D d'indices attendu, reçu la forme {ids.shape}"))
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(say(f"val_fraction: expected 0 <= f < 1, got {val_fraction}",
                              f"val_fraction : 0 <= f < 1 attendu, reçu {val_fraction}"))
    n = len(ids)
    n_train = int(n * (1.0 - val_fraction))
    n_val = n - n_train
    if n_train < 2 or (val_fraction > 0 and n_val < 2):
        raise DataError(say(
            f"split: {n} characters with val_fraction {val_fraction} give {n_train} for training "
            f"and {n_val} for validation; expected at least 2 in each",
            f"découpage : {integer(n)} caractères avec val_fraction {val_fraction} donnent "
            f"{integer(n_train)} pour l'entraînement et {integer(n_val)} pour la validation ; au moins 2 "
            "attendus dans chacun"))
    return ids[:n_train], ids[n_train:]


# --- char-rnn batches -----------------------------------------------------------------------


class StreamBatcher:
    """B parallel streams of text cut into pieces of T characters (truncated BPTT).

    The ids (N,) are cut into B contiguous streams of L = ⌊(N − 1)/B⌋ characters; stream b
    reads ids[b·L : (b+1)·L] and predicts ids[b·L + 1 : (b+1)·L + 1]. Batch k of an epoch is
    columns k·T … (k+1)·T − 1 of every stream, time-major::

        inputs[t, b]  = ids[b·L + k·T + t]            # (T, B)
        targets[t, b] = ids[b·L + k·T + t + 1]        # (T, B)

    so column b of batch k+1 continues column b of batch k: the hidden state h_n of one batch
    is the right initial state of the next (char-rnn). An epoch has ⌊L/T⌋ batches; the last
    L mod T characters of each stream are not read. After the last batch the streams restart
    (``epoch`` += 1, ``position`` = 0): reset the hidden state whenever ``position == 0``
    before a batch.

    ``state_dict()`` / ``load_state_dict()`` hold (position, epoch) and the shape and a hash
    of the data, so a resumed run reads exactly the batches an uninterrupted one would.
    """

    def __init__(self, ids, batch_size: int, seq_len: int):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise DataError(say(f"batcher: expected a 1-D integer array of ids, "
                                f"got shape {ids.shape} dtype {ids.dtype}",
                                f"lots : tableau 1-D d'indices entiers attendu, "
                                f"reçu forme {ids.shape} type {ids.dtype}"))
        for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ConfigError(say(f"{name}: expected an integer >= 1, got {v!r}",
                                      f"{name} : entier >= 1 attendu, reçu {v!r}"))
        self.batch_size, self.seq_len = int(batch_size), int(seq_len)
        self.stream_len = (len(ids) - 1) // self.batch_size  # L
        self.batches_per_epoch = self.stream_len // self.seq_len
        if self.batches_per_epoch < 1:
            need = self.batch_size * self.seq_len + 1
            raise DataError(say(
                f"batcher: {len(ids)} characters are too few for batch_size {batch_size} × seq_len "
                f"{seq_len}; expected at least {need} (use a smaller --batch or --seq-len)",
                f"lots : {integer(len(ids))} caractères sont trop peu pour batch_size {integer(batch_size)} "
                f"× seq_len {seq_len} ; au moins {integer(need)} attendus (réduire --batch ou --seq-len)"))
        ids = ids.astype(np.int64, copy=False)
        n = self.batch_size * self.stream_len
        self._inputs = ids[:n].reshape(self.batch_size, self.stream_len)  # (B, L)
        self._targets = ids[1:n + 1].reshape(self.batch_size, self.stream_len)  # (B, L)
        self._ids = ids
        self._sha256: str | None = None
        self.position = 0  # index of the next batch within the epoch
        self.epoch = 0

    @property
    def tokens_per_batch(self) -> int:
        return self.batch_size * self.seq_len

    def data_sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(np.ascontiguousarray(self._ids).tobytes()).hexdigest()
        return self._sha256

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """(inputs (T, B), targets (T, B)) int64, then advance (wrapping after the epoch)."""
        k, T = self.position, self.seq_len
        inputs = np.ascontiguousarray(self._inputs[:, k * T:(k + 1) * T].T)  # (T, B)
        targets = np.ascontiguousarray(self._targets[:, k * T:(k + 1) * T].T)  # (T, B)
        self.position += 1
        if self.position == self.batches_per_epoch:
            self.position = 0
            self.epoch += 1
        return inputs, targets

    def __iter__(self):
        """The remaining batches of the current epoch (all of them from ``position == 0``)."""
        for _ in range(self.batches_per_epoch - self.position):
            yield self.next_batch()

    def __len__(self) -> int:
        return self.batches_per_epoch

    def state_dict(self) -> dict:
        return {"position": self.position, "epoch": self.epoch, "batch_size": self.batch_size,
                "seq_len": self.seq_len, "num_tokens": int(len(self._ids)),
                "data_sha256": self.data_sha256()}

    def load_state_dict(self, d: dict) -> None:
        """Restore (position, epoch); :class:`DataError` naming the key if ``d`` was saved for
        other data or another batch shape."""
        mine = self.state_dict()
        for key in ("batch_size", "seq_len", "num_tokens", "data_sha256", "position", "epoch"):
            if key not in d:
                raise DataError(say(f"batcher state: key {key!r} is missing",
                                    f"état des lots : la clé {key!r} manque"))
        for key in ("batch_size", "seq_len", "num_tokens", "data_sha256"):
            if d[key] != mine[key]:
                raise DataError(say(
                    f"batcher state: key {key!r}: expected {mine[key]!r} (this data), got {d[key]!r}",
                    f"état des lots : clé {key!r} : {mine[key]!r} attendu (ces données), reçu {d[key]!r}"))
        position, epoch = d["position"], d["epoch"]
        if not (isinstance(position, int) and 0 <= position < self.batches_per_epoch
                and isinstance(epoch, int) and epoch >= 0):
            raise DataError(say(
                f"batcher state: expected 0 <= position < {self.batches_per_epoch} and epoch >= 0, "
                f"got position {position!r}, epoch {epoch!r}",
                f"état des lots : 0 <= position < {self.batches_per_epoch} et epoch >= 0 attendus, "
                f"reçu position {position!r}, epoch {epoch!r}"))
        self.position, self.epoch = position, epoch


# --- the seed's many-to-one windows ---------------------------------------------------------


def windowed_dataset(ids, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The Notebook's pairs: X[i] = ids[i : i + window], y[i] = ids[i + window], for
    i = 0 … N − window − 1 (N − window pairs): ``inputs.append(text[i:i+seq_length])``,
    ``targets.append(text[i+seq_length])``.

    Returns X (N − window, window) int64 and y (N − window,) int64.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise DataError(say(f"windows: expected a 1-D array of ids, got shape {ids.shape}",
                            f"fenêtres : tableau 1-D d'indices attendu, reçu la forme {ids.shape}"))
    if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1:
        raise ConfigError(say(f"window: expected an integer >= 1, got {window!r}",
                              f"« window » : entier >= 1 attendu, reçu {window!r}"))
    if len(ids) <= window:
        raise DataError(say(f"windows: {len(ids)} characters give no pair for window {window}; "
                            f"expected at least {window + 1}",
                            f"fenêtres : {len(ids)} caractères ne donnent aucune paire pour une fenêtre "
                            f"de {window} ; au moins {window + 1} attendus"))
    ids = ids.astype(np.int64, copy=False)
    X = np.lib.stride_tricks.sliding_window_view(ids[:-1], window).copy()  # (N − window, window)
    y = ids[window:].copy()  # (N − window,)
    return X, y
