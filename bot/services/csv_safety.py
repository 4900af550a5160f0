"""The one spreadsheet formula neutraliser for every CSV export (bookings, enrolments, points).

Excel and WPS evaluate a cell that starts with = + - @ (and tab or CR, which they skip before
such a sign) as a formula: a user-supplied name like `=HYPERLINK(...)` would run on a staff
computer. A leading apostrophe makes the spreadsheet show the text as it is.
"""
from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> str:
    """The cell text to write: None becomes empty, formula-looking text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore_formula(text: str) -> str:
    """Undo `neutralise_formula` when an exported file is imported again."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """csv.writer whose every cell goes through `neutralise_formula`: the one way exports write CSV."""

    def __init__(self, stream: TextIO, **fmt: Any) -> None:
        self._writer = csv.writer(stream, **fmt)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise_formula(cell) for cell in row])
