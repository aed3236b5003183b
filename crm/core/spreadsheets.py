"""Spreadsheets written for download: every export, the audit log's and the reports' tables.

openpyxl is imported when a workbook is written, not when the application starts.
"""

import io
from collections.abc import Iterable, Sequence
from typing import Any


def write_rows(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook of one sheet written row by row (write-only: memory stays flat)."""
    return write_sheets([(title, headers, rows)])


def write_sheets(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], *, title: str = ""
) -> bytes:
    """A workbook of a sheet for each (name, headers, rows), written row by row (write-only:
    memory stays flat), each header row in bold and kept in view as the rows scroll."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.properties.title = title or None
    for name, headers, rows in sheets:
        sheet = workbook.create_sheet(name[:31])
        sheet.freeze_panes = "A2"
        sheet.append([_bold(sheet, header) for header in headers])
        for row in rows:
            sheet.append([_as_text(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# OWASP, CSV/formula injection: a text beginning with one of these is a formula (or becomes
# one when the cell is edited) in Excel, WPS and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(sheet: Any, value: Any) -> Any:
    """Every exported text stays text: one that would start a formula is written as a string
    cell with Excel's quote prefix, so `=HYPERLINK(…)` typed as a name is shown, never run."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    return _text_cell(sheet, value)


def _text_cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _bold(sheet: Any, value: str) -> Any:
    from openpyxl.styles import Font

    cell = _text_cell(sheet, value)
    cell.font = Font(bold=True)
    return cell
