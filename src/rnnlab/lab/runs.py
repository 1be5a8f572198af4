"""The run folders given to ``rnnlab lab``, read-only: the training monitor (history CSV, the
samples, the configuration) and the model inspector (activations of a unit over a text, the
top-5 next characters, the units that track simple text features, sampling).

A client names a run by its index or its folder's name, never by a path: only the folders given
on the command line are served. Nothing here writes into a run folder."""

from __future__ import annotations

import csv
import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, RnnlabError
from ..i18n import say

SAMPLES_SHOWN = 3
FEATURE_CHARS = 3000  # characters of validation text over which units are correlated with features
TOP_UNITS = 12
EXAMPLE_CHARS = 240  # the inspector's first text: the start of the validation text


class NotFound(RnnlabError, LookupError):
    """An unknown run, preset or page (the server answers 404)."""


@dataclass(frozen=True)
class RunRef:
    index: int
    name: str
    path: Path


def run_refs(run_dirs) -> list:
    """The runs, named by their folder (``name~2`` for a second folder of the same name)."""
    refs, seen = [], {}
    for i, d in enumerate(run_dirs):
        path = Path(d).resolve()
        name = path.name or str(i)
        seen[name] = seen.get(name, 0) + 1
        refs.append(RunRef(i, name if seen[name] == 1 else f"{name}~{seen[name]}", path))
    return refs


def find_run(refs, key: str) -> RunRef:
    """The run ``key`` names (its index or its name, exactly), else :class:`NotFound`."""
    for ref in refs:
        if key == str(ref.index) or key == ref.name:
            return ref
    known = ", ".join(f"{r.index} ({r.name})" for r in refs) or say("none", "aucun")
    raise NotFound(say(f"run: expected the index or the name of a run folder given to rnnlab lab "
                       f"({known}), got {key!r}",
                       f"entraînement : indice ou nom d'un dossier donné à rnnlab lab attendu "
                       f"({known}), reçu {key!r}"))


# --- the training monitor ---------------------------------------------------------------------


def _number(text):
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return value if np.isfinite(value) else None


def read_history(path: Path) -> dict:
    """``loss.csv``: its columns and its rows (numbers; None where a score is empty)."""
    if not path.is_file():
        return {"columns": [], "rows": []}
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8", errors="replace"))))
    if not rows:
        return {"columns": [], "rows": []}
    columns = rows[0]
    body = [[_number(c) for c in r] for r in rows[1:] if len(r) == len(columns)]
    return {"columns": columns, "rows": body}


def read_samples(path: Path, count=SAMPLES_SHOWN) -> list:
    """The last ``count`` samples of ``samples.txt``: ``[{"header", "text"}]``, newest last."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = text.split("\n--- ")
    parts = [parts[0].removeprefix("--- ")] + parts[1:] if parts[0].startswith("--- ") else parts[1:]
    out = []
    for part in parts[-count:]:
        header, _, body = part.partition("\n")
        out.append({"header": header.strip(" -"), "text": body.rstrip("\n")})
    return out


def read_meta(ref: RunRef) -> dict | None:
    """``last.json``'s description of the run (kind, step, config, settings), or None before the first
    save. The checkpoint's JSON only: the monitor needs no tensors."""
    from ..checkpoint import read_checkpoint_json

    try:
        meta = read_checkpoint_json(ref.path, "last")["meta"]
    except (OSError, ValueError, KeyError, TypeError, RnnlabError):
        return None
    if not isinstance(meta, dict):
        return None
    keys = ("kind", "step", "elapsed_seconds", "best", "config", "model", "settings")
    return {k: meta.get(k) for k in keys}


def monitor(ref: RunRef, since: int = 0) -> dict:
    """What the monitor shows, the history's rows from row ``since`` on (the page polls)."""
    if not ref.path.is_dir():
        raise NotFound(say(f"run folder {ref.name}: no such directory (yet)",
                           f"dossier d'entraînement {ref.name} : introuvable (pour l'instant)"))
    history = read_history(ref.path / "loss.csv")
    return {"run": ref.name, "columns": history["columns"], "total_rows": len(history["rows"]),
            "rows": history["rows"][since:], "since": since,
            "samples": read_samples(ref.path / "samples.txt"), "meta": read_meta(ref)}


# --- the model inspector ----------------------------------------------------------------------


_MODELS: dict = {}
_MODELS_LOCK = threading.RLock()


def one_at_a_time(fn):
    """``fn`` run holding the lock on the loaded models: a model keeps its last forward's caches
    (which the inspector reads) and is shared by every tab, so two requests must not interleave
    on it."""

    @functools.wraps(fn)
    def locked(*args, **kwargs):
        with _MODELS_LOCK:
            return fn(*args, **kwargs)

    return locked


@one_at_a_time
def load(ref: RunRef):
    """``(model, vocabulary, meta)`` of a run from ``rnnlab train`` (best checkpoint, else last), kept
    until the checkpoint changes (a run still training saves new ones)."""
    from ..train import load_model

    stamp = tuple((ref.path / f"{n}.json").stat().st_mtime_ns if (ref.path / f"{n}.json").exists() else 0
                  for n in ("best", "last"))
    cached = _MODELS.get(ref.path)
    if cached is None or cached[0] != stamp:
        _MODELS[ref.path] = cached = (stamp, load_model(ref.path), {})
    return cached[1]


def _cache(ref: RunRef) -> dict:
    return _MODELS[ref.path][2]


def unit_series(model, ids) -> dict:
    """Every quantity the recurrent stack computes at each character, by name: ``h``, the LSTM's
    ``c`` and gates ``i f g o``, the GRU's ``r z n`` (PyTorch's names and z), ``(T, H)`` each, for
    each level (``h``, ``h@2`` …), from the layer's own step caches."""
    from ..cells import get

    model.eval()
    logits, _ = model(np.asarray(ids)[:, None])  # (T, 1, V)
    spec, H = get(model.cell_name), model.hidden_size
    out = {}
    for level in range(model.num_layers):
        caches = model.rnn.step_caches(level)
        suffix = "" if level == 0 else f"@{level + 1}"
        keys = [k for k, v in caches[0].items() if k not in ("h_prev", "c_prev", "h_in", "z")
                and getattr(v, "shape", None) == (1, H)]
        if spec.name == "gru":
            keys.append("z")  # the GRU's update gate (the others' z is a pre-activation)
        for key in keys:
            out[key + suffix] = np.stack([np.asarray(c[key][0], dtype=np.float64) for c in caches])
        if "gates" in caches[0]:
            gates = np.stack([np.asarray(c["gates"][0], dtype=np.float64) for c in caches])  # (T, G·H)
            for g in spec.gate_names:
                out[g + suffix] = gates[:, spec.gate_rows(g, H)]
    return {"logits": logits[:, 0].astype(np.float64), "series": out}


def encode(vocab, text: str, field="text"):
    """The ids of ``text`` (DataError naming the characters the model never saw)."""
    from ..sample import encode_prime

    if not isinstance(text, str) or not text:
        raise ConfigError(say(f"'{field}': expected a non-empty string, got {text!r:.40}",
                              f"« {field} » : chaîne non vide attendue, reçu {text!r:.40}"))
    return encode_prime(vocab, text)


@one_at_a_time
def activations(ref: RunRef, text: str, series: str, unit: int, top: int = 5) -> dict:
    """One unit's value at each character of ``text`` and the ``top`` most probable next characters
    after each (the model's distribution, temperature 1)."""
    from ..sample import next_char_probabilities

    model, vocab, _ = load(ref)
    ids = encode(vocab, text)
    got = unit_series(model, ids)
    table = got["series"]
    if series not in table:
        raise ConfigError(say(f"'series': expected one of {', '.join(table)}, got {series!r}",
                              f"« series » : une valeur parmi {', '.join(table)} attendue, reçu {series!r}"))
    H = table[series].shape[1]
    if not isinstance(unit, int) or isinstance(unit, bool) or not 0 <= unit < H:
        raise ConfigError(say(f"'unit': expected an integer between 0 and {H - 1}, got {unit!r}",
                              f"« unit » : entier entre 0 et {H - 1} attendu, reçu {unit!r}"))
    probs = np.stack([next_char_probabilities(row) for row in got["logits"]])  # (T, V)
    best = np.argsort(-probs, axis=1)[:, :top]
    return {"chars": list(text), "values": table[series][:, unit].tolist(),
            "top": [[[vocab.decode([int(i)]), float(probs[t, i])] for i in best[t]] for t in range(len(ids))]}


# what each quantity is, in the course's words (the caches use PyTorch's names)
SERIES_NAMES = {"h": ("h: hidden state", "h : état caché"), "c": ("C: cell state", "C : état de la cellule"),
                "tanh_c": ("tanh(C)", "tanh(C)"), "i": ("i: input gate", "i : porte d'entrée"),
                "f": ("f: forget gate", "f : porte d'oubli"), "o": ("o: output gate", "o : porte de sortie"),
                "g": ("C̃: candidate (PyTorch's g)", "C̃ : candidat (g de PyTorch)"),
                "r": ("r: reset gate", "r : porte de réinitialisation"),
                "z": ("z: update gate (PyTorch's, 1 − the course's z)",
                      "z : porte de mise à jour (celle de PyTorch, 1 − le z du cours)"),
                "n": ("h̃: candidate (PyTorch's n)", "h̃ : candidat (n de PyTorch)"),
                "hw_n": ("W_hn h + b_hn", "W_hn h + b_hn")}


def series_label(name: str) -> str:
    """``c@2`` → ``C: cell state (level 2)``."""
    base, _, level = name.partition("@")
    text = say(*SERIES_NAMES[base]) if base in SERIES_NAMES else base
    return text + (say(f" (level {level})", f" (niveau {level})") if level else "")


@one_at_a_time
def describe(ref: RunRef) -> dict:
    """The model's shape and the names of the quantities a unit can be read from."""
    model, vocab, meta = load(ref)
    series = unit_series(model, vocab.encode("".join(vocab.chars[:2])))["series"]
    try:
        example = validation_text(meta, vocab, EXAMPLE_CHARS)
    except ConfigError:  # the corpus has moved: a text the model writes itself
        from ..sample import generate

        example = generate(model, vocab, EXAMPLE_CHARS, temperature=0.8, seed=0)
    return {"run": ref.name, "cell": model.cell_name, "hidden_size": model.hidden_size,
            "num_layers": model.num_layers, "vocab_size": vocab.size, "series": list(series),
            "series_labels": {name: series_label(name) for name in series},
            "chars": "".join(vocab.chars), "step": meta.get("step"), "example": example}


# simple text features, one value per character (Karpathy et al. 2015's interpretable cells)
def text_features(text: str) -> dict:
    """``{name: (T,) array}``: inside quotes, inside brackets, position in the line, just after a
    newline, a space, a letter, a digit, an upper-case letter, end of a word."""
    quote, depth, column = False, 0, 0
    inside_q, inside_b, col, after_nl = [], [], [], []
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        depth = depth + 1 if ch in "([{" else max(depth - 1, 0) if ch in ")]}" else depth
        inside_q.append(quote or ch == '"')
        inside_b.append(depth > 0 or ch in ")]}")
        col.append(column)
        after_nl.append(i > 0 and text[i - 1] == "\n")
        column = 0 if ch == "\n" else column + 1
    chars = list(text)
    nxt = chars[1:] + [" "]
    return {"inside_quotes": np.array(inside_q, float), "inside_brackets": np.array(inside_b, float),
            "line_position": np.array(col, float), "after_newline": np.array(after_nl, float),
            "space": np.array([c == " " for c in chars], float),
            "letter": np.array([c.isalpha() for c in chars], float),
            "digit": np.array([c.isdigit() for c in chars], float),
            "upper_case": np.array([c.isupper() for c in chars], float),
            "word_end": np.array([c.isalpha() and not n.isalpha() for c, n in zip(chars, nxt)], float)}


FEATURE_NAMES = {"inside_quotes": ("inside quotes", "entre guillemets"),
                 "inside_brackets": ("inside brackets", "entre parenthèses ou crochets"),
                 "line_position": ("position in the line", "position dans la ligne"),
                 "after_newline": ("just after a newline", "juste après un saut de ligne"),
                 "space": ("a space", "une espace"), "letter": ("a letter", "une lettre"),
                 "digit": ("a digit", "un chiffre"), "upper_case": ("an upper-case letter", "une majuscule"),
                 "word_end": ("the end of a word", "la fin d'un mot")}


def correlations(series: dict, features: dict) -> list:
    """Pearson r of every (quantity, unit) with every feature: ``[(|r|, r, name, unit, feature)]``."""
    names = list(series)
    A = np.concatenate([series[n] for n in names], axis=1)  # (T, S·H)
    F = np.stack(list(features.values()), axis=1)  # (T, nF)
    A = A - A.mean(0)
    F = F - F.mean(0)
    sa, sf = np.sqrt((A * A).sum(0)), np.sqrt((F * F).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (A.T @ F) / np.outer(sa, sf)  # (S·H, nF)
    r[~np.isfinite(r)] = 0.0
    H = series[names[0]].shape[1]
    out = []
    for k, feature in enumerate(features):
        if sf[k] == 0.0:  # constant over the text (no digit in it, say): nothing to track
            continue
        for col in range(A.shape[1]):
            out.append((abs(r[col, k]), float(r[col, k]), names[col // H], col % H, feature))
    return out


def validation_text(meta, vocab, chars=FEATURE_CHARS) -> str:
    """The start of the run's validation split (its corpus read again, split as training did)."""
    from ..data.corpora import load_corpus
    from ..data.text import split_train_val

    cfg = meta.get("config") or {}
    try:
        text = load_corpus(cfg["corpus"])
    except (KeyError, OSError, RnnlabError) as exc:
        raise ConfigError(say(f"features: cannot read the run's corpus {cfg.get('corpus')!r} again ({exc})",
                              f"caractéristiques : impossible de relire le corpus {cfg.get('corpus')!r} "
                              f"de l'entraînement ({exc})")) from None
    _, val = split_train_val(vocab.encode(text), float(cfg.get("val_fraction", 0.1)))
    return vocab.decode(val[:chars].tolist())


@one_at_a_time
def feature_units(ref: RunRef, count=TOP_UNITS) -> dict:
    """The units that best track each text feature over the validation text, ranked by |r|: the
    best unit of each feature first, then the next best overall, ``count`` in all."""
    model, vocab, meta = load(ref)
    cache = _cache(ref)
    if "features" not in cache:
        text = validation_text(meta, vocab)
        ranked = sorted(correlations(unit_series(model, vocab.encode(text))["series"], text_features(text)),
                        key=lambda row: -row[0])
        best_per_feature, rest, seen = [], [], set()
        for row in ranked:
            (rest if row[4] in seen else best_per_feature).append(row)
            seen.add(row[4])
        cache["features"] = (text, sorted(best_per_feature, key=lambda row: -row[0]) + rest)
    text, ranked = cache["features"]
    return {"text_chars": len(text), "units": [
        {"series": s, "unit": u, "feature": f, "feature_label": say(*FEATURE_NAMES[f]), "r": r}
        for _, r, s, u, f in ranked[:count]]}


@one_at_a_time
def sample(ref: RunRef, prime: str, length: int, temperature: float, top_k, top_p, seed) -> dict:
    """Text from the model (:func:`rnnlab.sample.generate`, no warm-up: the prime is read from zeros)."""
    from ..sample import generate

    model, vocab, _ = load(ref)
    encode(vocab, prime, "prime")
    text = generate(model, vocab, length, prime=prime, temperature=temperature, top_k=top_k, top_p=top_p,
                    seed=seed)
    return {"prime": prime, "text": text}


@one_at_a_time
def trained_profile(ref: RunRef, steps: int) -> dict:
    """The gradient-flow profile of a run's trained model over ``steps`` characters of its
    validation text (:func:`rnnlab.lab.flow.trained_profile`)."""
    from .flow import trained_profile as profile

    model, vocab, meta = load(ref)
    return profile(model, vocab.encode(validation_text(meta, vocab, steps))) | {"run": ref.name}
