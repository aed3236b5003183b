"""Reading the spreadsheets people really keep: a title above the header, merged header cells,
headers in any order and any width of characters, dates typed three ways, trailing spaces."""

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
HEADER_SEARCH_ROWS = 15


class FileRefusedError(ValueError):
    """The file cannot be read as a spreadsheet of ours; the message says why, in Chinese."""


@dataclass(frozen=True)
class Column:
    """A column we read: its key, the header texts that name it, and whether it is required."""

    key: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def title(self) -> str:
        return self.headers[0]


@dataclass
class Row:
    sheet: str
    number: int  # as Excel numbers rows
    values: dict[str, Any]
    letters: dict[str, str]  # column key → column letter, for messages

    def text(self, key: str) -> str:
        return clean_text(self.values.get(key))


@dataclass
class Sheet:
    name: str
    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required headers not found
    read: int = 0  # rows read, blank ones included


# Full-width digits, Latin letters, spaces and the signs dates and codes use, made half-width.
# Chinese punctuation such as （） stays: it belongs to names like 腾讯科技（深圳）有限公司.
HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "\u3000": " ", "\uff0d": "-", "\uff0f": "/", "\uff0e": ".", "\uff0c": ","}
)  # fmt: skip


def clean_text(value: Any) -> str:
    """Full-width digits, letters and spaces made half-width, no leading or trailing spaces,
    whole numbers without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value).translate(HALF_WIDTH).strip()


def header_key(text: Any) -> str:
    """How a header is compared: fully half-width, no spaces, no notes in brackets, no * marks."""
    plain = unicodedata.normalize("NFKC", clean_text(text))
    plain = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", plain)
    return re.sub(r"[\s*＊:：]", "", plain)


DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date(value: Any) -> date | None:
    """A date from an Excel date or from text like 2022-06-20, 2022/6/20 or 2022年6月20日.
    Raises ValueError for text that is none of these; None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = re.sub(r"\s", "", clean_text(value))
    for pattern in DATE_PATTERNS:
        if match := pattern.match(text):
            return date(*map(int, match.groups()))
    raise ValueError(f"“{text}”不是日期，请写成 2022-06-20、2022/6/20 或 2022年6月20日")


def parse_int(value: Any) -> int | None:
    if value is None or clean_text(value) == "":
        return None
    text = clean_text(value).replace(",", "")
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"“{text}”不是整数")
    return int(text)


YES = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
NO = {"否", "n", "no", "false", "0", "×", "", "不是"}


def parse_bool(value: Any) -> bool:
    text = clean_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"“{text}”请填“是”或“否”")


def check_file(path: Path) -> None:
    """Refuse what is not an .xlsx we can read: by name, size and content."""
    if path.suffix.lower() != ".xlsx":
        raise FileRefusedError("请上传 .xlsx 格式的 Excel 文件（旧的 .xls 请先另存为 .xlsx）。")
    if path.stat().st_size > MAX_BYTES:
        raise FileRefusedError("文件超过 20 MB，请拆分后分批导入。")
    if not zipfile.is_zipfile(path):
        raise FileRefusedError("文件已损坏或不是 Excel 文件，无法读取。")


def read(path: Path, columns: list[Column]) -> Iterator[Sheet]:
    """Each worksheet of the workbook that holds our columns, its rows keyed by column."""
    check_file(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileRefusedError("文件已损坏或不是 Excel 文件，无法读取。") from error
    try:
        # The size a sheet declares, when it does; rows are counted while read all the same.
        if sum((ws.max_row or 0) for ws in workbook.worksheets) > MAX_ROWS:
            raise TOO_MANY
        seen = 0
        for worksheet in workbook.worksheets:
            sheet = _read_sheet(worksheet, columns, MAX_ROWS - seen)
            if sheet is not None:
                seen += sheet.read
                yield sheet
    finally:
        workbook.close()


TOO_MANY = FileRefusedError("文件超过 100,000 行，请拆分后分批导入。")


def _read_sheet(worksheet, columns: list[Column], allowed: int) -> Sheet | None:
    rows = worksheet.iter_rows(values_only=True)
    head = [list(row) for _, row in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
    found = _find_header(head, columns)
    if found is None:  # not a sheet of ours, but it counts towards the file's size
        for count, _ in enumerate(rows, start=len(head) + 1):
            if count > allowed:
                raise TOO_MANY
        return None
    header_index, positions = found
    sheet = Sheet(worksheet.title)
    sheet.missing = [c.title for c in columns if c.required and c.key not in positions]
    letters = {key: get_column_letter(index + 1) for key, index in positions.items()}
    data = head[header_index + 1 :]
    for offset, values in enumerate(_chain(data, rows), start=header_index + 2):
        if offset > allowed:
            raise TOO_MANY
        sheet.read = offset
        if values is None or all(clean_text(v) == "" for v in values):
            continue
        picked = {key: values[index] if index < len(values) else None
                  for key, index in positions.items()}  # fmt: skip
        sheet.rows.append(Row(sheet.name, offset, picked, letters))
    return sheet


def _chain(first: list, rest) -> Iterator:
    yield from first
    yield from rest


def _find_header(head: list[list], columns: list[Column]) -> tuple[int, dict[str, int]] | None:
    """The row that names most of our columns. A cell merged down from the row above is
    empty in this row, so its text is taken from above; a group title merged across the
    columns above does not get in the way."""
    names = {header_key(h): c.key for c in columns for h in c.headers}
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(head):
        above = head[index - 1] if index else []
        positions: dict[str, int] = {}
        for column, value in enumerate(row):
            text = value if clean_text(value) else (above[column] if column < len(above) else None)
            key = names.get(header_key(text))
            if key is not None and key not in positions:
                positions[key] = column
        if positions and (best is None or len(positions) > len(best[1])):
            best = (index, positions)
    return best
