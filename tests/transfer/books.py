"""Spreadsheets written in code in every format offices send: .xlsx (openpyxl), .xls (xlwt,
the Excel 97–2003 format WPS also writes), .ods (its XML written here), CSV and tab-separated
text in the encodings Excel and WPS use. A row is a list of cells; a date is a date."""

import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

Rows = list[list]


def xlsx(path: Path, sheets: dict[str, Rows], merged: tuple[str, ...] = ()) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in merged:
            sheet.merge_cells(cells)
    workbook.save(path)
    return path


def xls(path: Path, sheets: dict[str, Rows], merged: tuple[tuple[int, int, int, int], ...] = ()
        ) -> Path:  # fmt: skip
    """`merged`: (first row, last row, first column, last column), counted from 0."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        covered = {(r, c) for r1, r2, c1, c2 in merged for r in range(r1, r2 + 1)
                   for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}  # fmt: skip
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if any((r, c) == (r1, c1) for r1, _, c1, _ in merged):
                    r1, r2, c1, c2 = next(m for m in merged if (m[0], m[2]) == (r, c))
                    sheet.write_merge(r1, r2, c1, c2, value)
                elif isinstance(value, date):
                    sheet.write(r, c, value, day)
                else:
                    sheet.write(r, c, value)
    workbook.save(str(path))
    return path


ODS = "application/vnd.oasis.opendocument.spreadsheet"
NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_cell(value, columns: int = 1) -> str:
    repeat = f' table:number-columns-repeated="{columns}"' if columns > 1 else ""
    if value is None:
        return f"<table:table-cell{repeat}/>"
    if isinstance(value, date):
        kind = f'office:value-type="date" office:date-value="{value.isoformat()}"'
    elif isinstance(value, int | float):
        kind = f'office:value-type="float" office:value="{value}"'
    else:
        kind = 'office:value-type="string"'
    return (
        f"<table:table-cell{repeat} {kind}><text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def ods(path: Path, sheets: dict[str, Rows], raw_rows: str = "") -> Path:
    """An OpenDocument spreadsheet; `raw_rows` is XML appended to the last table as written."""
    tables = []
    for name, rows in sheets.items():
        body = "".join(
            "<table:table-row>" + "".join(ods_cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        tables.append(f'<table:table table:name="{escape(name)}">{body}</table:table>')
    if raw_rows:
        tables[-1] = tables[-1].replace("</table:table>", raw_rows + "</table:table>")
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NAMESPACES} '
               f'office:version="1.2"><office:body><office:spreadsheet>{"".join(tables)}'
               "</office:spreadsheet></office:body></office:document-content>")  # fmt: skip
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                f'manifest:full-path="/" manifest:media-type="{ODS}"/></manifest:manifest>')  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODS, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path


def text_table(path: Path, rows: Rows, *, encoding: str, delimiter: str = ",") -> Path:
    """What Excel's 另存为 CSV (GBK on a Chinese Windows), CSV UTF-8 (with a byte-order mark)
    or Unicode 文本 (UTF-16, tab-separated) writes: dates as the sheet showed them."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else f"{v:%Y/%-m/%-d}" if isinstance(v, date) else v
                         for v in row])  # fmt: skip
    path.write_bytes(out.getvalue().encode(encoding))
    return path
