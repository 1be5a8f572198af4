"""The command line's tables (rich): a number never breaks across lines.

rich wraps a cell at any whitespace, the narrow no-break space (U+202F) of a French grouped number
included: a narrow column would show ``104 644`` as ``104`` over ``644``. A column of numbers is
therefore ``no_wrap``, which rich honours by narrowing the other columns (their words wrap) and
leaving the numbers whole.
"""

from __future__ import annotations


def number_column(table, header: str = "", **options) -> None:
    """Add to the rich ``table`` a right-aligned column of numbers that rich never wraps."""
    table.add_column(header, justify="right", no_wrap=True, **options)
