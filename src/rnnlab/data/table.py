"""CSV files read strictly: what :mod:`rnnlab.data.series` (forecasting) and
:func:`rnnlab.tasks.load_classification_csv` (classification) share.

A table is a header row, then one row per record with exactly the header's number of fields.
Every mistake is a :class:`~rnnlab.errors.DataError` naming the file, the row (its line number)
and the column: a file that is not UTF-8 text, a row with fields missing or in excess (a
misplaced comma would shift every value after it), a value that is not a number, or one so
large that the squared errors of a score would overflow float64.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..errors import DataError
from ..i18n import guillemets, integer, say

#: the largest magnitude a value may have: (2 × 1e150)² = 4e300 stays below float64's 1.8e308
MAX_MAGNITUDE = 1e150


def read_csv(path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """``(header, rows)``: the header's names (stripped) and ``(line, fields)`` for each row that
    is not blank, each with as many fields as the header."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(say(f"{path}: expected UTF-8 text (a CSV file), got {exc.reason} at byte {exc.start}",
                            f"{path} : texte UTF-8 attendu (un fichier CSV), reçu {guillemets(exc.reason)} à "
                            f"l'octet {integer(exc.start)}")) from None
    if "\0" in text:
        raise DataError(say(f"{path}: expected text (a CSV file), got a NUL byte (a binary file)",
                            f"{path} : texte attendu (un fichier CSV), reçu un octet nul "
                            "(un fichier binaire)"))
    lines = list(csv.reader(text.splitlines()))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise DataError(say(f"{path}: empty file (expected a header row, then one row per record)",
                            f"{path} : fichier vide (une ligne d'en-tête attendue, puis une ligne par "
                            "enregistrement)"))
    header = [cell.strip() for cell in lines[0]]
    rows = []
    for line, fields in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in fields):
            continue  # blank lines count for nothing
        if len(fields) != len(header):
            raise DataError(say(f"{path}: row {line}: expected {len(header)} fields (as the header), "
                                f"got {len(fields)}",
                                f"{path} : ligne {integer(line)} : {len(header)} champs attendus (comme "
                                f"l'en-tête), reçu {len(fields)}"))
        rows.append((line, [cell.strip() for cell in fields]))
    return header, rows


def at_field(path, column: str, line: int) -> str:
    """Where a field is, in the user's language: the file, the column, the row."""
    return say(f"{path}: column {column!r}, row {line}",
               f"{path} : colonne « {column} », ligne {integer(line)}")


def read_number(path, column: str, line: int, text: str) -> float:
    """The value of one field: a finite number of magnitude at most :data:`MAX_MAGNITUDE`."""
    where = at_field(path, column, line)
    try:
        value = float(text)
    except ValueError:
        raise DataError(say(f"{where}: expected a number, got {text!r}",
                            f"{where} : nombre attendu, reçu « {text} »")) from None
    if not math.isfinite(value):
        raise DataError(say(f"{where}: expected a finite number, got {text!r}",
                            f"{where} : nombre fini attendu, reçu « {text} »"))
    if abs(value) > MAX_MAGNITUDE:
        raise DataError(say(f"{where}: expected a magnitude ≤ {MAX_MAGNITUDE:g} "
                            f"(squared errors must stay finite), got {text!r}; rescale the column",
                            f"{where} : valeur absolue ≤ {MAX_MAGNITUDE:g} attendue (les erreurs au carré "
                            f"doivent rester finies), reçu « {text} » ; remettre la colonne à l'échelle"))
    return value


def expect_column(path, column: str, header) -> None:
    """Refuse a column the header does not name, listing those it does."""
    if column not in header:
        raise DataError(say(f"{path}: no column {column!r} (expected one of {', '.join(map(repr, header))})",
                            f"{path} : pas de colonne « {column} » (l'une de "
                            f"{', '.join(f'« {h} »' for h in header)} attendue)"))


def expect_unique(path, column: str, keyed) -> None:
    """``keyed``: ``(line, key)`` pairs; a key seen twice (a time step given twice) is refused."""
    seen = {}
    for line, key in keyed:
        if key in seen:
            where = at_field(path, column, line)
            raise DataError(say(f"{where}: {key!r} repeats row {seen[key]} (expected each time step once)",
                                f"{where} : « {key} » répète la ligne {integer(seen[key])} (chaque pas de "
                                "temps attendu une seule fois)"))
        seen[key] = line
