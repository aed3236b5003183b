"""Reading the spreadsheets people really keep: a title above the header, merged header cells,
headers in any order and any width of characters, dates typed three ways, trailing spaces."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from crm.transfer import formats
from crm.transfer.formats import MAX_FILLED, MAX_ROWS, FileRefusedError

__all__ = ["FileRefusedError"]

HEADER_SEARCH_ROWS = 15


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

    def name(self, key: str) -> str:
        """A name (of a person, an organization, a branch): the text without the spaces typed
        between Chinese characters to line names up ("刘　军" is 刘军); a space next to a Latin
        letter or a digit is kept ("ABC Technology", "8 号")."""
        return close_cjk_spaces(self.text(key))


@dataclass(frozen=True)
class Skipped:
    """A row read and left out on purpose, with why (a total, a footnote, a 序号 alone)."""

    number: int
    reason: str


@dataclass
class Sheet:
    """A sheet of the file. Its records are read as `rows` is iterated, once; `read` (the last
    row reached) and `skipped` grow as they are."""

    name: str
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    missing: list[str] = field(default_factory=list)  # required headers not found
    ignored: bool = False  # not a data sheet: its header matches too little
    header: int = 0  # the header's row number
    read: int = 0  # the last row read, blank ones included
    skipped: list[Skipped] = field(default_factory=list)
    matched: int = 0  # how many of our columns its header names


# Full-width digits, Latin letters, spaces and the signs dates and codes use, made half-width.
# Chinese punctuation such as （） stays: it belongs to names like 腾讯科技（深圳）有限公司.
HALF_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "\u3000": " ",
        "\uff0d": "-",
        "\uff0f": "/",
        "\uff0e": ".",
        "\uff0c": ",",
    }
)


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


CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_SPACES = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")


def close_cjk_spaces(text: str) -> str:
    return _CJK_SPACES.sub("", text)


# Rows offices put inside or under a table that are not records (issue 18.1).
TOTALS = ("合计", "小计", "总计", "累计")
NOTES = (
    "注：",
    "注:",
    "注 ",
    "备注：",
    "备注:",
    "说明：",
    "说明:",
    "填表人",
    "审核人",
    "制表人",
    "制表日期",
    "填报日期",
    "填表日期",
    "填报单位",
    "负责人：",
    "联系人：",
    "联系电话：",
)


def not_a_record(values: list[Any]) -> str | None:
    """Why a row is not a record, or None: a total, a footnote, a 序号 with nothing else."""
    texts = [re.sub(r"\s", "", clean_text(v)) for v in values if clean_text(v)]
    if not texts:
        return None
    if any(t.startswith(TOTALS) for t in texts[:3]):
        return "合计行"
    if texts[0].startswith(NOTES) or (len(texts) == 1 and texts[0].startswith(("注", "*", "※"))):
        return "表下的注释"
    if len(texts) == 1 and texts[0].isdigit():
        return "只有序号的空行"
    return None


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
            year, month, day = map(int, match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(
                    f"“{text}”不是存在的日期（{year} 年 {month} 月没有 {day} 日）"
                ) from None
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


def read(path: Path, columns: list[Column]) -> Iterator[Sheet]:
    """Each sheet of the file (.xlsx, .xls, .ods or CSV, see formats), the data sheets with
    their rows keyed by column and read as they are iterated: memory stays flat in the
    number of rows. Reading stops at the first limit it meets, with a FileRefusedError."""
    with formats.open_book(path) as grids:
        budget = [MAX_ROWS]  # rows left to read, over all sheets
        sheets = [_start(grid, columns, budget) for grid in grids]
        yield from choose(sheets)


def choose(found: list[Sheet]) -> list[Sheet]:
    """The data sheets, by how well their header matches (issue 18.3): every sheet whose
    header names all the required columns; when none does, the best match alone, so its
    missing columns are named. Any other sheet (a 填表说明 laid out as 字段 | 说明) is
    returned as ignored: no rows, and `ignored` set."""
    candidates = [sheet for sheet in found if sheet.matched]
    complete = [sheet for sheet in candidates if not sheet.missing]
    if not complete and candidates:
        complete = [max(candidates, key=lambda sheet: sheet.matched)]
    for sheet in found:
        if sheet not in complete:
            sheet.rows, sheet.ignored = iter(()), True
    return found


def _start(grid: formats.Grid, columns: list[Column], budget: list[int]) -> Sheet:
    """A sheet with its header found in its first rows; its records are left to be read."""
    rows = _bounded(grid, budget)
    head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
    found = _find_header(head, columns)
    if found is None:
        return Sheet(grid.name, ignored=True, read=len(head))
    header_index, positions = found
    sheet = Sheet(grid.name, matched=len(positions), header=header_index + 1, read=len(head))
    sheet.missing = [c.title for c in columns if c.required and c.key not in positions]
    sheet.rows = _records(
        sheet, _chain(head[header_index + 1 :], rows), header_index + 2, positions
    )
    return sheet


def _records(
    sheet: Sheet, rows: Iterator[list], first: int, positions: dict[str, int]
) -> Iterator[Row]:
    letters = {key: get_column_letter(index + 1) for key, index in positions.items()}
    for number, values in enumerate(rows, start=first):
        sheet.read = max(sheet.read, number)
        if all(clean_text(v) == "" for v in values):
            continue
        if why := not_a_record(values):
            sheet.skipped.append(Skipped(number, why))
            continue
        picked = {
            key: values[index] if index < len(values) else None for key, index in positions.items()
        }
        yield Row(sheet.name, number, picked, letters)


def _bounded(grid: formats.Grid, budget: list[int]) -> Iterator[list]:
    """The grid's rows, stopping the whole read at the first row past the file's row budget
    or holding more values than any list of ours has columns (issue 18.13)."""
    for number, values in enumerate(grid.rows, start=1):
        budget[0] -= 1
        if budget[0] < 0:
            raise FileRefusedError(TOO_MANY)
        filled = sum(1 for v in values if v is not None and v != "")
        if filled > MAX_FILLED:
            raise FileRefusedError(
                f"工作表“{grid.name}”第 {number} 行有 {filled:,} 个填了内容的单元格，"
                f"超过 {MAX_FILLED} 个，不像名册；请删去多余的列后再导入。"
            )
        yield values


TOO_MANY = "文件超过 100,000 行，请拆分后分批导入。"


def _chain(first: list, rest: Iterator) -> Iterator:
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
