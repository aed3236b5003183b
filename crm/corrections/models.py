from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.branches.models import Branch
from crm.db import utcnow
from crm.extensions import db


class Correction(db.Model):
    """更正记录: one change to a settled record, or a withdrawal of any record. The record keeps
    its current values; these rows, numbered, are how it came to them: what each field was and
    became, why, who, when. `late` is 补录: the record's month had closed, so the change shows
    in that month's next report and its diff."""

    __tablename__ = "correction"
    __table_args__ = (
        sa.UniqueConstraint("object_type", "object_id", "number"),
        sa.Index("ix_correction_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))  # the record's table
    object_id: Mapped[int]
    number: Mapped[int]  # the version this change made; the record as first saved is version 1
    what: Mapped[str] = mapped_column(sa.String(200))  # the record as people name it
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    day: Mapped[date]  # the record's own date (held on, done on, noted on)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    late: Mapped[bool] = mapped_column(default=False)  # 补录: made after the month closed
    reason: Mapped[str] = mapped_column(sa.String(200))
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)  # [[field, before, after], …]
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))

    branch: Mapped[Branch] = relationship()
    by: Mapped[Account] = relationship()

    def __str__(self) -> str:
        return f"{self.what} 第 {self.number} 版"

    @property
    def summary(self) -> str:
        """What changed, in a line: "积分由 5 改为 3；日期由 … 改为 …", or 撤回."""
        if self.withdrawn:
            return "撤回"
        return "；".join(f"{name}由“{before}”改为“{after}”" for name, before, after in self.changes)
