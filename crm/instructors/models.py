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
    """专职党建指导员: a professional instructor with an account, guiding 5–10 branches.

    In post (在岗) from the later of `hired_on` and the day they were entered (`created_at`),
    until `left_on` (离岗); one entered as history (`entered_as_history`: imported at go-live,
    or kept from a release that counted that way) from `hired_on` alone. `status` and `left_on` are set together by
    crm.instructors.services.set_status, and the database refuses them apart.
    """

    __tablename__ = "instructor"
    __audit_phones__ = frozenset({"phone"})
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'left') = (left_on IS NOT NULL)", name="status_agrees_with_left_on"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    hired_on: Mapped[date]
    status: Mapped[InstructorStatus] = mapped_column(default=InstructorStatus.ACTIVE)
    left_on: Mapped[date | None]
    entered_as_history: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District] = relationship()

    def __str__(self) -> str:
        return self.account.name

    @property
    def name(self) -> str:
        return self.account.name
