from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin, Versioned
from crm.extensions import db


class MemberRole(LabeledEnum):
    SECRETARY = "secretary", "书记"
    COMMITTEE = "committee", "委员"
    MEMBER = "member", "党员"


class Member(Audited, Versioned, TimestampMixin, db.Model):
    """党员: a party member of a branch, and whether they are the owner, a manager or a staff
    representative. Deliberately no ID-card number or anything more personal."""

    __tablename__ = "member"
    __audit_phones__ = frozenset({"phone"})
    __table_args__ = (sa.Index("ix_member_branch_active", "branch_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    name: Mapped[str] = mapped_column(sa.String(50))
    role: Mapped[MemberRole] = mapped_column(default=MemberRole.MEMBER)
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    joined_on: Mapped[date | None]
    is_owner: Mapped[bool] = mapped_column(default=False)
    is_manager: Mapped[bool] = mapped_column(default=False)
    is_staff_rep: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]  # 转出: the day the member left the branch (active is then False)

    branch: Mapped[Branch] = relationship()

    def __str__(self) -> str:
        return self.name

    @property
    def standing(self) -> list[str]:
        """业主 / 管理人员 / 职工代表, as they apply."""
        return [
            label
            for flag, label in (
                (self.is_owner, "业主"),
                (self.is_manager, "管理人员"),
                (self.is_staff_rep, "职工代表"),
            )
            if flag
        ]
