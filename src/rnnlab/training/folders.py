"""Where a run is written: the one run-folder policy of every training command.

- no ``--out``: a new folder ``runs/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3`` … if taken), so two
  runs never write over each other;
- ``--out DIR`` that holds no run: used (made if needed);
- ``--out DIR`` that holds an unfinished run: refused, naming the command that continues it;
- ``--out DIR`` that holds a finished run: refused, unless ``force``, which removes that run's
  files first (nothing else in the folder is touched).
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from ..errors import ConfigError
from ..i18n import integer, say

# what a run writes in its folder (and --force removes)
RUN_FILES = ("last.json", "last.safetensors", "last.safetensors.prev", "best.json", "best.safetensors",
             "best.safetensors.prev", "loss.csv", "loss.png", "samples.txt", "result.json", "scores.json")


def _saved_progress(folder: Path):
    """``(done, total, unit)`` of the run saved in ``folder``, or None when it holds no run."""
    from ..checkpoint import read_checkpoint_json
    from ..errors import CheckpointError

    if not any((folder / name).exists() for name in ("last.json", "best.json")):
        return None
    try:
        meta = read_checkpoint_json(folder, "last")["meta"]
        steps, minutes = meta["config"].get("steps", 0), meta["config"].get("minutes", 0)
        if steps:
            return meta["step"], steps, "steps"
        return meta["elapsed_seconds"] / 60.0, minutes, "minutes"
    except (CheckpointError, KeyError, TypeError, AttributeError):
        return 0, 0, "steps"  # a run that cannot be read is still a run: never overwritten silently


def new_run_folder(out, name: str, command: str, *, force: bool = False, make: bool = True) -> Path:
    """The folder of a new run of ``rnnlab <command>`` (see the module docstring); made unless
    ``make=False`` (the run makes it when it starts, so a refused run leaves nothing behind)."""
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
                raise ConfigError(say(f"--out {path}: already holds a run (finished); extend it with "
                                      f"{again} --steps N, replace it with --force, or choose another --out "
                                      "(nothing was overwritten)",
                                      f"--out {path} : contient déjà un entraînement (terminé) ; le "
                                      f"prolonger avec {again} --steps N, le remplacer avec --force, ou "
                                      "choisir un autre --out (rien n'a été écrasé)"))
            for file in RUN_FILES:
                (path / file).unlink(missing_ok=True)
    if make:
        path.mkdir(parents=True, exist_ok=True)
    return path
