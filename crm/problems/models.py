from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin, utcnow
from crm.extensions import db


class ProblemCategory(LabeledEnum):
    BASICS = "basics", "党建基础工作"
    ORGANIZATION_LIFE = "org_life", "组织生活"
    RECRUITMENT = "recruitment", "发展党员"
    BUSINESS = "business", "经营发展"
    FINANCING = "financing", "融资"
    HIRING = "hiring", "用工招工"
    POLICY = "policy", "政策咨询"
    DISPUTE = "dispute", "矛盾纠纷"
    OTHER = "other", "其他"


class ProblemStatus(LabeledEnum):
    OPEN = "open", "待办"
    COORDINATING = "coordinating", "协调中"
    SOLVED = "solved", "已解决"
    UNSOLVABLE = "unsolvable", "无法解决"

    @property
    def is_closed(self) -> bool:
        return self in (ProblemStatus.SOLVED, ProblemStatus.UNSOLVABLE)


OPEN_STATUSES = (ProblemStatus.OPEN, ProblemStatus.COORDINATING)


class Problem(Audited, TimestampMixin, db.Model):
    """问题台账: a problem a branch raised, with who answers for it and when it is due.

    待办 → 协调中 → 已解决, or 无法解决 with a reason; every change is a ProblemStep. A
    problem is closed exactly when it has a closing date (problems.services.advance sets
    both; the database refuses them apart).
    """

    __tablename__ = "problem"
    __table_args__ = (
        sa.Index("ix_problem_branch_status_due", "branch_id", "status", "due_on"),
        # The review's counts by period, and the share of a period's problems solved by its
        # end, from the index alone.
        sa.Index(
            "ix_problem_raised_on_status_closed", "raised_on", "status", "closed_on", "branch_id"
        ),
        sa.Index("ix_problem_closed_on", "closed_on"),
        # Each branch's problems by day, with their status: the caseload's problems by holder.
        sa.Index("ix_problem_branch_raised_on_status", "branch_id", "raised_on", "status"),
        sa.Index("ix_problem_branch_closed_on", "branch_id", "closed_on"),
        sa.Index("ix_problem_raised_by_raised_on", "raised_by_id", "raised_on"),
        # Open problems past their due date, with their branch: the overdue alert from the index.
        sa.Index("ix_problem_status_due_branch", "status", "due_on", "branch_id"),
        sa.CheckConstraint(
            "(status IN ('solved', 'unsolvable')) = (closed_on IS NOT NULL)",
            name="status_agrees_with_closed_on",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    raised_on: Mapped[date]
    category: Mapped[ProblemCategory]
    description: Mapped[str] = mapped_column(sa.Text)
    responsible: Mapped[str] = mapped_column(sa.String(50), default="")
    department: Mapped[str] = mapped_column(sa.String(100), default="")
    due_on: Mapped[date]
    status: Mapped[ProblemStatus] = mapped_column(default=ProblemStatus.OPEN)
    resolution: Mapped[str] = mapped_column(sa.Text, default="")
    closed_on: Mapped[date | None]

    branch: Mapped[Branch] = relationship()
    visit: Mapped["Visit | None"] = relationship(back_populates="problems")  # noqa: F821
    raised_by: Mapped[Account] = relationship()
    steps: Mapped[list["ProblemStep"]] = relationship(
        back_populates="problem", order_by="ProblemStep.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.category.label}：{self.description[:30]}"

    def is_overdue(self, today: date) -> bool:
        """problems.services.overdue_at(today), for one problem already loaded."""
        return not self.status.is_closed and self.due_on < today


class ProblemStep(Audited, db.Model):
    """问题处理记录: one change of a problem's status, with its note, date and who made it."""

    __tablename__ = "problem_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ProblemStatus | None]
    to_status: Mapped[ProblemStatus]
    note: Mapped[str] = mapped_column(sa.Text)
    on: Mapped[date]
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    problem: Mapped[Problem] = relationship(back_populates="steps")
    by: Mapped[Account] = relationship()

    def __str__(self) -> str:
        return f"{self.to_status.label}：{self.note[:30]}"
