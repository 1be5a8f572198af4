"""Where a run is written: the one run-folder policy of every training command.

- no ``--out``: a new folder ``runs/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3`` … if taken), so two
  runs never write over each other;
- ``--out DIR`` that holds no run: used (made if needed);
- ``--out DIR`` that holds an unfinished run: refused, naming the command that continues it;
- ``--out DIR`` that holds a finished run: refused, unless ``force``, which removes that run's
  files (:data:`RUN_FILES`; nothing else in the folder is touched) once the new run starts.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from ..errors import ConfigError
from ..i18n import integer, say

# what a run writes in its folder (and --force removes): the engine's, then each command's own
RUN_FILES = ("last.json", "last.safetensors", "last.safetensors.prev", "best.json", "best.safetensors",
             "best.safetensors.prev", "loss.csv", "loss.png", "samples.txt", "result.json", "scores.json",
             "adding.json", "adding.safetensors", "copy.json", "copy.safetensors", "classifier.json",
             "classifier.safetensors", "forecast.json", "forecast.safetensors", "forecast.png",
             "sweep.json", "sweep-adding.png", "sweep-copy.png")
# the results of a command that keeps no checkpoint (sweep): a folder holding one holds a finished run
RESULT_FILES = ("sweep.json", "result.json", "scores.json")


def _saved_progress(folder: Path):
    """``(done, total, unit)`` of the run saved in ``folder``, or None when it holds no run."""
    from ..checkpoint import read_checkpoint_json
    from ..errors import CheckpointError

    if not any((folder / name).exists() for name in ("last.json", "best.json")):
        return (0, 0, "steps") if any((folder / name).exists() for name in RESULT_FILES) else None
    try:  # a crash during the first save may have left best.* alone: it holds the run as well
        meta = read_checkpoint_json(folder, "last" if (folder / "last.json").exists() else "best")["meta"]
        steps, minutes = meta["config"].get("steps", 0), meta["config"].get("minutes", 0)
        if steps:
            return meta["step"], steps, "steps"
        return meta["elapsed_seconds"] / 60.0, minutes, "minutes"
    except (CheckpointError, KeyError, TypeError, AttributeError):
        return 0, 0, "steps"  # a run that cannot be read is still a run: never overwritten silently


def reports_written(folder, step: int) -> bool:
    """Whether the engine's reports of the run in ``folder`` are whole: ``loss.csv`` ends at ``step``
    and ``loss.png`` is not older than it (a run killed after its last checkpoint and before its
    reports has neither)."""
    csv, png = Path(folder) / "loss.csv", Path(folder) / "loss.png"
    try:
        last = csv.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1].split(",", 1)[0]
        return int(last) == step and png.stat().st_mtime_ns >= csv.stat().st_mtime_ns
    except (OSError, ValueError):
        return False


def remove_run_files(folder) -> None:
    """Remove the files of the run in ``folder`` (:data:`RUN_FILES`), nothing else: what
    ``--force`` replaces, once the new run starts."""
    for file in RUN_FILES:
        (Path(folder) / file).unlink(missing_ok=True)


def new_run_folder(out, name: str, command: str, *, force: bool = False, make: bool = True,
                   resumable: bool = True) -> Path:
    """The folder of a new run of ``rnnlab <command>`` (see the module docstring); made, and with
    ``force`` the finished run it holds removed, unless ``make=False``: then the run does both when
    it starts (:class:`rnnlab.training.RunFolder`'s ``replace``), so a call refused before (a bad
    option, bad data) leaves nothing behind and the old run intact. ``resumable=False``: a command
    without ``--resume`` (sweep)."""
    if out is None:
        stem = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        path, k = stem, 1
        while path.exists():
            k += 1
            path = stem.with_name(f"{stem.name}-{k}")
    else:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ConfigError(say(f"--out {path}: expected a folder, got a file",
                                  f"--out {path} : dossier attendu, reçu un fichier"))
        progress = _saved_progress(path) if path.is_dir() else None
        if progress is not None:
            done, total, unit = progress
            again = f"rnnlab {command} --resume {shlex.quote(str(path))}"
            if done < total:
                shown = f"{done:g} of {total:g} {unit}" if unit == "minutes" else f"step {done} of {total}"
                shown_fr = (f"{done:g} min sur {total:g}" if unit == "minutes"
                            else f"pas {integer(done)} sur {integer(total)}")
                raise ConfigError(say(f"--out {path}: already holds an unfinished run ({shown}); continue it "
                                      f"with: {again} (or choose another --out; nothing was overwritten)",
                                      f"--out {path} : contient déjà un entraînement inachevé ({shown_fr}) ; "
                                      f"le reprendre avec : {again} (ou choisir un autre --out ; rien n'a "
                                      "été écrasé)"))
            if not force:
                extend = (f"extend it with {again} --steps N, " if resumable else "",
                          f"le prolonger avec {again} --steps N, " if resumable else "")
                raise ConfigError(say(f"--out {path}: already holds a run (finished); {extend[0]}replace it "
                                      "with --force, or choose another --out (nothing was overwritten)",
                                      f"--out {path} : contient déjà un entraînement (terminé) ; "
                                      f"{extend[1]}le remplacer avec --force, ou choisir un autre --out "
                                      "(rien n'a été écrasé)"))
    if make:
        from ..checkpoint import make_folder

        make_folder(path)
        if force:
            remove_run_files(path)
    return path
