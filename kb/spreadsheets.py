"""CSV and XLSX files for spreadsheet programs, written one way for every export (boards,
surveys).

The dialect is Excel's in a Russian locale, where most of our users open files: UTF-8 with a
byte order mark (so Cyrillic is read right), fields separated by «;» (the list separator
there; a comma-separated file opens as one column), lines ended by CRLF.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(tab and CR too, which some programs skip first). Every text cell that starts so gets a
leading apostrophe, which shows the text as typed. Every field is quoted, so a separator
inside someone's text («…;=cmd|…») can never start a new cell — whichever separator the
program splits on. Numbers are written as numbers (they cannot be formulas). In XLSX every
text cell is stored as a string (never a formula), so it needs no apostrophe.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str | int | float:
    """A cell's value: numbers as they are, text with formula starts neutralized."""
    if _is_number(value):
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


def spreadsheet_xlsx(header: Iterable, rows: Iterable[Iterable], sheet_title: str) -> bytes:
    """An Excel workbook of one sheet: a bold, frozen header row, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title[:31]
    header = [str(h) for h in header]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        values = list(row)
        sheet.append([v if _is_number(v) else "" for v in values])
        for column, value in enumerate(values, start=1):
            if not _is_number(value):
                cell = sheet.cell(row=sheet.max_row, column=column)
                # Set as a string explicitly: openpyxl would treat "=…" as a formula.
                cell.value = "" if value is None else str(value)
                cell.data_type = "s"
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = 18 if len(header) <= 4 or letter in "ABCD" else 32
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
