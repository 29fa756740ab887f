"""CSV files for spreadsheet programs, written one way for every export (boards, surveys).

The dialect is Excel's in a Russian locale, where most of our users open files: UTF-8 with a
byte order mark (so Cyrillic is read right), fields separated by «;» (the list separator
there; a comma-separated file opens as one column), lines ended by CRLF.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(tab and CR too, which some programs skip first). Every text cell that starts so gets a
leading apostrophe, which shows the text as typed. Every field is quoted, so a separator
inside someone's text («…;=cmd|…») can never start a new cell — whichever separator the
program splits on. Numbers are written as numbers (they cannot be formulas).
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str | int | float:
    """A cell's value: numbers as they are, text with formula starts neutralized."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spreadsheet_csv(header: Iterable, rows: Iterable[Iterable]) -> str:
    """The whole file as text (starting with the BOM); encode it as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(h) for h in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()
