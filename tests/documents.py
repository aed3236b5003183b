"""Reading back what the app hands out: PDFs through poppler's pdftotext, workbooks through
openpyxl."""

import io
import subprocess

from openpyxl import load_workbook


def pdf_text(data: bytes, *, layout: bool = True) -> str:
    """The text; without `layout`, in reading order (a table cell's wrapped lines together)."""
    options = ["-layout"] if layout else []
    return subprocess.run(
        ["pdftotext", *options, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
