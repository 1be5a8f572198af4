"""JSON read with bounds and checked against a declarative schema, before any of it is used.

A checkpoint, a run's state or a trace config is data someone may have edited (or crafted):
:func:`load_json` refuses nesting deeper than :data:`MAX_DEPTH` before parsing (Python's reader
would recurse until it crashes) and the non-standard ``NaN``/``Infinity``; :func:`validate`
checks the parsed value against a schema written as data, in a small subset of JSON Schema's
vocabulary (so a reader who knows JSON Schema reads it, and no dependency is needed)::

    {"type": "object", "properties": {"step": {"type": "integer", "minimum": 0}},
     "required": ["step"], "additionalProperties": {...} | True | False}
    {"type": "array", "items": {...}, "maxItems": 10}
    {"type": ["number", "null"], "minimum": 0}      # number: a finite int or float, never a bool
    {"type": "string", "enum": ["adam", "sgd"]}
    {}                                                # any JSON value (depth still bounded)

Every failure is one :class:`~rnnlab.errors.CheckpointError` (or the ``error`` class given) that
names the file, the key path (``meta.history.rows[3].step``), what was expected and what was
found.
"""

from __future__ import annotations

import json
import math
import re

from .errors import CheckpointError
from .i18n import guillemets, integer, say

MAX_DEPTH = 64  # far deeper than any file rnnlab writes (a checkpoint: 7)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
_FRENCH = {"object": "objet", "array": "liste", "string": "chaîne", "boolean": "booléen", "null": "null",
           "integer": "entier", "number": "nombre"}


def json_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in the JSON ``text`` (brackets inside strings ignored);
    linear in the text, without recursion."""
    import numpy as np

    bare = _STRINGS.sub('""', text).encode("utf-8")
    b = np.frombuffer(bare, np.uint8)
    steps = (np.isin(b, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(b, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


def no_constant(name):
    """``json.loads(..., parse_constant=no_constant)``: ``NaN`` and ``Infinity`` are no JSON."""
    raise ValueError(say(f"{name} is not JSON (expected a finite number)",
                         f"{name} n'est pas du JSON (nombre fini attendu)"))


def check_depth(text: str, where, error=CheckpointError, max_depth: int = MAX_DEPTH) -> None:
    """``error`` if the JSON ``text`` nests deeper than ``max_depth`` (checked before parsing)."""
    depth = json_depth(text)
    if depth > max_depth:
        raise error(say(f"{where}: expected JSON nested at most {max_depth} deep, got {depth}",
                        f"{where} : JSON imbriqué sur au plus {max_depth} niveaux attendu, "
                        f"reçu {integer(depth)}"))


def load_json(text: str, where, error=CheckpointError, max_depth: int = MAX_DEPTH):
    """The value of the JSON ``text`` read from ``where`` (a path, for the messages): ``error``
    for a syntax error, nesting deeper than ``max_depth``, or ``NaN``/``Infinity``."""
    check_depth(text, where, error, max_depth)
    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise error(say(f"{where}: corrupt JSON at line {e.lineno} column {e.colno} ({e.msg})",
                        f"{where} : JSON corrompu ligne {integer(e.lineno)} colonne {integer(e.colno)} "
                        f"({guillemets(e.msg)})")) from None
    except ValueError as e:  # NaN, Infinity
        raise error(say(f"{where}: {e}", f"{where} : {e}")) from None


def _kind(value) -> str:
    """The JSON name of a parsed value's type."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return next((name for name, t in _TYPES.items() if isinstance(value, t)), type(value).__name__)


def _fits(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, _TYPES[kind])


def _show(value) -> str:
    """A value as a message quotes it: JSON (a string between « » in French), a container by its kind."""
    if isinstance(value, str):
        text = say(json.dumps(value), f"« {value} »")
    elif _kind(value) in ("integer", "number", "boolean", "null"):
        text = json.dumps(value)
    else:
        text = say(_kind(value), _FRENCH.get(_kind(value), _kind(value)))
    return text if len(text) <= 40 else text[:37] + "…"


def validate(value, schema: dict, where, path: str = "", error=CheckpointError) -> None:
    """Raise ``error`` naming ``where`` and the key path unless ``value`` fits ``schema`` (the
    vocabulary in the module docstring). Iterative: a long list or a deep value cannot exhaust
    the stack."""
    stack = [(value, schema, path, 0)]
    while stack:
        value, schema, path, depth = stack.pop()

        def fail(en, fr):
            key_en, key_fr = (f"key {path!r}: ", f"clé {path!r} : ") if path else ("", "")
            raise error(say(f"{where}: {key_en}{en}", f"{where} : {key_fr}{fr}"))

        if depth > MAX_DEPTH:
            fail(f"expected at most {MAX_DEPTH} levels of nesting", f"au plus {MAX_DEPTH} niveaux attendus")
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if kinds is not None and not any(_fits(value, k) for k in kinds):
            want_en, want_fr = " or ".join(kinds), " ou ".join(_FRENCH[k] for k in kinds)
            fail(f"expected {want_en}, got {_show(value)}", f"{want_fr} attendu, reçu {_show(value)}")
        if "enum" in schema and value not in schema["enum"]:
            want = ", ".join(map(json.dumps, schema["enum"]))
            fail(f"expected one of {want}, got {_show(value)}", f"une valeur parmi {want} attendue, "
                                                                 f"reçu {_show(value)}")
        if _fits(value, "number"):
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and value < low) or (high is not None and value > high):
                want = " ".join(p for p in (f"≥ {low}" if low is not None else "",
                                            f"≤ {high}" if high is not None else "") if p)
                fail(f"expected a number {want}, got {_show(value)}",
                     f"nombre {want} attendu, reçu {_show(value)}")
        if isinstance(value, list):
            if len(value) > schema.get("maxItems", math.inf):
                fail(f"expected at most {schema['maxItems']} items, got {len(value)}",
                     f"au plus {schema['maxItems']} éléments attendus, reçu {len(value)}")
            items = schema.get("items", {})  # reversed: the first item is checked (and named) first
            stack.extend((v, items, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value))))
        if isinstance(value, dict):
            missing = [k for k in schema.get("required", ()) if k not in value]
            if missing:
                full, keys = f"{path}.{missing[0]}" if path else missing[0], schema["required"]
                raise error(say(f"{where}: key {full!r} is missing (expected keys {', '.join(keys)})",
                                f"{where} : la clé {full!r} manque (clés attendues : "
                                f"{', '.join(f'« {k} »' for k in keys)})"))
            properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
            for k, v in reversed(value.items()):
                sub = properties.get(k, extra)
                if sub is False:
                    fail(f"unexpected key {k!r} (expected keys among {sorted(properties)})",
                         f"clé inattendue {k!r} (clés possibles : {sorted(properties)})")
                stack.append((v, {} if sub is True else sub, f"{path}.{k}" if path else k, depth + 1))


# --- the schemas of rnnlab's files ----------------------------------------------------------------

SCALAR = {"type": ["string", "number", "boolean", "null"]}
COUNT = {"type": "integer", "minimum": 0}
NAME = {"type": "string"}
NUMBERS = {"type": "array", "items": {"type": "number"}}


def _object(properties: dict, required=None, extra=True) -> dict:
    """An object schema whose listed keys are all required unless ``required`` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else list(required),
            "additionalProperties": extra}


#: ``<name>.json`` of a checkpoint (:mod:`rnnlab.checkpoint`): the weights record, then any meta
CHECKPOINT = _object({
    "format": NAME,
    "version": {"type": "integer", "minimum": 1},
    "weights": _object({
        "file": NAME,
        "sha256": NAME,
        "bytes": COUNT,
        "tensors": {"type": "object", "additionalProperties": _object({
            "dtype": NAME,
            "shape": {"type": "array", "items": COUNT, "maxItems": 32}})}},
        required=("sha256", "bytes", "tensors")),
    "meta": {"type": "object"}})

#: the meta of a training run's checkpoint (:func:`rnnlab.training.run.save_run`), format version 2
RUN = _object({
    "format": NAME, "version": {"type": "integer"}, "kind": NAME,
    "step": COUNT,
    "elapsed_seconds": {"type": "number", "minimum": 0},
    "best": {"type": ["number", "null"]},
    "config": {"type": "object",
               "additionalProperties": {"type": SCALAR["type"] + ["array"], "items": SCALAR}},
    "model": {"type": "object", "additionalProperties": SCALAR},
    "optimizer": _object({"name": NAME, "steps": COUNT,
                          "hyper": {"type": "object", "additionalProperties": {
                              "type": ["number", "boolean", "string", "null", "array"], "items": SCALAR}},
                          "state": {"type": "object", "additionalProperties": {"type": "object"}}}),
    "rng": {"type": "object", "additionalProperties": _object({"bit_generator": NAME}, extra=True)},
    "history": _object({
        "rows": {"type": "array", "items": _object(
            {"step": {"type": "integer", "minimum": 1}},
            extra={"type": ["number", "null"]})},
        "score_keys": {"type": "array", "items": NAME, "maxItems": 64}}),
    "settings": {"type": "object"},
    "job": {"type": "object"}},
    required=("format", "version", "kind", "step", "elapsed_seconds", "config", "model", "optimizer", "rng",
              "history", "settings", "job"))
