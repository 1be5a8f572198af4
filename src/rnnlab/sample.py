r"""Text generation from a character language model: greedy (the seed), temperature, top-k, top-p.

At each step the model reads the last character and gives logits ``z``; the next character is
drawn from

    p_k ∝ exp(z_k / τ)                 temperature τ (τ → 0: the arg max, as the seed's greedy
                                       ``np.argmax(y)``; τ = 1: the model's distribution)
    then only the k most probable      top-k: the others get probability 0
    then the smallest set of most probable characters whose total is ≥ p   top-p (nucleus)

and renormalised. Every draw uses an explicit ``numpy.random.Generator``: the same seed gives
the same text.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError, DataError
from .functional import softmax
from .i18n import say


def check_sampling_options(temperature=1.0, top_k=None, top_p=None, length=None):
    """Raise :class:`ConfigError` for an option outside its range (names the option)."""
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
        raise ConfigError(say(f"temperature: expected a finite number ≥ 0, got {temperature!r}",
                              f"temperature : nombre fini ≥ 0 attendu, reçu {temperature!r}"))
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool)
                              or top_k < 1):
        raise ConfigError(say(f"top-k: expected an integer ≥ 1, got {top_k!r}",
                              f"top-k : entier ≥ 1 attendu, reçu {top_k!r}"))
    if top_p is not None and not (isinstance(top_p, (int, float)) and 0.0 < top_p <= 1.0):
        raise ConfigError(say(f"top-p: expected a probability in (0, 1], got {top_p!r}",
                              f"top-p : probabilité dans ]0, 1] attendue, reçu {top_p!r}"))
    if length is not None and (not isinstance(length, (int, np.integer)) or isinstance(length, bool)
                               or length < 0):
        raise ConfigError(say(f"length: expected an integer ≥ 0, got {length!r}",
                              f"longueur : entier ≥ 0 attendu, reçu {length!r}"))


def next_char_probabilities(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution the next character is drawn from, ``(V,)`` float64 summing to 1.

    ``temperature == 0`` puts all the mass on the arg max (greedy)."""
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        probs = np.zeros_like(z)
        probs[np.argmax(z)] = 1.0
        return probs
    probs = softmax(z / temperature)
    if top_k is not None and top_k < z.size:
        kth = np.partition(z, -top_k)[-top_k]  # the k-th largest logit
        keep = z >= kth
        if keep.sum() > top_k:  # ties at the threshold: keep the first ones in order of index
            order = np.argsort(-z, kind="stable")
            keep = np.zeros(z.size, dtype=bool)
            keep[order[:top_k]] = True
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum()
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        before = np.cumsum(probs[order]) - probs[order]  # mass of the strictly more probable ones
        keep = np.zeros(z.size, dtype=bool)
        keep[order[before < top_p]] = True  # the most probable always stays
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum()
    return probs


def draw(probs, rng: np.random.Generator) -> int:
    """One index drawn from ``probs`` by inverse CDF with one uniform number."""
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), probs.size - 1))


def default_prime(vocab) -> str:
    """A neutral start: a newline if the vocabulary has one, else its first character."""
    return "\n" if "\n" in vocab.chars else vocab.chars[0]


def encode_prime(vocab, prime: str) -> np.ndarray:
    """Ids of the priming text; :class:`DataError` naming every character the model never saw."""
    import unicodedata

    prime = unicodedata.normalize("NFC", prime)
    if not prime:
        raise DataError(say("prime text: expected at least one character, got an empty string",
                            "texte d'amorce : au moins un caractère attendu, reçu une chaîne vide"))
    known = set(vocab.chars)
    unseen = sorted({c for c in prime if c not in known})
    if unseen:
        listed = ", ".join(repr(c) for c in unseen)
        listed_fr, s = ", ".join(f"« {repr(c)[1:-1]} »" for c in unseen), ("s" if len(unseen) > 1 else "")
        raise DataError(say(f"prime text: character(s) {listed} not in the model's vocabulary of "
                            f"{len(known)} characters (it never saw them in training)",
                            f"texte d'amorce : caractère{s} {listed_fr} absent{s} du vocabulaire du modèle "
                            f"({len(known)} caractères vus à l'entraînement)"))
    return np.asarray(vocab.encode(prime), dtype=np.int64)


def generate(model, vocab, length=200, prime=None, temperature=1.0, top_k=None, top_p=None, seed=None,
             rng=None, on_text=None, warmup=0) -> str:
    """Generate ``length`` characters after ``prime`` (default: :func:`default_prime`).

    Parameters
    ----------
    model : a :class:`~rnnlab.models.CharLM` (put in eval mode for the call)
    vocab : the model's vocabulary (``encode``/``decode``/``chars``)
    temperature, top_k, top_p : see the module docstring; ``temperature=0`` is greedy
    seed, rng : the random source (one of them; ``seed=None`` and no rng: fresh entropy)
    on_text : called with each new character as soon as it is drawn (streaming to a terminal)
    warmup : if > 0, the model first writes at least this many characters of its own from
        :func:`default_prime`, up to a line break (at most twice as many), which are thrown
        away, and reads the prime from the state they leave. A model trained with the state
        carried across batches seldom starts from zeros (once an epoch), so a prime read from
        the zero state is read badly; after a warm-up it is read as in the middle of a text.

    Returns the generated characters (without the prime).
    """
    check_sampling_options(temperature, top_k, top_p, length)
    if rng is None:
        rng = np.random.default_rng(seed)
    ids = encode_prime(vocab, default_prime(vocab) if prime is None else prime)
    was_training = model.training
    model.eval()
    try:
        state = None
        if warmup > 0:
            state = _warm_up(model, vocab, warmup, temperature, top_k, top_p, rng)
        if ids.size > 1:  # read the prime in one pass, all but its last character
            _, state = model(ids[:-1, None], state)
        current, out = int(ids[-1]), []
        for _ in range(length):
            logits, state = model.step(np.array([current]), state)
            current = draw(next_char_probabilities(logits[0], temperature, top_k, top_p), rng)
            char = vocab.decode([current])
            out.append(char)
            if on_text is not None:
                on_text(char)
        return "".join(out)
    finally:
        model.train(was_training)


def _warm_up(model, vocab, warmup, temperature, top_k, top_p, rng):
    """The state after the model wrote ≥ ``warmup`` characters from the default prime and
    reached a line break (or 2 × ``warmup`` characters)."""
    current, state = int(vocab.encode(default_prime(vocab))[-1]), None
    newline = vocab.char_to_idx.get("\n") if hasattr(vocab, "char_to_idx") else None
    for k in range(2 * warmup):
        logits, state = model.step(np.array([current]), state)
        current = draw(next_char_probabilities(logits[0], temperature, top_k, top_p), rng)
        if k + 1 >= warmup and current == newline:
            break
    _, state = model.step(np.array([current]), state)  # read the last character written
    return state
