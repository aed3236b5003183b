"""The year's assessment scheme (考核方案): the parts and their weights, the computed part's
indicators and theirs, the grade bands and the 优秀 quota; locked once assessment starts."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Audited, LabeledEnum, TimestampMixin, utcnow
from crm.extensions import db
from crm.reminders.models import OutboxMessage


class Grade(LabeledEnum):
    EXCELLENT = "excellent", "优秀"
    COMPETENT = "competent", "称职"
    BASIC = "basic", "基本称职"
    INCOMPETENT = "incompetent", "不称职"


class Scheme(Audited, TimestampMixin, db.Model):
    """One year's scheme. Weights are whole percents: the three parts add up to 100, and so do
    the five indicators within the computed part (日常工作). A total of at least
    `excellent_min` is 优秀 (within the quota), of `competent_min` 称职, of `basic_min`
    基本称职; below, 不称职."""

    __tablename__ = "assessment_scheme"
    __table_args__ = (
        sa.CheckConstraint(
            "daily_weight + rating_weight + committee_weight = 100", name="parts_add_up"
        ),
        sa.CheckConstraint(
            "visits_weight + problems_weight + meetings_cards_weight + pairings_weight"
            " + corrections_weight = 100",
            name="indicators_add_up",
        ),
        sa.CheckConstraint(
            "excellent_min > competent_min AND competent_min > basic_min AND basic_min >= 0"
            " AND excellent_min <= 100",
            name="bands_in_order",
        ),
        sa.CheckConstraint("excellent_quota BETWEEN 0 AND 100", name="quota_a_percent"),
        sa.CheckConstraint("rating_from <= rating_until", name="rating_window_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    daily_weight: Mapped[int] = mapped_column(default=40)  # 日常工作, computed
    rating_weight: Mapped[int] = mapped_column(default=30)  # 服务对象评议, the branches' ratings
    committee_weight: Mapped[int] = mapped_column(default=30)  # 组织评价, the committee's score
    visits_weight: Mapped[int] = mapped_column(default=30)
    problems_weight: Mapped[int] = mapped_column(default=25)
    meetings_cards_weight: Mapped[int] = mapped_column(default=20)
    pairings_weight: Mapped[int] = mapped_column(default=15)
    corrections_weight: Mapped[int] = mapped_column(default=10)
    excellent_min: Mapped[int] = mapped_column(default=90)
    competent_min: Mapped[int] = mapped_column(default=70)
    basic_min: Mapped[int] = mapped_column(default=60)
    excellent_quota: Mapped[int] = mapped_column(default=20)  # % of those assessed, at most
    # The branches rate their instructors from the first day to the last (both included).
    rating_from: Mapped[date]
    rating_until: Mapped[date]
    locked_at: Mapped[datetime | None]  # assessment started: the scheme no longer changes
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))

    def __str__(self) -> str:
        return f"{self.year}年度考核方案"

    def weight_of(self, indicator: str) -> int:
        return getattr(self, f"{indicator}_weight")


class Verdict(LabeledEnum):
    SATISFIED = "satisfied", "满意"
    FAIRLY = "fairly", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class RatingLink(Audited, TimestampMixin, db.Model):
    """评议链接: the personal link through which a branch's secretary, who has no account,
    rates the instructor who guided the branch that year (crm.core.links: only the token's
    hash is kept; used once; revoked when reissued; usable only in the year's rating window)."""

    __tablename__ = "rating_link"
    __table_args__ = (sa.Index("ix_rating_link_pair", "year", "branch_id", "instructor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_message.id"))  # by SMS

    message: Mapped[OutboxMessage | None] = relationship()

    def __str__(self) -> str:
        return f"{self.year}年度评议链接（{self.branch_id} → {self.instructor_id}）"


class Rating(Audited, db.Model):
    """服务对象评议: a branch's rating of its instructor for a year, once (the pair is unique),
    through a RatingLink. Shown to reviewers without the branch; the instructor sees counts."""

    __tablename__ = "branch_rating"
    __table_args__ = (sa.UniqueConstraint("year", "branch_id", "instructor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("rating_link.id"), unique=True)
    year: Mapped[int]
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"), index=True)
    verdict: Mapped[Verdict]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return f"{self.year}年度评议"


class CommitteeScore(Audited, TimestampMixin, db.Model):
    """组织评价: the committee's score (0–100) of an instructor for a year, entered by a
    reviewer whose scope holds the instructor."""

    __tablename__ = "committee_score"
    __table_args__ = (sa.UniqueConstraint("year", "instructor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    score: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))

    def __str__(self) -> str:
        return f"{self.year}年度组织评价"


class Result(Audited, db.Model):
    """An instructor's confirmed grade for a year, as a version: the committee's confirmation
    is version 1; an appeal that changes the grade adds the next and keeps the old. The parts'
    scores are kept as they stood when confirmed."""

    __tablename__ = "assessment_result"
    __table_args__ = (sa.UniqueConstraint("year", "instructor_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    daily: Mapped[float | None] = mapped_column(sa.Float)
    rating: Mapped[float | None] = mapped_column(sa.Float)
    committee: Mapped[float | None] = mapped_column(sa.Float)
    total: Mapped[float | None] = mapped_column(sa.Float)
    proposed: Mapped[Grade | None]
    grade: Mapped[Grade]
    reason: Mapped[str] = mapped_column(sa.String(500), default="")  # why not the proposal
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return f"{self.year}年度考核结果（第 {self.version} 版）"


class Appeal(Audited, db.Model):
    """申诉: an instructor's appeal against their confirmed grade, filed within APPEAL_WORKDAYS
    working days, once a year, and the committee's decision: the grade kept, or changed as the
    result's next version (the old one is kept)."""

    __tablename__ = "assessment_appeal"
    __table_args__ = (sa.UniqueConstraint("year", "instructor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_result.id"))  # appealed
    text: Mapped[str] = mapped_column(sa.Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed: Mapped[bool | None]  # None until decided
    decision: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    decided_at: Mapped[datetime | None]

    def __str__(self) -> str:
        return f"{self.year}年度考核申诉"


class SelfReport(Audited, TimestampMixin, db.Model):
    """述职报告: the instructor's own account of their year, written in the app and shown to
    the committee beside the figures; it can be revised until the grade is confirmed."""

    __tablename__ = "self_report"
    __table_args__ = (sa.UniqueConstraint("year", "instructor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    text: Mapped[str] = mapped_column(sa.Text)

    def __str__(self) -> str:
        return f"{self.year}年度述职报告"
