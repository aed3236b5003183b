from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.branches.models import Branch
from crm.db import Audited, TimestampMixin
from crm.extensions import db
from crm.instructors.models import Instructor


class Assignment(Audited, TimestampMixin, db.Model):
    """联系指导: an instructor guiding a branch from `started_on` until `ended_on` (open: current).

    A branch has at most one current assignment; ended ones are kept as history.
    """

    __tablename__ = "assignment"
    __table_args__ = (
        sa.Index(
            "uq_assignment_current_branch",
            "branch_id",
            unique=True,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        ),
        sa.Index("ix_assignment_instructor_current", "instructor_id", "ended_on"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    end_reason: Mapped[str] = mapped_column(sa.String(100), default="")

    instructor: Mapped[Instructor] = relationship()
    branch: Mapped[Branch] = relationship()

    def __str__(self) -> str:
        return f"{self.instructor} → {self.branch}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None
