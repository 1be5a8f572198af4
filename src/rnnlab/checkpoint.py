"""Checkpoints: weights in safetensors, everything else in JSON, written atomically, checked
when read. Never pickle: loading a checkpoint can never run code.

A checkpoint ``<name>`` in a directory is two files::

    <name>.safetensors   the tensors (model weights, optimiser buffers under a prefix)
    <name>.json          {"format": "rnnlab-checkpoint", "version": 1,
                          "weights": {"file", "sha256", "bytes", "tensors": {key: {dtype, shape}}},
                          "meta": {config, vocabulary, optimiser scalars, step, RNG states, …}}

The JSON is the commit point: it records the sha256 and the size of the weights file it goes
with, and :func:`load_checkpoint` refuses a weights file that does not match.

Writing (:func:`save_checkpoint`):

1. both files are written to temporary files in the same directory and fsync'ed;
2. the current weights file is hard-linked to ``<name>.safetensors.prev``;
3. ``os.replace`` puts the new weights, then the new JSON, in place (each rename is atomic);
4. ``.prev`` is removed.

If anything fails (disk full, a rename refused, Ctrl-C), the temporary files are removed and
the previous weights are put back: the previous checkpoint is intact. If the process is
killed between the two renames of step 3, the JSON still describes the previous weights,
which ``.prev`` holds: :func:`load_checkpoint` finds them there by their sha256.

Every problem reading a checkpoint raises :class:`~rnnlab.errors.CheckpointError` naming the
file and the key: missing file, corrupt JSON, another format or version, size or hash
mismatch (truncated or modified weights), a file safetensors cannot read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import CheckpointError
from .i18n import say
from .schema import CHECKPOINT, load_json, validate

FORMAT = "rnnlab-checkpoint"
VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
JSON_SUFFIX = ".json"
PREV_SUFFIX = ".prev"


def checkpoint_paths(directory, name: str) -> tuple[Path, Path]:
    """(``<directory>/<name>.safetensors``, ``<directory>/<name>.json``)."""
    if not isinstance(name, str) or not name or name in (".", "..") or any(s in name for s in "/\\\0"):
        raise CheckpointError(say(f"checkpoint name: expected a plain file name, got {name!r}",
                                  f"nom de point de sauvegarde : nom de fichier simple attendu, "
                                  f"reçu {name!r}"))
    directory = Path(directory)
    return directory / (name + WEIGHTS_SUFFIX), directory / (name + JSON_SUFFIX)


# --- JSON-able metadata ------------------------------------------------------------------------


def to_jsonable(obj, where: str = "meta"):
    """``obj`` as plain JSON data: NumPy scalars become Python numbers, tuples lists,
    dataclasses dicts, paths strings; anything else (an array, an object) raises naming
    ``where`` (arrays belong in the tensors)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise CheckpointError(f"{where}: key {k!r}: expected a string key (JSON), "
                                      f"got {type(k).__name__}")
            out[k] = to_jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        raise CheckpointError(f"{where}: expected JSON data, got an array {obj.shape}; "
                              f"put arrays in the tensors")
    raise CheckpointError(f"{where}: expected JSON data (dict, list, str, number, bool, None), "
                          f"got {type(obj).__name__}")


# --- optimiser state into tensors + skeleton ----------------------------------------------------


def flatten_state(prefix: str, nested) -> tuple[dict[str, np.ndarray], object]:
    """Split nested dicts/lists holding arrays into (tensors, skeleton).

    Each array goes to ``tensors["<prefix>/<path>"]`` (path = the keys joined by ``/``) and is
    replaced in the skeleton by ``{"__tensor__": "<prefix>/<path>"}``; everything else stays
    in the skeleton, which is JSON data. :func:`unflatten_state` is the inverse::

        tensors, skeleton = flatten_state("optim", optimizer.state_dict())
        save_checkpoint(d, "last", {**model.state_dict(), **tensors}, {"optimizer": skeleton})
    """
    tensors: dict[str, np.ndarray] = {}

    def walk(obj, path):
        if isinstance(obj, np.ndarray):
            tensors[path] = obj
            return {"__tensor__": path}
        if isinstance(obj, dict):
            return {k: walk(v, f"{path}/{k}") for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(obj)]
        return to_jsonable(obj, path)

    skeleton = walk(nested, prefix)
    return tensors, skeleton


def unflatten_state(skeleton, tensors: dict[str, np.ndarray]):
    """Put the arrays back into a skeleton made by :func:`flatten_state`."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__tensor__"}:
            key = skeleton["__tensor__"]
            if key not in tensors:
                raise CheckpointError(say(f"checkpoint: tensor {key!r} is missing from the weights file",
                                          f"point de sauvegarde : le tenseur {key!r} manque au fichier "
                                          f"de poids"))
            return tensors[key]
        return {k: unflatten_state(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


# --- random generators --------------------------------------------------------------------------

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def rng_state(rng: np.random.Generator) -> dict:
    """The state of a ``numpy.random.Generator`` as JSON data (arrays as lists)."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, np.ndarray):
            return {"__array__": v.tolist(), "dtype": str(v.dtype)}
        return to_jsonable(v, "rng state")
    return plain(rng.bit_generator.state)


def rng_from_state(state: dict) -> np.random.Generator:
    """A new Generator continuing exactly where the one saved by :func:`rng_state` stopped."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise CheckpointError(say(f"rng state: key 'bit_generator': expected one of {BIT_GENERATORS}, "
                                  f"got {name!r}",
                                  f"état du générateur : clé 'bit_generator' : une valeur parmi "
                                  f"{BIT_GENERATORS} attendue, reçu {name!r}"))

    def arrays(v):
        if isinstance(v, dict):
            if set(v) == {"__array__", "dtype"}:
                return np.array(v["__array__"], dtype=v["dtype"])
            return {k: arrays(x) for k, x in v.items()}
        return v
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = arrays(state)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(say(f"rng state: cannot restore a {name} generator ({e})",
                                  f"état du générateur : impossible de restaurer un générateur {name} "
                                  f"({e})")) from None
    return np.random.Generator(bit_generator)


# --- writing --------------------------------------------------------------------------------------


def _new_temp(folder: Path, name: str) -> Path:
    """A new empty file ``.<name>.<random>.tmp`` in ``folder``, created exclusively (never an
    existing file) with the mode any new file gets (0666 less the umask)."""
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:  # another writer's temporary file: draw another name
            continue


def _fsync(path: Path, flags=os.O_RDWR) -> None:
    """Flush a file (or, read-only, a folder) to disk."""
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(tmp: Path) -> None:
    """Remove a temporary file, quietly: the failure being reported matters more."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def atomic_path(path):
    """A temporary path to write ``path`` through, atomically::

        with atomic_path("loss.png") as tmp:
            fig.savefig(tmp, format="png")

    ``tmp`` is a new empty file in the same folder. When the block ends normally it is flushed
    to disk and renamed onto ``path`` (``os.replace``: readers see the old file or the new one,
    never a half-written one). On any failure (an exception in the block, a full disk, a
    refused rename, Ctrl-C) it is removed and ``path`` keeps its old content. The folder must
    exist; errors are the ``OSError`` that happened."""
    path = Path(path)
    tmp = _new_temp(path.parent, path.name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def _write_temp(directory: Path, final_name: str, data: bytes) -> Path:
    """``data`` in a new temporary file next to ``final_name``, flushed to disk (removed again
    if writing fails)."""
    tmp = _new_temp(directory, final_name)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` atomically through
    :func:`atomic_path`, creating the folder if needed. On failure the temporary file is
    removed, the old file kept, and an ``OSError`` becomes a
    :class:`~rnnlab.errors.CheckpointError` naming the file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(payload)
    except OSError as e:
        raise CheckpointError(say(f"{path}: could not write ({e.strerror or e}); the previous file is kept",
                                  f"{path} : écriture impossible ({e.strerror or e}) ; "
                                  f"le fichier précédent est conservé")) from e
    return path


def append_text(path, text: str) -> Path:
    """Append ``text`` to a UTF-8 file through :func:`atomic_write`: the file holds its old text
    or the old text and the new, never a part of it."""
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return atomic_write(path, old + text)


def _fsync_dir(directory: Path) -> None:
    if os.name == "posix":
        _fsync(directory, os.O_RDONLY)


def _tensor_bytes(tensors: dict) -> bytes:
    from safetensors.numpy import save

    arrays = {}
    for key, a in tensors.items():
        if not isinstance(key, str) or not isinstance(a, np.ndarray) or a.dtype == object:
            raise CheckpointError(f"checkpoint tensors: {key!r}: expected a NumPy array of numbers, "
                                  f"got {type(a).__name__}")
        arrays[key] = np.ascontiguousarray(a)
    return save(arrays)


def save_checkpoint(directory, name: str, tensors: dict, meta: dict) -> Path:
    """Write ``<directory>/<name>.safetensors`` and ``<name>.json`` atomically (see the module
    docstring); returns the JSON path. The directory is created if needed."""
    weights_path, json_path = checkpoint_paths(directory, name)
    directory = weights_path.parent
    # 1. everything serialised in memory first: a bad value fails before any file is touched
    weights = _tensor_bytes(tensors)
    doc = {"format": FORMAT, "version": VERSION,
           "weights": {"file": weights_path.name, "sha256": hashlib.sha256(weights).hexdigest(),
                       "bytes": len(weights),
                       "tensors": {k: {"dtype": str(a.dtype), "shape": list(a.shape)}
                                   for k, a in tensors.items()}},
           "meta": to_jsonable(meta, "meta")}
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    backup = weights_path.with_name(weights_path.name + PREV_SUFFIX)
    temps: list[Path] = []
    replaced = backed_up = False
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # 2. the new files next to the old ones
        w_tmp = _write_temp(directory, weights_path.name, weights)
        temps.append(w_tmp)
        j_tmp = _write_temp(directory, json_path.name, text.encode("utf-8"))
        temps.append(j_tmp)
        # 3. keep the current weights reachable until the new JSON is in place
        has_previous = weights_path.exists() and json_path.exists()
        if has_previous:
            link_tmp = directory / f".{backup.name}.{os.getpid()}.tmp"
            temps.append(link_tmp)
            link_tmp.unlink(missing_ok=True)
            try:
                os.link(weights_path, link_tmp)
            except OSError:  # a file system without hard links
                shutil.copyfile(weights_path, link_tmp)
            os.replace(link_tmp, backup)
            backed_up = True
        # 4. the two renames, weights first: the JSON is the commit point
        os.replace(w_tmp, weights_path)
        replaced = True
        os.replace(j_tmp, json_path)
        replaced = False
        _fsync_dir(directory)
        backup.unlink(missing_ok=True)
    except BaseException as e:
        try:
            if replaced:  # new weights, old JSON: put the old weights back
                os.replace(backup, weights_path)
            elif backed_up:  # the old weights never left: the copy is not needed
                backup.unlink(missing_ok=True)
        except OSError:
            pass  # .prev still holds the old weights; load_checkpoint finds them there
        for tmp in temps:
            _discard(tmp)
        if isinstance(e, OSError):
            raise CheckpointError(say(
                f"{json_path}: could not write the checkpoint ({e.strerror or e}); "
                f"the previous checkpoint is kept",
                f"{json_path} : écriture du point de sauvegarde impossible ({e.strerror or e}) ; "
                f"le précédent est conservé")) from e
        raise
    return json_path


# --- reading --------------------------------------------------------------------------------------


def _fail(path, en: str, fr: str):
    raise CheckpointError(say(f"{path}: {en}", f"{path} : {fr}"))


def read_checkpoint_json(directory, name: str) -> dict:
    """The JSON document of a checkpoint, checked (format, version, weights record)."""
    weights_path, json_path = checkpoint_paths(directory, name)
    if not json_path.is_file():
        _fail(json_path, "checkpoint not found", "point de sauvegarde introuvable")
    try:
        doc = load_json(json_path.read_text(encoding="utf-8"), json_path)
    except UnicodeDecodeError as e:
        _fail(json_path, f"corrupt JSON (not UTF-8 at byte {e.start})",
              f"JSON corrompu (pas UTF-8 à l'octet {e.start})")
    except OSError as e:
        _fail(json_path, f"cannot read ({e.strerror})", f"lecture impossible ({e.strerror})")
    if not isinstance(doc, dict):
        _fail(json_path, f"expected a JSON object, got {type(doc).__name__}",
              f"objet JSON attendu, reçu {type(doc).__name__}")
    for key in ("format", "version", "weights", "meta"):
        if key not in doc:
            _fail(json_path, f"key {key!r} is missing", f"la clé {key!r} manque")
    if doc["format"] != FORMAT:
        _fail(json_path, f"key 'format': expected {FORMAT!r}, got {doc['format']!r}",
              f"clé 'format' : {FORMAT!r} attendu, reçu {doc['format']!r}")
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(json_path, f"key 'version': expected an integer >= 1, got {version!r}",
              f"clé 'version' : entier >= 1 attendu, reçu {version!r}")
    if version > VERSION:
        _fail(json_path, f"key 'version': written by a newer rnnlab (format version {version}); "
                         f"this rnnlab reads version {VERSION}; upgrade rnnlab",
              f"clé 'version' : écrit par un rnnlab plus récent (format version {version}) ; "
              f"ce rnnlab lit la version {VERSION} ; mettre rnnlab à jour")
    validate(doc, CHECKPOINT, json_path)
    return doc


def load_checkpoint(directory, name: str, floats: bool = False) -> tuple[dict[str, np.ndarray], dict]:
    """(tensors, meta) of the checkpoint ``<directory>/<name>``; :class:`CheckpointError`
    naming the file and the key if anything is missing, corrupt or does not match. ``floats``:
    every tensor must hold finite floating-point numbers (a model's weights and optimiser
    state: integers or booleans there were never saved by rnnlab)."""
    from safetensors.numpy import load

    weights_path, json_path = checkpoint_paths(directory, name)
    doc = read_checkpoint_json(directory, name)
    w = doc["weights"]
    if not weights_path.is_file():
        _fail(weights_path, f"weights file not found (named by {json_path.name})",
              f"fichier de poids introuvable (nommé par {json_path.name})")
    data = weights_path.read_bytes()
    if len(data) != w["bytes"] or hashlib.sha256(data).hexdigest() != w["sha256"]:
        backup = weights_path.with_name(weights_path.name + PREV_SUFFIX)
        prev = backup.read_bytes() if backup.is_file() else b""
        if prev and len(prev) == w["bytes"] and hashlib.sha256(prev).hexdigest() == w["sha256"]:
            data = prev  # a save was interrupted between its two renames: the JSON's weights
        elif len(data) != w["bytes"]:
            _fail(weights_path, f"truncated or modified: key 'weights.bytes' in {json_path.name} expects "
                                f"{w['bytes']} bytes, got {len(data)}",
                  f"tronqué ou modifié : la clé 'weights.bytes' de {json_path.name} attend "
                  f"{w['bytes']} octets, reçu {len(data)}")
        else:
            _fail(weights_path, f"modified or corrupt: key 'weights.sha256' in {json_path.name} expects "
                                f"{w['sha256'][:16]}…, got {hashlib.sha256(data).hexdigest()[:16]}…",
                  f"modifié ou corrompu : la clé 'weights.sha256' de {json_path.name} attend "
                  f"{w['sha256'][:16]}…, reçu {hashlib.sha256(data).hexdigest()[:16]}…")
    try:
        tensors = load(data)
    except Exception as e:  # safetensors raises its own error type
        _fail(weights_path, f"not a readable safetensors file ({e})", f"fichier safetensors illisible ({e})")
    if set(tensors) != set(w["tensors"]):
        missing = sorted(set(w["tensors"]) - set(tensors))
        extra = sorted(set(tensors) - set(w["tensors"]))
        _fail(weights_path, f"tensors differ from key 'weights.tensors': missing {missing}, "
                            f"unexpected {extra}",
              f"tenseurs différents de la clé 'weights.tensors' : manquants {missing}, en trop {extra}")
    for k, a in tensors.items():
        record = w["tensors"][k]
        shape = tuple(record.get("shape", ())) if isinstance(record, dict) else None
        if shape is None or a.size != int(np.prod(shape)) or str(a.dtype) != record.get("dtype"):
            _fail(weights_path, f"tensor {k!r} is {a.dtype} {a.shape}, key 'weights.tensors' says {record}",
                  f"le tenseur {k!r} est {a.dtype} {a.shape}, la clé 'weights.tensors' dit {record}")
        if floats and (a.dtype.kind != "f" or not np.all(np.isfinite(a))):
            got = (a.dtype, a.dtype) if a.dtype.kind != "f" else ("NaN or infinity", "NaN ou l'infini")
            _fail(weights_path, f"tensor {k!r}: expected finite floating-point numbers, got {got[0]}",
                  f"tenseur {k!r} : nombres à virgule flottante finis attendus, reçu {got[1]}")
        if a.shape != shape:  # safetensors' NumPy reader returns 0-d arrays as (1,)
            tensors[k] = a.reshape(shape)
    tensors = {k: a if a.flags.writeable else a.copy() for k, a in tensors.items()}
    return tensors, doc["meta"]


# --- Ctrl-C during a run that saves ---------------------------------------------------------


def install_sigint(flag):
    """Ctrl-C for a training loop that saves: the first sets ``flag["flag"]`` (the loop finishes
    its step, saves and stops), a second raises KeyboardInterrupt at once. Returns the previous
    handler, for :func:`restore_sigint`."""
    def handler(signum, frame):
        if flag["flag"]:
            raise KeyboardInterrupt
        flag["flag"] = True

    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C keeps its default behaviour
        return None


def restore_sigint(previous):
    """Put back the handler :func:`install_sigint` replaced."""
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
