from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin, Withdrawable
from crm.extensions import db
from crm.members.models import Member
from crm.photos.models import Photo


class MeetingKind(LabeledEnum):
    """三会: the three meetings of the 赣州 practice."""

    DECISION = "decision", "列席决策层会议"
    DIALOGUE = "dialogue", "民主恳谈会"
    OWNER = "owner", "业主列席党组织会议"

    @property
    def full_name(self) -> str:
        return {
            MeetingKind.DECISION: "党组织负责人参加（列席）企业决策层会议",
            MeetingKind.DIALOGUE: "党员和职工（代表）民主恳谈会",
            MeetingKind.OWNER: "非党员业主列席党组织会议",
        }[self]


meeting_attendee = sa.Table(
    "meeting_attendee",
    db.metadata,
    sa.Column("meeting_id", sa.ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("member.id"), primary_key=True),
)

meeting_photo = sa.Table(
    "meeting_photo",
    db.metadata,
    sa.Column("meeting_id", sa.ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("photo_id", sa.ForeignKey("photo.id"), primary_key=True, unique=True),
)


class Meeting(Audited, Withdrawable, TimestampMixin, db.Model):
    """三会记录: one meeting of the three kinds, who attended, what was discussed and decided.

    `client_key` is made on the phone, as for visits: the same form sent twice is one record.
    Corrected in place by its author until its month closes, then only with a reason, as a
    version (crm.corrections); withdrawn, it is kept and counts nowhere (`standing`).
    """

    __tablename__ = "meeting"
    __table_args__ = (
        sa.UniqueConstraint("created_by_id", "client_key"),
        sa.Index("ix_meeting_branch_kind_held_on", "branch_id", "kind", "held_on"),
        sa.Index("ix_meeting_held_on", "held_on"),
        sa.Index("ix_meeting_branch_held_on", "branch_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    kind: Mapped[MeetingKind]
    held_on: Mapped[date]
    topics: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    other_attendees: Mapped[str] = mapped_column(sa.String(200), default="")
    client_key: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    backfilled: Mapped[bool] = mapped_column(default=False)  # 补录: recorded long after it was held

    branch: Mapped[Branch] = relationship()
    created_by: Mapped[Account] = relationship(foreign_keys=[created_by_id])
    attendees: Mapped[list[Member]] = relationship(secondary=meeting_attendee, order_by=Member.name)
    photos: Mapped[list[Photo]] = relationship(secondary=meeting_photo, order_by=Photo.id)

    def __str__(self) -> str:
        return f"{self.kind.label} {self.held_on:%Y-%m-%d}"
