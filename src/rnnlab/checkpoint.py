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
the previous weights are put back: the previous checkpoint is intact (a first save leaves
nothing). Every temporary file is registered for removal before its first byte is written, and
an ``OSError`` becomes a :class:`~rnnlab.errors.WriteError` naming the user's file and what the
error means (:func:`write_error`). If the process is
killed between the two renames of step 3, the JSON still describes the previous weights,
which ``.prev`` holds: :func:`load_checkpoint` finds them there by their sha256.

Every problem reading a checkpoint raises :class:`~rnnlab.errors.CheckpointError` naming the
file and the key: missing file, corrupt JSON, another format or version, size or hash
mismatch (truncated or modified weights), a file safetensors cannot read.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import CheckpointError, WriteError
from .i18n import guillemets, integer, say
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
                raise CheckpointError(say(f"{where}: key {k!r}: expected a string key (JSON), "
                                          f"got {type(k).__name__}",
                                          f"{where} : clé {k!r} : clé de type chaîne attendue (JSON), "
                                          f"reçu {type(k).__name__}"))
            out[k] = to_jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        raise CheckpointError(say(f"{where}: expected JSON data, got an array {obj.shape}; "
                                  f"put arrays in the tensors",
                                  f"{where} : données JSON attendues, reçu un tableau {obj.shape} ; "
                                  f"les tableaux vont dans les tenseurs"))
    raise CheckpointError(say(f"{where}: expected JSON data (dict, list, str, number, bool, None), "
                              f"got {type(obj).__name__}",
                              f"{where} : données JSON attendues (dict, list, str, nombre, bool, None), "
                              f"reçu {type(obj).__name__}"))


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
        return to_jsonable(v, say("rng state", "état du générateur"))
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
    except (TypeError, ValueError, KeyError, OverflowError) as e:  # -1 for a uint64, say
        raise CheckpointError(say(f"rng state: cannot restore a {name} generator ({e})",
                                  f"état du générateur : impossible de restaurer un générateur {name} "
                                  f"({guillemets(e)})")) from None
    return np.random.Generator(bit_generator)


# --- writing --------------------------------------------------------------------------------------


# errno -> what it means, (English, French); {folder}: the folder of the file being written
_OS_FAILURES = {
    errno.EACCES: ("permission denied", "permission refusée"),
    errno.EROFS: ("the file system is read-only", "le système de fichiers est en lecture seule"),
    errno.ENOSPC: ("no space left on the device", "plus de place sur le disque"),
    errno.EFBIG: ("file too large: the file-size limit (ulimit -f) is reached",
                  "fichier trop gros : la limite de taille des fichiers (ulimit -f) est atteinte"),
    errno.ENOENT: ("no such file or folder", "fichier ou dossier introuvable"),
    errno.ENOTDIR: ("a part of the path is a file, expected a folder",
                    "une partie du chemin est un fichier, dossier attendu"),
    errno.EISDIR: ("it is a folder, expected a file", "c'est un dossier, fichier attendu"),
    errno.ENAMETOOLONG: ("the name is too long", "le nom est trop long"),
    errno.EIO: ("input/output error (a failing disk?)", "erreur d'entrée-sortie (disque défaillant ?)"),
}
_OS_FAILURES[errno.EPERM] = _OS_FAILURES[errno.EACCES]
if hasattr(errno, "EDQUOT"):
    _OS_FAILURES[errno.EDQUOT] = ("the disk quota is exceeded", "le quota de disque est dépassé")
# the same, said of a file being written in {folder}
_WRITE_FAILURES = {
    **_OS_FAILURES,
    errno.EACCES: ("permission denied (the folder {folder} is not writable)",
                   "permission refusée (le dossier {folder} n'est pas accessible en écriture)"),
    errno.ENOENT: ("the folder {folder} does not exist", "le dossier {folder} n'existe pas"),
    errno.ENOTDIR: ("{folder} is a file, expected a folder", "{folder} est un fichier, dossier attendu"),
}
_WRITE_FAILURES[errno.EPERM] = _WRITE_FAILURES[errno.EACCES]
# what a failed write leaves: (noun, kept) -> (English, French)
_KEPT = {("file", True): ("the previous file is kept", "le fichier précédent est conservé"),
         ("checkpoint", True): ("the previous checkpoint is kept",
                                "le point de sauvegarde précédent est conservé")}
_NOTHING = ("nothing was written", "rien n'a été écrit")
# the temporary files of _new_temp (a random hex token) and of the ``.prev`` link (a pid)
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?:[0-9a-f]{8}|[0-9]+)\.tmp$")


def user_path(path) -> Path:
    """The file the user named for one of rnnlab's temporary files (``.loss.csv.1a2b3c4d.tmp`` →
    ``loss.csv``); any other path as it is."""
    path = Path(path)
    match = _TEMP_NAME.match(path.name)
    return path.with_name(match["name"]) if match else path


def os_error_message(error: OSError) -> str:
    """One line for an ``OSError`` nobody caught: the user's path and what the errno means."""
    en, fr = _OS_FAILURES.get(error.errno, (error.strerror or str(error),) * 2)
    if error.filename is None:
        return say(en, fr)
    path = user_path(os.fsdecode(error.filename))
    return say(f"{path}: {en}", f"{path} : {fr}")


def write_error(path, error: OSError, *, kept: bool = False, noun: str = "file", folder=None) -> WriteError:
    """The :class:`~rnnlab.errors.WriteError` for an ``OSError`` met writing ``path`` (a ``noun``:
    "file", "checkpoint" or "folder") in ``folder`` (default: its own): the user's path (never a
    temporary file's), what the errno means, and what is left (the previous file when ``kept``,
    else nothing)."""
    path = Path(path)
    folder = Path(folder if folder is not None else path.parent)
    if str(folder) == ".":
        folder = Path.cwd()  # "the folder . is not writable" says less than its name
    if error.errno == errno.ENOTDIR:  # the part of the path that is a file
        folder = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), folder)
    en, fr = _WRITE_FAILURES.get(error.errno, (error.strerror or str(error),) * 2)
    en, fr = en.format(folder=folder), fr.format(folder=folder)
    left_en, left_fr = _KEPT.get((noun, kept), _NOTHING)
    if noun == "folder":
        return WriteError(say(f"{path}: cannot make the folder: {en}; {left_en}",
                              f"{path} : création du dossier impossible : {fr} ; {left_fr}"))
    return WriteError(say(f"{path}: cannot write: {en}; {left_en}",
                          f"{path} : écriture impossible : {fr} ; {left_fr}"))


def make_folder(folder) -> list[Path]:
    """Make ``folder`` and its missing parents; returns the folders made, deepest first (for
    :func:`remove_empty`). :class:`~rnnlab.errors.WriteError` naming it when a file has its name
    or it cannot be made (nothing is left made then)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise WriteError(say(f"{folder}: expected a folder, got a file",
                             f"{folder} : dossier attendu, reçu un fichier"))
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    made: list[Path] = []
    for p in reversed(missing):
        try:
            p.mkdir()
        except FileExistsError:  # made meanwhile by another process: fine
            continue
        except OSError as e:
            remove_empty(made)
            raise write_error(folder, e, noun="folder", folder=p.parent) from None
        made.insert(0, p)
    return made


def remove_empty(folders) -> None:
    """Remove the ``folders`` (deepest first) that are empty: what a failed call made and left
    unused. Quiet: the failure being reported matters more."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            break


def check_writable(folder) -> None:
    """:class:`~rnnlab.errors.WriteError` naming ``folder`` unless a file can be made in it (tried:
    permission bits, read-only mounts, ACLs), before time is spent on what would be written there."""
    folder = Path(folder)
    try:
        _discard(_new_temp(folder, "write-check"))
    except OSError as e:
        raise write_error(folder, e, folder=folder) from None


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


def remove_stale_temps(folder) -> list[Path]:
    """Remove the temporary files a killed writer left in ``folder`` (``.<name>.<token>.tmp``);
    returns them. Call it when no other process writes there (a run being resumed)."""
    stale = [p for p in Path(folder).iterdir() if _TEMP_NAME.match(p.name) and p.is_file()]
    for tmp in stale:
        _discard(tmp)
    return stale


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


def _refuse_folder(path: Path) -> None:
    if path.is_dir():
        raise WriteError(say(f"{path}: cannot write: it is a folder, expected a file; nothing was written",
                             f"{path} : écriture impossible : c'est un dossier, fichier attendu ; "
                             "rien n'a été écrit"))


@contextmanager
def atomic_path(path):
    """A temporary path to write ``path`` through, atomically::

        with atomic_path("loss.png") as tmp:
            fig.savefig(tmp, format="png")

    ``tmp`` is a new empty file in the same folder. When the block ends normally it is flushed
    to disk and renamed onto ``path`` (``os.replace``: readers see the old file or the new one,
    never a half-written one). On any failure (an exception in the block, a full disk, a
    refused rename, Ctrl-C) it is removed and ``path`` keeps its old content. The folder must
    exist. An ``OSError`` becomes a :class:`~rnnlab.errors.WriteError` naming ``path`` (never
    the temporary file) and what the error means."""
    path = Path(path)
    _refuse_folder(path)
    kept, tmp = path.exists(), None
    try:
        tmp = _new_temp(path.parent, path.name)
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            _discard(tmp)
        if isinstance(e, OSError):
            raise write_error(path, e, kept=kept) from e
        raise


def _write_bytes(tmp: Path, data: bytes) -> None:
    """``data`` into the (registered) temporary file ``tmp``, flushed to disk."""
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` atomically through
    :func:`atomic_path`, creating the folder if needed. On failure the temporary file is
    removed, the old file kept (a folder made for it removed again), and the error is a
    :class:`~rnnlab.errors.WriteError` naming the file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    _refuse_folder(path)
    made = make_folder(path.parent)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(payload)
    except BaseException:
        remove_empty(made)
        raise
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
            raise CheckpointError(say(f"checkpoint tensors: {key!r}: expected a NumPy array of numbers, "
                                      f"got {type(a).__name__}",
                                      f"tenseurs du point de sauvegarde : {key!r} : tableau NumPy de "
                                      f"nombres attendu, reçu {type(a).__name__}"))
        arrays[key] = np.ascontiguousarray(a)
    return save(arrays)


def _holds_committed_weights(weights_path: Path, json_path: Path) -> bool:
    """Whether ``weights_path`` holds the weights its JSON records (their sha256)."""
    try:
        recorded = json.loads(json_path.read_text(encoding="utf-8"))["weights"]["sha256"]
        return hashlib.sha256(weights_path.read_bytes()).hexdigest() == recorded
    except (OSError, ValueError, KeyError, TypeError):
        return False


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
    has_previous = weights_path.exists() and json_path.exists()
    made = make_folder(directory)
    temps: list[Path] = []

    def temp(final_name: str) -> Path:  # registered for removal before its first byte is written
        tmp = _new_temp(directory, final_name)
        temps.append(tmp)
        return tmp

    replaced = backed_up = False
    try:
        # 2. the new files next to the old ones
        w_tmp = temp(weights_path.name)
        _write_bytes(w_tmp, weights)
        j_tmp = temp(json_path.name)
        _write_bytes(j_tmp, text.encode("utf-8"))
        # 3. keep the committed weights reachable until the new JSON is in place: the current
        #    file, or the .prev a save killed between its two renames left (the current file then
        #    holds weights no JSON describes)
        if has_previous and not (backup.exists() and not _holds_committed_weights(weights_path, json_path)):
            link_tmp = directory / f".{backup.name}.{os.getpid()}.tmp"
            temps.append(link_tmp)
            link_tmp.unlink(missing_ok=True)
            backup.unlink(missing_ok=True)  # stale: renaming onto a link of the same file does nothing
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
        if replaced and not has_previous:  # a first save: its weights without their JSON are no checkpoint
            _discard(weights_path)
        remove_empty(made)
        if isinstance(e, OSError):
            raise write_error(json_path, e, kept=has_previous, noun="checkpoint") from e
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
        _fail(weights_path, f"not a readable safetensors file ({e})",
              f"fichier safetensors illisible ({guillemets(e)})")
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
        if floats and a.dtype.kind != "f":
            _fail(weights_path, f"tensor {k!r}: expected floating-point numbers, got {a.dtype}",
                  f"tenseur {k!r} : nombres à virgule flottante attendus, reçu {a.dtype}")
        bad = int(a.size - np.count_nonzero(np.isfinite(a))) if floats else 0
        if bad:
            _fail(weights_path, f"tensor {k!r}: expected finite values, got {bad} NaN or infinite value(s)",
                  f"tenseur {k!r} : valeurs finies attendues, "
                  f"reçu {integer(bad)} valeur{'s' * (bad > 1)} NaN ou infinie{'s' * (bad > 1)}")
        if a.shape != shape:  # safetensors' NumPy reader returns 0-d arrays as (1,)
            tensors[k] = a.reshape(shape)
    tensors = {k: a if a.flags.writeable else a.copy() for k, a in tensors.items()}
    return tensors, doc["meta"]


def check_finite_weights(tensors: dict, keys, where) -> None:
    """:class:`~rnnlab.errors.CheckpointError` naming the file ``where`` and the tensor when one of
    the model's weights ``tensors[k]`` (k in ``keys``) holds NaN or infinity: rnnlab saves only
    finite weights (a diverged run keeps its last good checkpoint), so the file was damaged or
    edited, and a model built from it would compute nothing but NaN."""
    for key in keys:
        a = tensors.get(key)
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            bad = int(a.size - np.count_nonzero(np.isfinite(a)))
            raise CheckpointError(say(f"{where}: tensor {key!r} holds {bad} NaN or infinite value(s); "
                                      "rnnlab saves only finite weights: the file was damaged or edited",
                                      f"{where} : le tenseur « {key} » contient des valeurs NaN ou "
                                      f"infinies ({bad}) ; rnnlab ne sauvegarde que des poids finis : "
                                      "le fichier a été abîmé ou modifié"))


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
