from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.db import Audited, LabeledEnum, utcnow
from crm.extensions import db
from crm.visits.models import Visit


class AlertNote(Audited, db.Model):
    """预警处理记录: what a reviewer did about an alert on an object."""

    __tablename__ = "alert_note"
    __table_args__ = (sa.Index("ix_alert_note_rule_object", "rule", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(sa.String(30))
    object_id: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(500))
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[Account] = relationship()

    def __str__(self) -> str:
        return f"{self.rule} #{self.object_id}：{self.note[:30]}"


class VisitComment(Audited, db.Model):
    """审阅意见: a reviewer's comment on a visit, or the reason it was sent back."""

    __tablename__ = "visit_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    returned: Mapped[bool] = mapped_column(default=False)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # A visit sent back (`returned`): when the instructor corrected it (the annual assessment
    # counts those corrected in time).
    corrected_at: Mapped[datetime | None]

    by: Mapped[Account] = relationship()

    def __str__(self) -> str:
        return self.text[:30]


class CheckOutcome(LabeledEnum):
    PENDING = "pending", "待核查"
    CONFIRMED = "confirmed", "属实"
    PROBLEM = "problem", "有问题"
    UNREACHABLE = "unreachable", "无法核实"
    RECHECK = "recheck", "待复核"  # sent back, corrected by the instructor: to be checked again


class SpotCheck(Audited, db.Model):
    """抽查: one visit drawn for checking in a quarter, and what the check found."""

    __tablename__ = "spot_check"
    __table_args__ = (sa.UniqueConstraint("quarter", "visit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(sa.String(7), index=True)  # 2026Q3
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"))
    drawn_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))
    outcome: Mapped[CheckOutcome] = mapped_column(default=CheckOutcome.PENDING)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    checked_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship()

    def __str__(self) -> str:
        return f"{self.quarter} 抽查走访 {self.visit_id}"


class FlowFigures:
    """What happened in a district on a day (crm.review.counts.FLOWS)."""

    visits: Mapped[int]
    raised: Mapped[int]
    solved: Mapped[int]
    meetings: Mapped[int]
    entries: Mapped[int]
    notes: Mapped[int]


class StockFigures:
    """What stood in a district at the end of a day (crm.review.counts.STOCKS)."""

    cadence_days: Mapped[int]  # the setting the figures were counted with
    guided: Mapped[int]
    covered: Mapped[int]
    not_visited: Mapped[int]
    overdue_open: Mapped[int]
    overdue_closed_later: Mapped[int]
    pairings: Mapped[int]


class DayTally(FlowFigures, db.Model):
    """What happened in one district on one settled day: the overview's flow figures.

    A cache of counts, not a record: every row can be made again from the records, and the
    session hook in crm.review.tally deletes a day's rows when a record dated that day is
    written late. All districts of a day are stored together (zeros too), so a day is
    counted if it has any row.
    """

    __tablename__ = "day_tally"

    day: Mapped[date] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), primary_key=True)


class StockTally(StockFigures, db.Model):
    """The overview's "as of the end of the day" figures of one district on one settled day.

    The same kind of cache as DayTally; a late write deletes the rows of every day from its
    date on.
    """

    __tablename__ = "stock_tally"

    day: Mapped[date] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), primary_key=True)


class RecentTally(FlowFigures, StockFigures, db.Model):
    """The overview's figures of one district for today or yesterday (the days DayTally and
    StockTally never hold), as last counted for everyone at once.

    Read instead of counting the records where the reviewer's scope is too large to count on
    each request (crm.review.scale); made anew by crm.review.tally.refresh_recent().
    """

    __tablename__ = "recent_tally"

    day: Mapped[date] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), primary_key=True)
    counted_at: Mapped[datetime]


class CaseloadFigures(db.Model):
    """One instructor's line of the caseload table as last counted for everyone at once.

    Used where the reviewer's scope holds more instructors than REVIEW_LIVE_LIMIT (a
    province, the nation): there the table is sorted and paged in SQL on these rows, which the
    scheduler counts again every REVIEW_REFRESH_MINUTES; the page says when. Smaller scopes
    are counted live (crm.review.scale). A cache, not a record: crm.review.caseload.refresh()
    makes it all anew.
    """

    __tablename__ = "caseload_figures"
    __table_args__ = (sa.Index("ix_caseload_figures_district_name", "district_id", "name"),)

    instructor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("instructor.id", ondelete="CASCADE"), primary_key=True
    )
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"))
    name: Mapped[str] = mapped_column(sa.String(50))
    username: Mapped[str] = mapped_column(sa.String(64))
    initials: Mapped[str] = mapped_column(sa.String(100))  # 张伟 → zw
    assigned: Mapped[int]
    visits: Mapped[int]  # in the month of `counted_at`
    overdue_branches: Mapped[int]
    overdue_problems: Mapped[int]
    open_problems: Mapped[int]
    quiet_meetings: Mapped[int] = mapped_column(default=0, server_default="0")  # this quarter
    raised: Mapped[int]
    solved: Mapped[int]
    rate: Mapped[float | None]  # solved / raised; None when none raised
    last: Mapped[datetime | None]
    counted_at: Mapped[datetime]


class AlertFlag(db.Model):
    """One object an alert rule flagged when the rules were last run for everyone at once.

    Used, as CaseloadFigures is, where the reviewer's scope is too large to run the six rules
    on each request: the alerts page then counts and pages these rows, in the rule's own order
    (`position`), within the reviewer's district. crm.review.alerts.refresh() makes it anew.
    """

    __tablename__ = "alert_flag"
    __table_args__ = (
        sa.Index("ix_alert_flag_rule_position", "rule", "position"),  # the whole dataset's pages
        sa.Index("ix_alert_flag_rule_district_position", "rule", "district_id", "position"),
    )

    rule: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    object_id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"))
    position: Mapped[int]
    counted_at: Mapped[datetime]


class AlertTally(db.Model):
    """How many objects each rule flagged in each district at the last refresh: the alerts
    page's counts, read without counting AlertFlag's rows (3.5 million at national scale)."""

    __tablename__ = "alert_tally"

    rule: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), primary_key=True)
    flagged: Mapped[int]
    counted_at: Mapped[datetime]
