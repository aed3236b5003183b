"""The year's assessment scheme (考核方案): the parts and their weights, the computed part's
indicators and theirs, the grade bands and the 优秀 quota; locked once assessment starts."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Audited, LabeledEnum, TimestampMixin
from crm.extensions import db


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
    locked_at: Mapped[datetime | None]  # assessment started: the scheme no longer changes
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))

    def __str__(self) -> str:
        return f"{self.year}年度考核方案"

    def weight_of(self, indicator: str) -> int:
        return getattr(self, f"{indicator}_weight")
