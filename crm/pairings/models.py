from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin
from crm.extensions import db


class PairingStatus(LabeledEnum):
    ACTIVE = "active", "在册"
    ENDED = "ended", "已结束"


class Pairing(Audited, TimestampMixin, db.Model):
    """结对共建: an agency branch paired with a two-new branch (many-to-many).

    Its status is derived from its dates, never stored apart from them: 已结束 once it has an
    end date (an end date is never later than the day it is entered), 在册 before. In force
    for closed months from the day it was entered, or, entered as history (imported at
    go-live, or kept from a release that counted that way), from `started_on`.
    """

    __tablename__ = "pairing"
    __table_args__ = (sa.UniqueConstraint("agency_branch_id", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    entered_as_history: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    agency_branch: Mapped[Branch] = relationship(foreign_keys=[agency_branch_id])
    branch: Mapped[Branch] = relationship(foreign_keys=[branch_id])
    activities: Mapped[list["PairingActivity"]] = relationship(
        back_populates="pairing", order_by="PairingActivity.held_on.desc()"
    )

    def __str__(self) -> str:
        return f"{self.agency_branch} ⇄ {self.branch}"

    @hybrid_property
    def status(self) -> PairingStatus:
        return PairingStatus.ACTIVE if self.ended_on is None else PairingStatus.ENDED

    @status.inplace.expression
    @classmethod
    def _status_expression(cls) -> sa.ColumnElement[str]:
        return sa.case(
            (cls.ended_on.is_(None), PairingStatus.ACTIVE.value), else_=PairingStatus.ENDED.value
        )


class ActivityKind(LabeledEnum):
    JOINT_LIFE = "joint_life", "组织生活共过"
    POLICY = "policy", "政策宣讲"
    VOLUNTEER = "volunteer", "志愿服务"
    SUPPORT = "support", "资源帮扶"
    TRAINING = "training", "培训交流"
    OTHER = "other", "其他"


class PairingActivity(Audited, TimestampMixin, db.Model):
    """共建活动: something the paired branches did together, what was given and how many it
    reached. `client_key` is made on the phone, as for visits."""

    __tablename__ = "pairing_activity"
    __table_args__ = (sa.UniqueConstraint("created_by_id", "client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("pairing.id"), index=True)
    held_on: Mapped[date]
    kind: Mapped[ActivityKind]
    description: Mapped[str] = mapped_column(sa.Text)
    resources: Mapped[str] = mapped_column(sa.String(200), default="")
    people_reached: Mapped[int] = mapped_column(default=0)
    client_key: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))

    pairing: Mapped[Pairing] = relationship(back_populates="activities")

    def __str__(self) -> str:
        return f"{self.kind.label} {self.held_on:%Y-%m-%d}"
