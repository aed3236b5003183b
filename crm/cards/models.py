from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin, Withdrawable
from crm.extensions import db
from crm.members.models import Member


class Rating(LabeledEnum):
    EXCELLENT = "excellent", "优秀"
    GOOD = "good", "良好"
    FAIR = "fair", "一般"
    POOR = "poor", "较差"


class GoalCard(Audited, TimestampMixin, db.Model):
    """党组织书记履职目标卡: a secretary's goals for a year of their term in a branch, progress
    through it, the year-end self-assessment and the instructor's rating. A rated card is
    locked until a reviewer unlocks it; a card whose secretary was replaced (换届) is closed on
    that day and a new secretary's card opens with the same goals."""

    __tablename__ = "goal_card"
    __table_args__ = (sa.UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"))
    year: Mapped[int]
    self_assessment: Mapped[str] = mapped_column(sa.Text, default="")
    assessed_on: Mapped[date | None]
    rating: Mapped[Rating | None]
    rating_comment: Mapped[str] = mapped_column(sa.Text, default="")
    rated_on: Mapped[date | None]
    rated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    locked: Mapped[bool] = mapped_column(default=False)
    # 换届: the secretary's term ended in the card's year; the card is then read-only.
    term_ended_on: Mapped[date | None]
    # The last unlock: the rating above it no longer stands until the card is rated again.
    unlocked_on: Mapped[date | None]
    unlocked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    unlock_reason: Mapped[str] = mapped_column(sa.String(200), default="")

    branch: Mapped[Branch] = relationship()
    member: Mapped[Member] = relationship()
    rated_by: Mapped[Account | None] = relationship(foreign_keys=[rated_by_id])
    unlocked_by: Mapped[Account | None] = relationship(foreign_keys=[unlocked_by_id])
    goals: Mapped[list["Goal"]] = relationship(order_by="Goal.id", cascade="all, delete-orphan")
    notes: Mapped[list["GoalNote"]] = relationship(
        order_by="GoalNote.noted_on, GoalNote.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.year} 年履职目标卡（{self.member_id}）"

    @property
    def reopened(self) -> bool:
        """Unlocked after a rating, and not rated again since: the old rating does not stand."""
        return not self.locked and self.unlocked_on is not None


class Goal(Audited, Withdrawable, db.Model):
    """履职目标: one goal of a card, with its target and how it is measured."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goal_card.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    measure: Mapped[str] = mapped_column(sa.String(200), default="")

    def __str__(self) -> str:
        return self.title


class GoalNote(Audited, Withdrawable, db.Model):
    """履职进展: a dated note of progress through the year."""

    __tablename__ = "goal_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goal_card.id", ondelete="CASCADE"), index=True
    )
    noted_on: Mapped[date] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))

    def __str__(self) -> str:
        return self.text[:30]


class VanguardCategory(LabeledEnum):
    VOLUNTEER = "volunteer", "志愿服务"
    POST = "post", "岗位建功"
    STUDY = "study", "学习提升"
    HELP = "help", "帮扶群众"
    OTHER = "other", "其他"


class VanguardCard(Audited, TimestampMixin, db.Model):
    """党员个人先锋储绩卡: a member's banked merits for a year."""

    __tablename__ = "vanguard_card"
    __table_args__ = (sa.UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"))
    year: Mapped[int]

    member: Mapped[Member] = relationship()
    entries: Mapped[list["VanguardEntry"]] = relationship(
        order_by="VanguardEntry.done_on, VanguardEntry.id", back_populates="card"
    )

    def __str__(self) -> str:
        return f"{self.year} 年先锋储绩卡（{self.member_id}）"

    @property
    def total(self) -> int:
        """Points of the entries that count: confirmed, not withdrawn."""
        return sum(entry.points for entry in self.entries if entry.counts)


class VanguardEntry(Audited, Withdrawable, TimestampMixin, db.Model):
    """储绩记录: one deed with its points; it counts once someone other than its recorder
    confirms it: the branch secretary through a confirmation link, or a reviewer."""

    __tablename__ = "vanguard_entry"
    __table_args__ = (
        sa.UniqueConstraint("created_by_id", "client_key"),
        sa.Index("ix_vanguard_entry_done_on", "done_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_card.id"), index=True)
    done_on: Mapped[date]
    deed: Mapped[str] = mapped_column(sa.String(500))
    category: Mapped[VanguardCategory]
    points: Mapped[int]
    client_key: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    confirmed_on: Mapped[date | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    # Who confirmed, and how, as shown on the card: "书记钟华（确认链接）", "审阅人员李明".
    confirmed_as: Mapped[str] = mapped_column(sa.String(40), default="")

    card: Mapped[VanguardCard] = relationship(back_populates="entries")
    confirmed_by: Mapped[Account | None] = relationship(foreign_keys=[confirmed_by_id])

    def __str__(self) -> str:
        return f"{self.category.label} {self.points} 分：{self.deed[:20]}"

    @hybrid_property
    def confirmed(self) -> bool:
        return self.confirmed_on is not None

    @confirmed.inplace.expression
    @classmethod
    def _confirmed(cls):
        return cls.confirmed_on.is_not(None)

    @hybrid_property
    def counts(self) -> bool:
        """It counts (in the card's total, the ranking and every 两卡记录 figure): confirmed by
        someone other than its recorder, and not withdrawn."""
        return self.confirmed_on is not None and self.withdrawn_on is None

    @counts.inplace.expression
    @classmethod
    def _counts(cls):
        return sa.and_(cls.confirmed_on.is_not(None), cls.withdrawn_on.is_(None))

    @property
    def pending(self) -> bool:
        """Waiting for confirmation: recorded, standing, not confirmed."""
        return self.confirmed_on is None and self.withdrawn_on is None


class ConfirmationLink(Audited, TimestampMixin, db.Model):
    """书记确认链接: a personal, single-use link through which a branch's secretary, who has no
    account, confirms the deeds recorded for the branch's members. Only the token's hash is
    kept; a link expires, is used once, and can be revoked (issuing a new one revokes the old)."""

    __tablename__ = "confirmation_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"))  # the secretary it is for
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    branch: Mapped[Branch] = relationship()
    member: Mapped[Member] = relationship()

    def __str__(self) -> str:
        return f"书记确认链接（{self.member_id}）"
