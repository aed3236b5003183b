"""The overview's figures: each one SQL aggregate grouped by district, whatever the row count."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, true

from crm import clock
from crm.assignments.models import Assignment
from crm.branches.models import Branch, Sector
from crm.cards.models import GoalCard, GoalNote, VanguardCard, VanguardEntry
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.pairings.models import Pairing
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.visits.models import Visit, VisitKind

NAMES = {
    "instructors": "指导员", "guided": "列入指导的党组织", "covered": "有指导员的党组织",
    "visits": "走访", "not_visited": "超期未走访的党组织", "raised": "登记问题", "solved": "解决问题",
    "overdue": "超期问题", "meetings": "三会", "cards": "两卡记录", "pairings": "在册结对",
}  # fmt: skip


@dataclass(frozen=True)
class Period:
    """A span of whole days, first and last included."""

    first: date
    last: date
    label: str

    @property
    def start(self) -> datetime:  # the first instant, in 赣州's time
        return datetime.combine(self.first, time(), clock.LOCAL_TIME)

    @property
    def stop(self) -> datetime:  # the instant after the last day
        return datetime.combine(self.last + timedelta(days=1), time(), clock.LOCAL_TIME)


def month(year: int, number: int, today: date) -> Period:
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(first, min(following - timedelta(days=1), today), f"{year} 年 {number} 月")


def previous_month(period: Period, today: date) -> Period:
    before = period.first - timedelta(days=1)
    return month(before.year, before.month, today)


def year_to_date(today: date) -> Period:
    return Period(date(today.year, 1, 1), today, f"{today.year} 年以来")


def same_span_last_year(period: Period) -> Period:
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)

    return Period(back(period.first), back(period.last), f"{period.first.year - 1} 年同期")


@dataclass
class Figures:
    """The overview's figures for one district (or all) over one period."""

    values: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.values.get(key, 0)

    @property
    def coverage(self) -> float | None:
        return self["covered"] / self["guided"] if self["guided"] else None

    @property
    def resolution_rate(self) -> float | None:
        """Solved among the problems raised in the period."""
        return self["raised_solved"] / self["raised"] if self["raised"] else None


def figures(period: Period, district_id: int | None) -> dict[int, Figures]:
    """Figures of every district (or the one given) for the period, keyed by district id."""
    scope = Branch.district_id == district_id if district_id else true()
    out: dict[int, Figures] = {}
    for key, statement in _queries(period, scope, district_id).items():
        for district, *counts in db.session.execute(statement):
            figures_ = out.setdefault(district, Figures())
            # int(): PostgreSQL sums counts as numeric, which comes back as Decimal.
            for name, count in zip(key.split("+"), counts, strict=True):
                figures_.values[name] = int(count or 0)
    return out


def _queries(period: Period, scope: ColumnElement[bool], district_id: int | None) -> dict:
    first, last, start, stop = period.first, period.last, period.start, period.stop
    cadence = timedelta(days=current_app.config["VISIT_CADENCE_DAYS"])
    held_at_end = and_(Assignment.started_on <= last,
                       or_(Assignment.ended_on.is_(None), Assignment.ended_on > last))  # fmt: skip
    guided = and_(Branch.sector == Sector.TWO_NEW, Branch.under_guidance.is_(True), scope)
    instructors_scope = Instructor.district_id == district_id if district_id else true()
    recent_onsite = exists().where(
        Visit.branch_id == Branch.id, Visit.kind == VisitKind.ONSITE,
        Visit.visited_at >= datetime.combine(last - cadence, time(), clock.LOCAL_TIME),
        Visit.visited_at < stop,
    )  # fmt: skip
    return {
        "instructors": select(Instructor.district_id, func.count())
        .where(Instructor.status == InstructorStatus.ACTIVE, instructors_scope)
        .group_by(Instructor.district_id),
        "guided+covered+not_visited": select(
            Branch.district_id, func.count(),
            func.count(Assignment.id),
            func.count(Assignment.id).filter(Assignment.started_on <= last - cadence, ~recent_onsite),
        ).outerjoin(Assignment, and_(Assignment.branch_id == Branch.id, held_at_end))
        .where(guided).group_by(Branch.district_id),
        "visits": _counts(scope, Visit, (and_(Visit.visited_at >= start, Visit.visited_at < stop),)),
        "raised+raised_solved": _counts(scope, Problem, (
            and_(Problem.raised_on >= first, Problem.raised_on <= last),
            and_(Problem.raised_on >= first, Problem.raised_on <= last,
                 Problem.status == ProblemStatus.SOLVED))),
        "solved": _counts(scope, Problem, (and_(
            Problem.status == ProblemStatus.SOLVED, Problem.closed_on >= first, Problem.closed_on <= last),)),
        # Overdue at the period's end: still open, or closed only after it. Two indexed halves.
        "overdue_open": select(Branch.district_id, func.count()).join(Problem, Problem.branch_id == Branch.id)
        .where(scope, Problem.status.in_(OPEN_STATUSES), Problem.raised_on <= last, Problem.due_on < last)
        .group_by(Branch.district_id),
        "overdue_closed_later": _counts(scope, Problem, (and_(
            Problem.closed_on > last, Problem.raised_on <= last, Problem.due_on < last),)),
        "meetings": _counts(scope, Meeting, (and_(Meeting.held_on >= first, Meeting.held_on <= last),)),
        "entries": select(Branch.district_id, func.count())
        .join(Member, Member.branch_id == Branch.id).join(VanguardCard, VanguardCard.member_id == Member.id)
        .join(VanguardEntry, VanguardEntry.card_id == VanguardCard.id)
        .where(scope, VanguardEntry.done_on >= first, VanguardEntry.done_on <= last)
        .group_by(Branch.district_id),
        "notes": select(Branch.district_id, func.count()).join(GoalCard, GoalCard.branch_id == Branch.id)
        .join(GoalNote, GoalNote.card_id == GoalCard.id)
        .where(scope, GoalNote.noted_on >= first, GoalNote.noted_on <= last).group_by(Branch.district_id),
        "pairings": select(Branch.district_id, func.count()).join(Pairing, Pairing.branch_id == Branch.id)
        .where(scope, Pairing.started_on <= last,
               or_(Pairing.ended_on.is_(None), Pairing.ended_on > last)).group_by(Branch.district_id),
    }  # fmt: skip


def _counts(scope: ColumnElement[bool], model: type, conditions: tuple) -> Select:
    """Per district, how many rows of `model` (which has a branch_id) meet each condition.

    On SQLite, each branch's rows are counted through its (branch_id, date) index and summed:
    several times faster there than joining a year of rows to their branches. PostgreSQL does
    the join with a hash and is several times slower the other way: measured, not guessed
    (bench/review_pages.py, docs/performance.md).
    """
    if db.engine.dialect.name == "sqlite":
        counts = [func.sum(select(func.count()).select_from(model)
                           .where(model.branch_id == Branch.id, condition)
                           .correlate(Branch).scalar_subquery()) for condition in conditions]  # fmt: skip
        return select(Branch.district_id, *counts).where(scope).group_by(Branch.district_id)
    counts = [func.count().filter(condition) for condition in conditions]
    return (
        select(Branch.district_id, *counts)
        .join(model, model.branch_id == Branch.id)
        .where(scope, or_(*conditions))
        .group_by(Branch.district_id)
    )


def total(by_district: dict[int, Figures]) -> Figures:
    whole = Figures()
    for figures_ in by_district.values():
        for key, value in figures_.values.items():
            whole.values[key] = whole.values.get(key, 0) + value
    for figures_ in [whole, *by_district.values()]:
        figures_.values["cards"] = figures_["entries"] + figures_["notes"]
        figures_.values["overdue"] = figures_["overdue_open"] + figures_["overdue_closed_later"]
    return whole


def by_month(months: list[Period], district_id: int | None) -> tuple[list[int], list[int]]:
    """Visits and problems solved in each of the months: each row put in its month by one
    CASE, then counted by GROUP BY (one query each, one pass over the rows)."""
    scope = Branch.district_id == district_id if district_id else true()
    visit_month = case(*((Visit.visited_at < m.stop, n) for n, m in enumerate(months)))
    solved_month = case(*((Problem.closed_on <= m.last, n) for n, m in enumerate(months)))
    visits = (
        select(visit_month, func.count())
        .select_from(Visit)
        .where(Visit.visited_at >= months[0].start, Visit.visited_at < months[-1].stop)
        .group_by(visit_month)
    )
    solved = (
        select(solved_month, func.count())
        .select_from(Problem)
        .where(
            Problem.status == ProblemStatus.SOLVED,
            Problem.closed_on >= months[0].first,
            Problem.closed_on <= months[-1].last,
        )
        .group_by(solved_month)
    )
    if district_id:  # city-wide needs no join to the branch
        visits = visits.join(Branch, Branch.id == Visit.branch_id).where(scope)
        solved = solved.join(Branch, Branch.id == Problem.branch_id).where(scope)
    visits, solved = dict(db.session.execute(visits).all()), dict(db.session.execute(solved).all())
    return [visits.get(n, 0) for n in range(len(months))], [
        solved.get(n, 0) for n in range(len(months))
    ]


def last_twelve_months(today: date) -> list[Period]:
    periods = [month(today.year, today.month, today)]
    for _ in range(11):
        periods.insert(0, previous_month(periods[0], today))
    return periods
