from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.db import Audited, LabeledEnum, utcnow
from crm.extensions import db


class ReportKind(LabeledEnum):
    INSTRUCTOR = "instructor", "指导员工作月报"
    DISTRICT = "district", "县（市、区）工作月报"
    CITY = "city", "全市工作月报"


class Report(Audited, db.Model):
    """One version of one monthly report: the PDF on disk, and what proves it unchanged.

    `subject` names what it is about ("instructor:12", "district:3", "city"); making a report
    again adds a version and keeps the old ones.
    """

    __tablename__ = "report"
    __table_args__ = (
        sa.UniqueConstraint("subject", "month", "version"),
        sa.Index("ix_report_month_kind", "month", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReportKind]
    subject: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(100))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("district.id"))
    instructor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("instructor.id"), index=True)
    month: Mapped[date]  # the first day of the month reported on
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    path: Mapped[str] = mapped_column(sa.String(200))  # under REPORTS_DIR
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    made_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))  # None: schedule
    # The report's figures as tables (crm.reports.tables), the .xlsx beside the PDF holds them.
    figures: Mapped[list | None] = mapped_column(sa.JSON)
    # What differs from the version before (None for the first; [] when no figure does).
    changes: Mapped[list | None] = mapped_column(sa.JSON)
    same_as_previous: Mapped[bool] = mapped_column(default=False)  # byte-identical PDF

    made_by: Mapped[Account | None] = relationship()

    def __str__(self) -> str:
        return f"{self.title} {self.month:%Y-%m} 第 {self.version} 版"

    @property
    def xlsx_path(self) -> str:
        return self.path.removesuffix(".pdf") + ".xlsx"

    @property
    def change_summary(self) -> str:
        """How this version compares with the one before, in a sentence."""
        if self.version == 1 or self.changes is None:
            return "第 1 版。"
        if self.same_as_previous:
            return f"与第 {self.version - 1} 版完全相同（SHA-256 一致）。"
        if not self.changes:
            return f"与第 {self.version - 1} 版的数字相同，仅版式或文字有差别。"
        return f"与第 {self.version - 1} 版相比有 {len(self.changes)} 处变化。"


class ScheduledReport(db.Model):
    """The scheduler's claim on one report of one month: inserted before the report is made,
    so two schedulers (or one restarted) make it once."""

    __tablename__ = "scheduled_report"
    __table_args__ = (sa.UniqueConstraint("subject", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(40))
    month: Mapped[date]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report.id"))


class BatchStatus(LabeledEnum):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ReportBatch(Audited, db.Model):
    """A whole month's reports asked for from the web: the scheduler process picks it up and
    counts its progress here, which the reports page shows."""

    __tablename__ = "report_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    status: Mapped[BatchStatus] = mapped_column(default=BatchStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    requested_by: Mapped[Account] = relationship()

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} 整月月报"
