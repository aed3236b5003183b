from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin
from crm.extensions import db


class PairingStatus(LabeledEnum):
    ACTIVE = "active", "在册"
    ENDED = "ended", "已结束"


class Pairing(Audited, TimestampMixin, db.Model):
    """结对共建: an agency branch paired with a two-new branch (many-to-many)."""

    __tablename__ = "pairing"
    __table_args__ = (sa.UniqueConstraint("agency_branch_id", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    status: Mapped[PairingStatus] = mapped_column(default=PairingStatus.ACTIVE)
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")

    agency_branch: Mapped[Branch] = relationship(foreign_keys=[agency_branch_id])
    branch: Mapped[Branch] = relationship(foreign_keys=[branch_id])

    def __str__(self) -> str:
        return f"{self.agency_branch} ⇄ {self.branch}"
