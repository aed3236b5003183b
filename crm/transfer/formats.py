"""What a file holds, judged by its bytes rather than its name, and each of its sheets as rows
of cell values: .xlsx through openpyxl's streaming reader; .xls (and WPS's .et) and .ods
through python-calamine; CSV in whatever encoding Excel or WPS wrote it (issue 18.11).

Every reader is bounded before it parses (issue 18.13): a zip's parts by what they say they
unpack to, an .xls or .ods by how far its cells reach, so that a small file cannot make the
server build a sheet of billions of cells.
"""

import codecs
import csv
import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import XMLPullParser

import olefile
from charset_normalizer import from_bytes
from openpyxl import load_workbook
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_FILLED = 256  # cells holding a value in one row: as many columns as an .xls can have
MAX_CELLS = 4_000_000  # rows × columns a calamine sheet may span (it builds them all)
MAX_UNPACKED = 200 * 1024 * 1024  # all of a zip's parts together, unpacked
MAX_SHARED_STRINGS = 40 * 1024 * 1024  # an .xlsx's sharedStrings.xml, unpacked
MAX_RATIO = 100  # unpacked size / packed size of one part larger than RATIO_FROM
RATIO_FROM = 5 * 1024 * 1024
SAMPLE = 256 * 1024  # what a CSV's encoding and delimiter are judged by


class FileRefusedError(ValueError):
    """The file cannot be read as a spreadsheet of ours; the message says why, in Chinese."""


SAVE_AS = "请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。"
UNREADABLE = FileRefusedError("文件已损坏或不是 Excel 文件，无法读取。")


@dataclass
class Grid:
    """One sheet: its name and its rows from the sheet's first row, blank rows included, so
    that the n-th row yielded is row n as the spreadsheet numbers it."""

    name: str
    rows: Iterator[list[Any]]


def kind_of(path: Path) -> str:
    """ "xlsx", "xls", "ods" or "csv", by the file's bytes; anything else is refused with a
    message that says what the file is."""
    if path.stat().st_size > MAX_BYTES:
        raise FileRefusedError("文件超过 20 MB，请拆分后分批导入。")
    with path.open("rb") as file:
        head = file.read(SAMPLE)
    if not head.strip():
        raise FileRefusedError("文件是空的。")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(path)
    for magic, what in FOREIGN:
        if head.startswith(magic):
            raise FileRefusedError(
                f"这是{what}，不是表格。请上传 Excel 文件（.xlsx、.xls）或 CSV。"
            )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")):
        raise FileRefusedError(
            "这是网页（HTML）格式的表格，只是扩展名像 Excel，不是真正的 Excel 文件。" + SAVE_AS
        )
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise FileRefusedError("这是 Excel 2003 XML 表格，本系统不能直接读取。" + SAVE_AS)
    if _looks_like_text(head):
        return "csv"  # also the tab-separated text some systems name .xls
    if path.suffix.lower() in SPREADSHEETS:
        raise UNREADABLE
    name = path.suffix.lower() or "无扩展名"
    raise FileRefusedError(
        f"无法识别这个文件（{name}）。请上传 Excel 文件（.xlsx、.xls）、WPS 表格或 CSV。"
    )


SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


FOREIGN = (
    (b"%PDF", " PDF 文件"),
    (b"\x89PNG", "图片（PNG）"),
    (b"\xff\xd8\xff", "图片（JPEG）"),
    (b"GIF8", "图片（GIF）"),
    (b"Rar!", " RAR 压缩包，请解压后上传其中的表格"),
    (b"7z\xbc\xaf", " 7z 压缩包，请解压后上传其中的表格"),
    (b"{\\rtf", " RTF 文档"),
)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError) as error:
        raise UNREADABLE from error
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype == b"application/vnd.oasis.opendocument.spreadsheet":
        return "ods"
    if "word/document.xml" in names or mimetype.endswith(b"text"):
        raise FileRefusedError("这是 Word 文档，不是表格。请上传 Excel 文件（.xlsx、.xls）或 CSV。")
    if any(name.startswith("ppt/") for name in names):
        raise FileRefusedError("这是 PowerPoint 演示文稿，不是表格。")
    raise FileRefusedError("这是一个 ZIP 压缩包，不是 Excel 文件。请解压后上传其中的表格。")


def _ole_kind(path: Path) -> str:
    """An Office 97–2003 container: an .xls (or WPS's .et) workbook, or something else."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
    except Exception as error:  # olefile raises many kinds for a broken container
        raise UNREADABLE from error
    if "EncryptedPackage" in streams:
        raise FileRefusedError(
            "文件设置了打开密码，无法读取。请在 Excel 或 WPS 中取消密码后再上传。"
        )
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "WordDocument" in streams:
        raise FileRefusedError("这是 Word 文档，不是表格。请上传 Excel 文件（.xlsx、.xls）或 CSV。")
    raise FileRefusedError("这是一个不认识的 Office 文件，不是 Excel 表格。" + SAVE_AS)


def _looks_like_text(head: bytes) -> bool:
    """Text in an encoding we read, with hardly a control character or an undecodable byte."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return True
    if b"\x00" in head:
        return False
    try:
        text = head.decode(_encoding(head), errors="replace")
    except FileRefusedError:
        return False
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\r\n\f"))
    return odd * 100 <= len(text)


@contextmanager
def open_book(path: Path) -> Iterator[list[Grid]]:
    """The file's sheets, each a Grid, readable until the block ends."""
    kind = kind_of(path)
    if kind == "xlsx":
        with _xlsx(path) as grids:
            yield grids
    elif kind == "csv":
        with _csv(path) as grids:
            yield grids
    else:
        yield _calamine(path, kind)


# --- .xlsx ----------------------------------------------------------------------------------


@contextmanager
def _xlsx(path: Path) -> Iterator[list[Grid]]:
    check_unpacked(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise UNREADABLE from error
    try:
        yield [Grid(ws.title, _xlsx_rows(ws)) for ws in workbook.worksheets]
    finally:
        workbook.close()


def _xlsx_rows(worksheet) -> Iterator[list[Any]]:
    # Some exporters declare a sheet's size as "A1": read what is there, not what it says.
    if hasattr(worksheet, "reset_dimensions"):
        worksheet.reset_dimensions()
    try:
        for row in worksheet.iter_rows(values_only=True):
            yield list(row)
    except FileRefusedError:
        raise
    except Exception as error:  # a broken sheet part, found only as it is read
        raise FileRefusedError(f"工作表“{worksheet.title}”已损坏，无法读取。") from error


def check_unpacked(path: Path) -> None:
    """Judge a zip by what its parts say they unpack to, before parsing any: too much in all,
    too many shared strings, or one part packed far tighter than an office file ever is."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise UNREADABLE from error
    if sum(part.file_size for part in parts) > MAX_UNPACKED:
        raise FileRefusedError("文件解压后超过 200 MB，请拆分后分批导入。")
    for part in parts:
        if part.filename.lower().endswith("sharedstrings.xml") and (
            part.file_size > MAX_SHARED_STRINGS
        ):
            raise FileRefusedError(
                f"文件中的文字表解压后有 {part.file_size // 1024 // 1024} MB，超过 40 MB，"
                "不像名册；请拆分后分批导入。"
            )
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise FileRefusedError(
                f"文件中的“{part.filename}”解压后是压缩时的 {part.file_size // max(part.compress_size, 1)} 倍，"
                "不像正常的 Excel 文件，已拒绝。"
            )


# --- .xls, .et and .ods through calamine -------------------------------------------------------


def _calamine(path: Path, kind: str) -> list[Grid]:
    """calamine builds each sheet whole, as wide and as tall as its farthest cell: how far the
    cells reach is measured first, from the file's own records, and a sheet spanning more
    than MAX_CELLS is refused before calamine is asked for it."""
    if kind == "ods":
        check_unpacked(path)
        _check_extent(_ods_extents(path))
    else:
        _check_extent(_xls_extents(path))
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return [Grid(name, _calamine_rows(workbook, name)) for name in workbook.sheet_names]
    except PasswordError as error:
        raise FileRefusedError(
            "文件设置了密码，无法读取。请在 Excel 或 WPS 中取消密码后再上传。"
        ) from error
    except (CalamineError, ValueError, OSError) as error:
        raise UNREADABLE from error


def _calamine_rows(workbook: CalamineWorkbook, name: str) -> Iterator[list[Any]]:
    try:
        sheet = workbook.get_sheet_by_name(name)
    except (CalamineError, ValueError) as error:
        raise FileRefusedError(f"工作表“{name}”已损坏，无法读取。") from error
    if sheet.height == 0:
        return
    # calamine starts a sheet at its first cell that holds anything: put back the rows and
    # columns before it, so rows and column letters are the spreadsheet's own.
    top = sheet.end[0] + 1 - sheet.height
    left = sheet.end[1] + 1 - sheet.width
    yield from ([] for _ in range(top))
    for row in sheet.iter_rows():
        yield [None] * left + [None if value == "" else value for value in row]


def _check_extent(extents: dict[str, tuple[int, int]]) -> None:
    for name, (rows, columns) in extents.items():
        if rows > MAX_ROWS:
            raise FileRefusedError(
                f"工作表“{name}”有 {rows:,} 行，超过 100,000 行，请拆分后分批导入。"
            )
        if rows * columns > MAX_CELLS:
            raise FileRefusedError(
                f"工作表“{name}”的内容铺到了第 {rows:,} 行、第 {columns:,} 列，"
                f"共约 {rows * columns:,} 个单元格，超过 {MAX_CELLS:,} 个，不像名册，已拒绝。"
            )


# BIFF records that hold a cell, with the row and the column first in their data.
XLS_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6, 0x0406}
XLS_MULRK, XLS_BOUNDSHEET = 0x00BD, 0x0085


def _xls_extents(path: Path) -> dict[str, tuple[int, int]]:
    """Each sheet's (last row, last column) that holds a value, read from the workbook
    stream's cell records (formatted empty cells, which calamine leaves out, are not counted).
    A sheet begins where the workbook's BOUNDSHEET record says it does."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            stream = "Workbook" if ole.exists("Workbook") else "Book"
            data = ole.openstream(stream).read()
        return _biff_extents(data, wide=stream == "Workbook")
    except Exception as error:  # olefile raises many kinds; struct.error for a cut record
        raise UNREADABLE from error


def _biff_extents(data: bytes, *, wide: bool) -> dict[str, tuple[int, int]]:
    starts: dict[int, str] = {}  # where each sheet's records begin → its name
    extents: dict[str, tuple[int, int]] = {}
    name, rows, columns, offset, end = "", 0, 0, 0, len(data) - 4
    unpack = struct.unpack_from
    while offset <= end:
        if offset in starts:
            if name:
                extents[name] = (rows, columns)
            name, rows, columns = starts[offset], 0, 0
        kind, size = unpack("<HH", data, offset)
        body = offset + 4
        if kind in XLS_CELLS and size >= 4:
            row, column = unpack("<HH", data, body)
            rows, columns = max(rows, row + 1), max(columns, column + 1)
        elif kind == XLS_MULRK and size >= 6:
            row, last = unpack("<H", data, body)[0], unpack("<H", data, body + size - 2)[0]
            rows, columns = max(rows, row + 1), max(columns, last + 1)
        elif kind == XLS_BOUNDSHEET and size >= 8:
            starts[unpack("<I", data, body)[0]] = _sheet_name(data[body + 6 : body + size], wide)
        offset = body + size
    if name:
        extents[name] = (rows, columns)
    return extents


def _sheet_name(record: bytes, wide: bool) -> str:
    """A BOUNDSHEET's name: a length, then (BIFF8) a flag saying whether its characters
    take one byte or two."""
    length = record[0]
    if wide and record[1] & 1:
        return record[2 : 2 + 2 * length].decode("utf-16-le", errors="replace")
    text = record[2 : 2 + length] if wide else record[1 : 1 + length]
    return text.decode("gb18030" if not wide else "latin-1", errors="replace")


ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_extents(path: Path) -> dict[str, tuple[int, int]]:
    """Each table's (last row, last column) holding a value, counting the repeats an .ods
    writes as attributes (a row repeated a million times is one element in the file)."""
    extents: dict[str, tuple[int, int]] = {}
    parser = XMLPullParser(events=("start", "end"))
    name, row, rows, columns, column, repeat = "", 0, 0, 0, 0, 1
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
            while chunk := content.read(1024 * 1024):
                parser.feed(chunk)
                for event, element in parser.read_events():
                    tag = element.tag
                    if tag == f"{ODS_TABLE}table":
                        if event == "start":
                            name, row, rows, columns = element.get(f"{ODS_TABLE}name", ""), 0, 0, 0
                        else:
                            extents[name] = (rows, columns)
                            element.clear()
                    elif tag == f"{ODS_TABLE}table-row" and event == "start":
                        repeat, column = int(element.get(f"{ODS_TABLE}number-rows-repeated", 1)), 0
                    elif tag == f"{ODS_TABLE}table-row":
                        row += repeat
                        element.clear()
                    elif tag in (f"{ODS_TABLE}table-cell", f"{ODS_TABLE}covered-table-cell") and (
                        event == "end"
                    ):
                        width = int(element.get(f"{ODS_TABLE}number-columns-repeated", 1))
                        if element.get(f"{ODS_OFFICE}value-type") or len(element):
                            rows, columns = row + repeat, max(columns, column + width)
                        column += width
                        element.clear()
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, SyntaxError) as error:
        raise UNREADABLE from error
    return extents


# --- CSV ---------------------------------------------------------------------------------------


@contextmanager
def _csv(path: Path) -> Iterator[list[Grid]]:
    """One sheet, named after the file. Its encoding is judged from a sample: a byte-order
    mark, else UTF-8 when the sample is valid UTF-8, else what charset-normalizer finds among
    the encodings Chinese offices write (GB18030, which holds GBK and GB2312, and Big5)."""
    with path.open("rb") as file:
        sample = file.read(SAMPLE)
    encoding = _encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    with path.open(encoding=encoding, newline="", errors="strict") as file:
        yield [Grid(path.stem, _csv_rows(file, _delimiter(text), encoding))]


def _encoding(sample: bytes) -> str:
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=["gb18030", "big5"]).best()
    if best is None:
        raise FileRefusedError("无法识别文件的文字编码。" + SAVE_AS)
    return "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else best.encoding


def _delimiter(text: str) -> str:
    """The sign, of , tab ; and |, that the most of the first lines hold (then the one that
    occurs most): csv.Sniffer gives up on a title row above the header and a total row
    below, which every office table has."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    score = {sign: (sum(sign in line for line in lines), text.count(sign)) for sign in ",\t;|"}
    best = max(score, key=score.__getitem__)
    return best if score[best][0] else ","


CODEC_NAMES = {
    "gb18030": "GB18030/GBK",
    "big5": "Big5",
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
}


def _csv_rows(file: io.TextIOWrapper, delimiter: str, encoding: str) -> Iterator[list[Any]]:
    reader = csv.reader(file, delimiter=delimiter)
    try:
        for row in reader:
            yield [value or None for value in row]
    except UnicodeDecodeError as error:
        line = _undecodable_line(Path(file.name), encoding) or reader.line_num + 1
        raise FileRefusedError(
            f"文件第 {line} 行有不是 {CODEC_NAMES.get(encoding, encoding)} 编码的文字，无法读取。"
            + SAVE_AS
        ) from error
    except csv.Error as error:
        raise FileRefusedError(
            f"文件第 {reader.line_num} 行不是正常的 CSV 内容，无法读取。"
        ) from error


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode: text is decoded in blocks, so the error itself
    does not say. A newline byte is never part of a character in the one-byte-unit encodings
    (UTF-8, GB18030, Big5); UTF-16 is not split this way."""
    if encoding.startswith("utf-16"):
        return None
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return None
