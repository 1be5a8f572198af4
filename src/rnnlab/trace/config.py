"""A user's own exercise for ``rnnlab trace CONFIG``: a JSON, TOML or YAML file (YAML needs
PyYAML) describing the cell, its weights, the inputs, the initial state and, optionally,
upstream gradients. Every mistake is one :class:`~rnnlab.errors.ConfigError` line naming the
file and the key, with what was expected and what was got.

Keys (``*`` = required)::

    cell*          a registered cell: "rnn" | "lstm" | "gru" | … (rnnlab.cells.names())
    notation       "course" (default) | "pytorch" (the only one of a cell without trace hooks, whose
                   trace records its step's quantities without substituted arithmetic)
    input_size     optional, checked against the weights
    hidden_size    optional, checked against the weights
    options        RNN {"nonlinearity": "tanh" | "relu"}; GRU {"reset": "before" | "after"}
                   (the course's GRU is "before", the default for notation "course")
    weights*       course:  RNN W_xh (H, D), W_hh (H, H), b_h (H)
                            LSTM W_f, W_i, W_C, W_o (H, H + D) over [h_{t-1}, x_t]; b_f, b_i, b_C, b_o (H)
                            GRU W_z, W_r, W (H, H + D); b_z, b_r, b (H)
                            (the course's z: h = (1 − z) h_prev + z h̃)
                   pytorch: weight_ih (G·H, D), weight_hh (G·H, H), bias_ih, bias_hh (G·H) (biases optional),
                            gates stacked as PyTorch does (LSTM i, f, g, o; GRU r, z, n)
    inputs*        the sequence x_1 … x_T: a list of T lists of D numbers (or of T numbers when D = 1)
    initial_state  {"h": [H numbers], "C": [H numbers] (LSTM)}; zeros by default
    output         RNN only: {"W_hy": (K, H), "b_y": (K), "softmax": false}
    upstream       {"h": {"1": [H numbers], …}, "y": {"3": [K numbers]}, "C_final": [H numbers],
                    "loss": {"type": "mse", "targets": {"3": [K numbers]}}
                         or {"type": "cross_entropy", "targets": {"3": class index}}}:
                   ∂L/∂h_t (∂L/∂y_t, or a loss on y_t: RNN with "output") at chosen steps t = 1 … T;
                   asks for the backward trace
    title          optional: the page's title

Start from ``rnnlab trace --example lstm > mine.json``, edit, then
``rnnlab trace mine.json [--format html --out mine.html]``. In TOML the same keys are tables
(``[weights]``, ``[upstream.h]`` with keys ``"1" = [0.1]``).
"""

from __future__ import annotations

import json
import os

import numpy as np

from .. import cells
from ..errors import ConfigError
from ..i18n import guillemets, integer, say
from ..schema import check_depth, no_constant, validate
from .cells import hooks

PYTORCH_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
TOP_KEYS = {"cell", "notation", "input_size", "hidden_size", "options", "weights", "inputs", "initial_state",
            "output", "upstream", "title"}

def example(cell: str) -> dict:
    """A complete config for ``cell`` (``rnnlab trace --example CELL``), from its trace hooks."""
    found = hooks(cell).EXAMPLE if cell in cells.REGISTRY else None
    if found is None:
        raise ConfigError(say(f"--example: expected a cell among {', '.join(example_cells())}, got {cell!r}",
                              f"--example : une cellule parmi {', '.join(example_cells())} attendue, "
                              f"reçu « {cell} »"))
    return found


def example_cells() -> tuple:
    """The cells whose trace hooks carry an example config."""
    return tuple(name for name in cells.names() if hooks(name).EXAMPLE is not None)


def dump_config(value, indent: int = 0) -> str:
    """A config as JSON for a person to edit: objects one key per line, a list of numbers on one line
    (a vector, a row of a matrix), a matrix one row per line. ``json.loads`` reads it back unchanged."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {dump_config(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (list, tuple, dict)) for v in value):
        return "[\n" + ",\n".join(inner + dump_config(v, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def read_config(path: str) -> dict:
    """The file as a dict, by its extension (.json, .toml, .yaml/.yml)."""
    if not os.path.exists(path):
        raise ConfigError(say(f"{path}: file not found", f"{path} : fichier introuvable"))
    if os.path.isdir(path):
        raise ConfigError(say(f"{path}: expected a config file (.json, .toml, .yaml), got a folder",
                              f"{path} : fichier de configuration attendu (.json, .toml, .yaml), reçu un "
                              "dossier"))
    if os.path.getsize(path) > MAX_CONFIG_BYTES:  # refused before it is parsed (seconds, gigabytes)
        most, size = integer(MAX_TRACE_NUMBERS), f"{os.path.getsize(path) / 2**20:.3g}"
        mib = MAX_CONFIG_BYTES // 2**20
        raise ConfigError(say(f"{path}: a config of {size} MiB; a trace is for reading: expected at most "
                              f"{mib} MiB (at most {most} numbers shown). {AT_ANY_SIZE[0]}",
                              f"{path} : une configuration de {size.replace('.', ',')} Mio ; une trace "
                              f"est faite pour être lue : au plus {mib} Mio attendus (au plus {most} "
                              f"nombres montrés). {AT_ANY_SIZE[1]}"))
    ext = os.path.splitext(path)[1].lower()
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        if ext == ".toml":
            import tomllib

            data = tomllib.loads(raw.decode("utf-8"))
        elif ext in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ConfigError(say(f"{path}: reading YAML needs PyYAML (pip install pyyaml); "
                                      "or write the config as JSON or TOML",
                                      f"{path} : lire du YAML demande PyYAML (pip install pyyaml) ; "
                                      "ou écrire la configuration en JSON ou en TOML")) from None
            data = yaml.safe_load(raw.decode("utf-8"))
        else:
            text = raw.decode("utf-8")
            check_depth(text, path, error=ConfigError)
            data = json.loads(text, parse_constant=no_constant)
    except ConfigError:
        raise
    except Exception as exc:  # a syntax error of the user's file
        kind = ext.lstrip(".").upper() or "JSON"
        raise ConfigError(say(f"{path}: cannot parse as {ext.lstrip('.') or 'JSON'}: {exc}",
                              f"{path} : illisible en {kind} ({guillemets(exc)})")) from None
    if not isinstance(data, dict):
        raise ConfigError(say(f"{path}: expected a table/object at the top level, got {type(data).__name__}",
                              f"{path} : une table (un objet) attendue au premier niveau, "
                              f"reçu {type(data).__name__}"))
    return data


def _numbers_only(src, key, value) -> None:
    """Numbers in nested lists, nothing else: ``true`` is no weight, ``"0.5"`` no number (NumPy would
    read both as numbers without a word)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(say(f"{src}: key '{key}': expected numbers, got {json.dumps(v)[:40]}",
                                  f"{src} : clé « {key} » : nombres attendus, reçu « {json.dumps(v)[:40]} »"))


def _array(src, key, value, ndim=None):
    _numbers_only(src, key, value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(say(f"{src}: key '{key}': expected numbers, got {value!r}",
                              f"{src} : clé « {key} » : nombres attendus, reçu {value!r}")) from None
    if arr.dtype == object:
        raise ConfigError(say(f"{src}: key '{key}': expected a rectangular array of numbers, got {value!r}",
                              f"{src} : clé « {key} » : tableau rectangulaire de nombres attendu, "
                              f"reçu {value!r}"))
    if not np.all(np.isfinite(arr)):
        raise ConfigError(say(f"{src}: key '{key}': expected finite numbers, got {value!r}",
                              f"{src} : clé « {key} » : nombres finis attendus, reçu {value!r}"))
    if ndim is not None and arr.ndim > ndim:
        raise ConfigError(say(f"{src}: key '{key}': expected at most {ndim} dimension(s), got shape "
                              f"{arr.shape}",
                              f"{src} : clé « {key} » : au plus {ndim} dimension{'s' * (ndim > 1)} "
                              f"attendue{'s' * (ndim > 1)}, reçu la forme {arr.shape}"))
    return arr


def _shaped(src, key, value, shape):
    """The array, of exactly ``shape`` (a flat list or a scalar is accepted for a single row)."""
    arr = _array(src, key, value)
    if arr.shape == shape:
        return arr
    if (arr.ndim < len(shape) and arr.size == int(np.prod(shape))
            and (len(shape) == 1 or shape[0] == 1 or arr.ndim == 0)):
        return arr.reshape(shape)
    raise ConfigError(say(f"{src}: key '{key}': expected shape {shape}, got {arr.shape}",
                          f"{src} : clé « {key} » : forme {shape} attendue, reçu {arr.shape}"))


def _sizes(src, cfg, cell, notation, weights):
    """(H, D) from the weights, checked against input_size/hidden_size if given."""
    G = cells.get(cell).gates
    if notation == "course":
        H, D = hooks(cell).course_sizes(src, weights, _array)
    else:
        W_hh = np.atleast_2d(_array(src, "weights.weight_hh", weights["weight_hh"]))
        H = W_hh.shape[1]
        if W_hh.shape[0] != G * H:
            raise ConfigError(say(f"{src}: key 'weights.weight_hh': expected shape ({G * H}, {H}) "
                                  f"for a {cell} cell, got {W_hh.shape}",
                                  f"{src} : clé « weights.weight_hh » : forme ({G * H}, {H}) attendue "
                                  f"pour une cellule {cell}, reçu {W_hh.shape}"))
        D = _array(src, "weights.weight_ih", weights["weight_ih"]).size // (G * H)
    for key, got in (("hidden_size", H), ("input_size", D)):
        if key in cfg and cfg[key] != got:
            raise ConfigError(say(f"{src}: key '{key}': {cfg[key]!r} does not match the weights, "
                                  f"which give {got}",
                                  f"{src} : clé « {key} » : {cfg[key]!r} ne correspond pas aux poids, "
                                  f"qui donnent {got}"))
    if H < 1 or D < 1:
        raise ConfigError(say(f"{src}: key 'weights': cannot read hidden_size ≥ 1 and input_size ≥ 1 from "
                              f"them "
                              f"(got H={H}, D={D})",
                              f"{src} : clé « weights » : impossible d'en lire hidden_size ≥ 1 et "
                              f"input_size ≥ 1 (reçu H={H}, D={D})"))
    return H, D


#: the types of the config's keys (:mod:`rnnlab.schema`), checked before any is read
_VALUES = {"type": ["array", "number"]}
_STEPS = {"type": "object", "additionalProperties": _VALUES}
SCHEMA = {"type": "object", "properties": {
    "cell": {"type": "string"}, "notation": {"type": "string"},
    "input_size": {"type": "integer", "minimum": 1}, "hidden_size": {"type": "integer", "minimum": 1},
    "options": {"type": ["object", "null"],
                "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "weights": {"type": "object", "additionalProperties": _VALUES},
    "inputs": _VALUES,
    "initial_state": {"type": ["object", "null"], "additionalProperties": _VALUES},
    "output": {"type": "object", "additionalProperties": False,
               "properties": {"W_hy": _VALUES, "b_y": _VALUES, "softmax": {"type": "boolean"}}},
    "upstream": {"type": ["object", "null"], "properties": {
        "h": _STEPS, "y": _STEPS, "C_final": _VALUES,
        "loss": {"type": "object", "properties": {"type": {"type": "string"},
                                                  "targets": {"type": "object",
                                                              "additionalProperties": _VALUES}}}}},
    "title": {"type": ["string", "number"]}}}

#: a trace is for reading: at most this many time steps, and this many numbers substituted
MAX_TRACE_STEPS = 200
MAX_TRACE_NUMBERS = 200_000
MAX_CONFIG_BYTES = 8 * 2**20  # a config that large holds more weights than a trace may show
AT_ANY_SIZE = ("For the values at any size, run the layer from Python (rnnlab.RNN, rnnlab.LSTM, rnnlab.GRU: "
               "forward, backward, grads)",
               "Pour les valeurs à toute taille, exécuter la couche depuis Python (rnnlab.RNN, rnnlab.LSTM, "
               "rnnlab.GRU : « forward », « backward », « grads »)")


def check_trace_size(src, cell: str, T: int, H: int, D: int) -> None:
    """Refuse a trace too long to read (and slow to write): T steps of a cell with G gates show
    about T · G·H · (H + D + 1) substituted numbers (every weight times its input, at every step)."""
    numbers = T * cells.get(cell).gates * H * (H + D + 1)
    if T <= MAX_TRACE_STEPS and numbers <= MAX_TRACE_NUMBERS:
        return
    shown, most, T, H, D = (integer(n) for n in (numbers, MAX_TRACE_NUMBERS, T, H, D))
    raise ConfigError(say(
        f"{src}: a trace of T = {T} steps with H = {H}, D = {D} would show about {shown} numbers; a trace is "
        f"for reading: expected at most {MAX_TRACE_STEPS} steps and {most} numbers. {AT_ANY_SIZE[0]}",
        f"{src} : une trace de T = {T} pas avec H = {H}, D = {D} montrerait environ {shown} nombres ; une "
        f"trace est faite pour être lue : au plus {MAX_TRACE_STEPS} pas et {most} nombres attendus. "
        f"{AT_ANY_SIZE[1]}"))





def trace_from_config(cfg: dict, src: str = "config"):
    """Validate ``cfg`` and run the trace (and the backward trace if ``upstream`` is given)."""
    from .backward import trace_backward
    from .record import trace_forward

    unknown = sorted(set(cfg) - TOP_KEYS)
    if unknown:
        raise ConfigError(say(f"{src}: unknown key '{unknown[0]}'; expected keys among {sorted(TOP_KEYS)}",
                              f"{src} : clé inconnue « {unknown[0]} » ; clés attendues parmi "
                              f"{sorted(TOP_KEYS)}"))
    for key in ("cell", "weights", "inputs"):
        if key not in cfg:
            raise ConfigError(say(f"{src}: missing key '{key}'", f"{src} : clé « {key} » manquante"))
    validate(cfg, SCHEMA, src, error=ConfigError)
    cell = cfg["cell"]
    if cell not in cells.names():
        *first, last = map(repr, cells.names())
        raise ConfigError(say(f"{src}: key 'cell': expected {', '.join(first)} or {last}, got {cell!r}",
                              f"{src} : clé « cell » : {', '.join(first)} ou {last} attendu, "
                              f"reçu « {cell} »"))
    hook = hooks(cell)
    notation = cfg.get("notation", "course" if hook.COURSE_WEIGHTS else "pytorch")
    if notation not in ("course", "pytorch"):
        raise ConfigError(say(f"{src}: key 'notation': expected 'course' or 'pytorch', got {notation!r}",
                              f"{src} : clé « notation » : « course » ou « pytorch » attendu, "
                              f"reçu « {notation} »"))
    if notation == "course" and not hook.COURSE_WEIGHTS:
        raise ConfigError(say(f"{src}: key 'notation': the {cell} cell has no course notation here; "
                              f"expected 'pytorch'",
                              f"{src} : clé « notation » : la cellule {cell} n'a pas ici de notation du "
                              f"cours ; « pytorch » attendu"))
    options = dict(cfg.get("options") or {})
    allowed = set(cells.get(cell).default_options())
    for key in options:
        if key not in allowed:
            raise ConfigError(say(f"{src}: key 'options.{key}': not an option of the {cell} cell "
                                  f"(options: {sorted(allowed) or 'none'})",
                                  f"{src} : clé « options.{key} » : pas une option de la cellule {cell} "
                                  f"(options : {sorted(allowed) or 'aucune'})"))
    options = hook.config_options(src, options, notation)
    weights = cfg["weights"]
    if not isinstance(weights, dict):
        raise ConfigError(say(f"{src}: key 'weights': expected a table of named arrays, "
                              f"got {type(weights).__name__}",
                              f"{src} : clé « weights » : table de tableaux nommés attendue, "
                              f"reçu {type(weights).__name__}"))
    names = hook.COURSE_WEIGHTS if notation == "course" else PYTORCH_WEIGHTS
    required = names if notation == "course" else ("weight_ih", "weight_hh")
    for key in weights:
        if key not in names:
            raise ConfigError(say(f"{src}: unknown key 'weights.{key}' for a {cell} cell in {notation} "
                                  f"notation; expected {list(names)}",
                                  f"{src} : clé inconnue « weights.{key} » pour une cellule {cell} en "
                                  f"notation « {notation} » ; attendu {list(names)}"))
    for key in required:
        if key not in weights:
            raise ConfigError(say(f"{src}: missing key 'weights.{key}' "
                                  f"({cell}, {notation} notation needs {list(required)})",
                                  f"{src} : clé « weights.{key} » manquante "
                                  f"({cell} en notation « {notation} » demande {list(required)})"))
    H, D = _sizes(src, cfg, cell, notation, weights)
    G = cells.get(cell).gates
    if notation == "course":
        shapes = hook.course_shapes(H, D)
        arrays = {k: _shaped(src, f"weights.{k}", weights[k], shapes[k]) for k in names}
        params = hook.params_from_course(**arrays)
    else:
        shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
        params = {f"{k}_l0": _shaped(src, f"weights.{k}", weights[k], shapes[k])
                  for k in names if k in weights}
    x = _array(src, "inputs", cfg["inputs"], ndim=2)
    if x.size == 0:
        raise ConfigError(say(f"{src}: key 'inputs': expected a non-empty sequence, got an empty one",
                              f"{src} : clé « inputs » : séquence non vide attendue, reçu une séquence vide"))
    if x.ndim == 1:
        x = x[:, None] if D == 1 else x[None, :]
    if x.ndim == 0 or x.shape[1] != D:
        raise ConfigError(say(f"{src}: key 'inputs': expected T steps of {D} value(s) each (T, {D}), "
                              f"got shape {x.shape}",
                              f"{src} : clé « inputs » : T pas de {D} valeur{'s' * (D > 1)} chacun attendus "
                              f"(T, {D}), reçu la forme {x.shape}"))
    check_trace_size(src, cell, x.shape[0], H, D)
    init = cfg.get("initial_state") or {}
    state_names = hook.STATE_KEYS
    for key in init:
        if key not in state_names:
            raise ConfigError(say(f"{src}: unknown key 'initial_state.{key}'; expected {list(state_names)}",
                                  f"{src} : clé inconnue « initial_state.{key} » ; attendu "
                                  f"{list(state_names)}"))
    state0 = tuple(_shaped(src, f"initial_state.{k}", init[k], (H,)) if k in init else np.zeros(H)
                   for k in state_names)
    output = None
    if "output" in cfg:
        if not hook.OUTPUT_LAYER:
            raise ConfigError(say(f"{src}: key 'output': only the rnn cell has an output layer here "
                                  "(y_t = W_hy h_t + b_y)",
                                  f"{src} : clé « output » : seule la cellule rnn a ici une couche de sortie "
                                  "(y_t = W_hy h_t + b_y)"))
        out = cfg["output"]
        if not isinstance(out, dict) or "W_hy" not in out:
            raise ConfigError(say(f"{src}: missing key 'output.W_hy'",
                                  f"{src} : clé « output.W_hy » manquante"))
        W_hy = np.atleast_2d(_array(src, "output.W_hy", out["W_hy"]))
        if W_hy.shape[1] != H:
            raise ConfigError(say(f"{src}: key 'output.W_hy': expected shape (K, {H}), got {W_hy.shape}",
                                  f"{src} : clé « output.W_hy » : forme (K, {H}) attendue, reçu "
                                  f"{W_hy.shape}"))
        K = W_hy.shape[0]
        output = {"W_hy": W_hy, "b_y": _shaped(src, "output.b_y", out.get("b_y", [0.0] * K), (K,)),
                  "softmax": bool(out.get("softmax", False))}
    trace = trace_forward(cell, params, x, state0, options=options, output_layer=output)
    if "upstream" in cfg:
        up = cfg["upstream"] or {}
        T = x.shape[0]
        d_h, d_y = {}, {}
        for key in up:
            if key not in ("h", "y", "C_final", "loss"):
                raise ConfigError(say(f"{src}: unknown key 'upstream.{key}'; "
                                      "expected 'h', 'y', 'C_final' or 'loss'",
                                      f"{src} : clé inconnue « upstream.{key} » ; "
                                      "« h », « y », « C_final » ou « loss » attendu"))
        for which, target, size in (("h", d_h, H), ("y", d_y, None)):
            for t, value in (up.get(which) or {}).items():
                try:
                    step = int(t)
                except ValueError:
                    raise ConfigError(say(f"{src}: key 'upstream.{which}.{t}': "
                                          f"expected a step number 1 … {T}",
                                          f"{src} : clé « upstream.{which}.{t} » : "
                                          f"numéro de pas 1 … {T} attendu")) from None
                if not 1 <= step <= T:
                    raise ConfigError(say(f"{src}: key 'upstream.{which}.{t}': "
                                          f"expected a step between 1 and {T}, got {step}",
                                          f"{src} : clé « upstream.{which}.{t} » : "
                                          f"pas entre 1 et {T} attendu, reçu {step}"))
                if which == "y" and output is None:
                    raise ConfigError(say(f"{src}: key 'upstream.y': the config has no 'output' layer",
                                          f"{src} : clé « upstream.y » : la configuration n'a pas de couche "
                                          f"de sortie « output »"))
                n = size if size is not None else output["W_hy"].shape[0]
                target[step] = _shaped(src, f"upstream.{which}.{t}", value, (n,))
        d_C = None
        if "C_final" in up:
            if "C" not in hook.STATE_KEYS:
                raise ConfigError(say(f"{src}: key 'upstream.C_final': only the lstm cell has a cell state",
                                      f"{src} : clé « upstream.C_final » : seule la cellule lstm a un état "
                                      f"de cellule"))
            d_C = _shaped(src, "upstream.C_final", up["C_final"], (H,))
        loss = None
        if "loss" in up:
            loss = up["loss"]
            if output is None:
                raise ConfigError(say(f"{src}: key 'upstream.loss': "
                                      "the config has no 'output' layer to put a loss on",
                                      f"{src} : clé « upstream.loss » : la configuration n'a pas de couche "
                                      "de sortie « output » sur laquelle calculer une perte"))
            if not isinstance(loss, dict) or loss.get("type") not in ("mse", "cross_entropy"):
                got = loss.get("type") if isinstance(loss, dict) else loss
                raise ConfigError(say(f"{src}: key 'upstream.loss.type': expected 'mse' or "
                                      f"'cross_entropy', got {got!r}",
                                      f"{src} : clé « upstream.loss.type » : « mse » ou « cross_entropy » "
                                      f"attendu, reçu {got!r}"))
            if not isinstance(loss.get("targets"), dict) or not loss["targets"]:
                raise ConfigError(say(f"{src}: key 'upstream.loss.targets': expected a table step -> target, "
                                      f"got {loss.get('targets')!r}",
                                      f"{src} : clé « upstream.loss.targets » : table pas -> cible attendue, "
                                      f"reçu {loss.get('targets')!r}"))
            for t in loss["targets"]:
                if not str(t).isdigit() or not 1 <= int(t) <= T:
                    raise ConfigError(say(f"{src}: key 'upstream.loss.targets.{t}': "
                                          f"expected a step between 1 and {T}",
                                          f"{src} : clé « upstream.loss.targets.{t} » : "
                                          f"pas entre 1 et {T} attendu"))
        try:
            trace_backward(trace, d_h=d_h, d_y=d_y, d_C_final=d_C, loss=loss)
        except ConfigError as exc:
            raise ConfigError(say(f"{src}: key 'upstream': {exc}",
                                  f"{src} : clé « upstream » : {exc}")) from None
    return trace
