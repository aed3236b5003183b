"""Import a spreadsheet (first dry, then for real, in one transaction) and write lists out."""

import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from openpyxl import Workbook

from crm.extensions import db
from crm.transfer import excel
from crm.transfer.importers import KINDS, Importer, RowError


@dataclass(frozen=True)
class Problem:
    """A row that cannot be imported: where it is, what it holds, and why, in Chinese."""

    sheet: str
    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class Note:
    """What the preview says about a sheet or a row that is not an error: a sheet ignored, a
    total row skipped, a renamed county read under its new name."""

    sheet: str
    row: int
    text: str


@dataclass
class SheetReport:
    """What the preview says of one sheet, in the spreadsheet's own row numbers: which rows
    were read, how many were skipped or refused, and what its records will do."""

    name: str
    ignored: bool = False
    header: int = 0  # the header's row; 0 when the sheet has none of ours
    last: int = 0  # the last row read
    skipped: int = 0
    refused: int = 0
    counts: Counter = field(default_factory=Counter)  # created, updated, unchanged, duplicate

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_read(self) -> str:
        if self.ignored or not self.header:
            return "未读取"
        if self.last <= self.header:
            return f"表头在第 {self.header} 行，其下没有数据"
        return f"第 {self.header + 1}–{self.last} 行"

    @property
    def line(self) -> str:
        """The sheet in one line, for the command line."""
        if self.ignored:
            return f"工作表“{self.name}”：表头与模板不符，未读取"
        c = self.counts
        return (
            f"工作表“{self.name}”：读取{self.rows_read}，记录 {self.records} 条（新增 "
            f"{c['created']}，更新 {c['updated']}，未变 {c['unchanged']}，重复 {c['duplicate']}），"
            f"跳过 {self.skipped} 行，有问题 {self.refused} 行"
        )


@dataclass
class Result:
    kind: str
    counts: Counter = field(default_factory=Counter)  # created, updated, unchanged, duplicate
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sheets: list[SheetReport] = field(default_factory=list)
    committed: bool = False

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return not self.problems


class UnknownKindError(ValueError):
    pass


def importer_for(kind: str, *, history: bool = False) -> Importer:
    if kind not in KINDS:
        raise UnknownKindError(f"不能导入“{kind}”，可选：{'、'.join(KINDS)}")
    return KINDS[kind][1](history=history)


def read_and_apply(
    kind: str,
    path: Path,
    progress: Callable[[int], None] | None = None,
    *,
    history: bool = False,
) -> Result:
    """Read the file and apply every row in the session's transaction, flushed, neither
    committed nor rolled back: transfer.tasks ends it. Rows are applied as they are read;
    `progress` is told of each. On any error the transaction is rolled back. `history`: the
    records it creates are the go-live import of what was there (Importer.history).

    Raises excel.FileRefusedError for a file that cannot be read or passes a limit.
    """
    importer = importer_for(kind, history=history)
    result = Result(kind)
    try:
        for sheet in excel.read(path, importer.columns):
            report = SheetReport(sheet.name, ignored=sheet.ignored, header=sheet.header)
            result.sheets.append(report)
            if sheet.ignored:
                result.notes.append(
                    Note(sheet.name, 0, f"工作表“{sheet.name}”的表头与模板不符，不是数据表，已忽略")
                )
                continue
            if sheet.missing:
                result.problems.append(
                    Problem(sheet.name, 0, "", "", f"缺少列：{'、'.join(sheet.missing)}")
                )
                continue
            notes, problems = len(result.notes), len(result.problems)
            for row in sheet.rows:
                _apply(importer, row, result, report)
                if progress:
                    progress(1)
            result.notes += [
                Note(sheet.name, s.number, f"第 {s.number} 行是{s.reason}，已跳过")
                for s in sheet.skipped
            ]
            result.notes[notes:] = sorted(result.notes[notes:], key=lambda note: note.row)
            report.last, report.skipped = sheet.read, len(sheet.skipped)
            report.refused = len(result.problems) - problems
        if not any(not report.ignored for report in result.sheets):
            titles = "、".join(c.title for c in importer.columns if c.required)
            result.problems.append(Problem("", 0, "", "", f"没有找到表头，应包含：{titles}"))
        db.session.flush()
    except BaseException:
        db.session.rollback()
        raise
    return result


def _apply(importer: Importer, row: excel.Row, result: Result, report: SheetReport) -> None:
    try:
        with db.session.no_autoflush:
            outcome = importer.apply(row)
        result.counts[outcome] += 1
        report.counts[outcome] += 1
        result.notes += [Note(row.sheet, row.number, text) for text in importer.take_notes()]
    except RowError as error:
        title = next((c.title for c in importer.columns if c.key == error.column), "")
        letter = row.letters.get(error.column, "")
        value = row.text(error.column) if error.column in row.values else ""
        result.problems.append(
            Problem(row.sheet, row.number, f"{letter} {title}".strip(), value, error.reason)
        )


def summary(result: Result, path: Path) -> str:
    c = result.counts
    return (
        f"{path.name}：新增 {c['created']}，更新 {c['updated']}，未变 {c['unchanged']}，"
        f"重复 {c['duplicate']}"
    )[:200]


def template(kind: str) -> bytes:
    """A workbook with the kind's headers and one example row, to fill in."""
    importer = KINDS[kind][1]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = KINDS[kind][0]
    sheet.append([c.title + ("*" if c.required else "") for c in importer.columns])
    sheet.append(importer.sample)
    for index, column in enumerate(importer.columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
            12, len(column.title) * 3
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def uploads_folder() -> Path:
    """Where a spreadsheet waits between its preview and the admin's confirmation (UPLOADS_DIR:
    shared by every server, as MEDIA_DIR is)."""
    folder = Path(current_app.config["UPLOADS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_uploads(older_than: timedelta) -> int:
    """Delete spreadsheets whose preview was never confirmed, older than `older_than`."""
    cutoff = time.time() - older_than.total_seconds()
    gone = [p for p in uploads_folder().iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)
