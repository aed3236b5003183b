from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.db import Audited, LabeledEnum, TimestampMixin, Versioned
from crm.extensions import db
from crm.organizations.models import District


class InstructorStatus(LabeledEnum):
    ACTIVE = "active", "在岗"
    LEFT = "left", "离岗"


class Instructor(Audited, Versioned, TimestampMixin, db.Model):
    """专职党建指导员: a professional instructor with an account, guiding 5–10 branches."""

    __tablename__ = "instructor"
    __audit_phones__ = frozenset({"phone"})

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    hired_on: Mapped[date]
    status: Mapped[InstructorStatus] = mapped_column(default=InstructorStatus.ACTIVE)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District] = relationship()

    def __str__(self) -> str:
        return self.account.name

    @property
    def name(self) -> str:
        return self.account.name
