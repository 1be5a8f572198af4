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

#: the largest magnitude a value may have: (2 × 1e150)² = 4e300 stays below float64's 1.8e308
MAX_MAGNITUDE = 1e150


def read_csv(path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """``(header, rows)``: the header's names (stripped) and ``(line, fields)`` for each row that
    is not blank, each with as many fields as the header."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: expected UTF-8 text (a CSV file), got {exc.reason} at byte {exc.start}") \
            from None
    if "\0" in text:
        raise DataError(f"{path}: expected text (a CSV file), got a NUL byte (a binary file)")
    lines = list(csv.reader(text.splitlines()))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise DataError(f"{path}: empty file (expected a header row, then one row per record)")
    header = [cell.strip() for cell in lines[0]]
    rows = []
    for line, fields in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in fields):
            continue  # blank lines count for nothing
        if len(fields) != len(header):
            raise DataError(f"{path}: row {line}: expected {len(header)} fields (as the header), "
                            f"got {len(fields)}")
        rows.append((line, [cell.strip() for cell in fields]))
    return header, rows


def read_number(path, column: str, line: int, text: str) -> float:
    """The value of one field: a finite number of magnitude at most :data:`MAX_MAGNITUDE`."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}: column {column!r}, row {line}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise DataError(f"{path}: column {column!r}, row {line}: expected a finite number, got {text!r}")
    if abs(value) > MAX_MAGNITUDE:
        raise DataError(f"{path}: column {column!r}, row {line}: expected a magnitude ≤ {MAX_MAGNITUDE:g} "
                        f"(squared errors must stay finite), got {text!r}; rescale the column")
    return value


def expect_unique(path, column: str, keyed) -> None:
    """``keyed``: ``(line, key)`` pairs; a key seen twice (a time step given twice) is refused."""
    seen = {}
    for line, key in keyed:
        if key in seen:
            raise DataError(f"{path}: column {column!r}, row {line}: {key!r} repeats row {seen[key]} "
                            "(expected each time step once)")
        seen[key] = line
