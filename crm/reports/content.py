"""What each monthly report says: gathered here, laid out by the templates in reports/."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from crm import charts, clock
from crm.assignments.models import Assignment
from crm.assignments.services import caseload_bounds
from crm.branches.models import Branch
from crm.cards.models import GoalCard, GoalNote, VanguardCard, VanguardEntry
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.organizations.models import District
from crm.pairings.models import Pairing, PairingActivity
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.review import figures
from crm.review.figures import Figures, Period
from crm.visits.models import Visit, VisitKind


def period_of(month: date) -> Period:
    return figures.month(month.year, month.month, month + timedelta(days=40))


@dataclass
class BranchLine:
    branch: Branch
    visits: int
    last_onsite: date | None
    overdue: bool  # not visited on site within the cadence at the month's end
    open_problems: int
    held_at_end: bool


@dataclass
class InstructorMonth:
    instructor: Instructor
    period: Period
    branches: list[BranchLine]
    visits: list[Visit]
    raised: list[Problem]
    solved: list[Problem]
    overdue: list[Problem]
    meetings: list[Meeting]
    notes: int
    entries: int
    activities: list[PairingActivity]

    @property
    def not_visited(self) -> list[BranchLine]:
        return [line for line in self.branches if line.overdue]


def instructor_month(instructor: Instructor, period: Period) -> InstructorMonth:
    """The instructor's month: the branches they held at any time in it, and what happened."""
    held = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.instructor_id == instructor.id,
            Assignment.started_on <= period.last,
            or_(Assignment.ended_on.is_(None), Assignment.ended_on >= period.first),
        )
        .options(selectinload(Assignment.branch))
        .order_by(Assignment.started_on)
    ).all()
    branches = {a.branch_id: a.branch for a in held}
    held_at_end = {a.branch_id for a in held if a.ended_on is None or a.ended_on > period.last}
    ids = list(branches)
    visits = db.session.scalars(
        select(Visit)
        .where(Visit.instructor_id == instructor.id)
        .where(Visit.visited_at >= period.start, Visit.visited_at < period.stop)
        .options(selectinload(Visit.branch))
        .order_by(Visit.visited_at)
    ).all()
    cadence = timedelta(days=current_app.config["VISIT_CADENCE_DAYS"])
    last_onsite = dict(db.session.execute(
        select(Visit.branch_id, func.max(Visit.visited_at))
        .where(Visit.branch_id.in_(ids), Visit.kind == VisitKind.ONSITE, Visit.visited_at < period.stop)
        .group_by(Visit.branch_id)
    ).all())  # fmt: skip
    problems = db.session.scalars(
        select(Problem)
        .where(Problem.branch_id.in_(ids), Problem.raised_on <= period.last)
        .where(or_(Problem.status.in_(OPEN_STATUSES), Problem.closed_on >= period.first))
        .options(selectinload(Problem.branch))
        .order_by(Problem.raised_on, Problem.id)
    ).all()
    open_at_end = [p for p in problems if p.closed_on is None or p.closed_on > period.last]
    lines = []
    for branch_id, branch in sorted(branches.items(), key=lambda item: item[1].name):
        last = last_onsite.get(branch_id)
        last_day = clock.local(last).date() if last else None
        assignment = next(a for a in held if a.branch_id == branch_id)
        lines.append(BranchLine(
            branch=branch,
            visits=sum(v.branch_id == branch_id for v in visits),
            last_onsite=last_day,
            overdue=branch_id in held_at_end and assignment.started_on <= period.last - cadence
            and (last_day is None or last_day < period.last - cadence),
            open_problems=sum(p.branch_id == branch_id for p in open_at_end),
            held_at_end=branch_id in held_at_end,
        ))  # fmt: skip
    in_month = lambda day: day is not None and period.first <= day <= period.last  # noqa: E731
    return InstructorMonth(
        instructor=instructor, period=period, branches=lines, visits=list(visits),
        raised=[p for p in problems if in_month(p.raised_on)],
        solved=[p for p in problems if p.status == ProblemStatus.SOLVED and in_month(p.closed_on)],
        overdue=[p for p in open_at_end if p.due_on < period.last],
        meetings=list(db.session.scalars(
            select(Meeting).where(Meeting.branch_id.in_(ids), Meeting.held_on.between(period.first, period.last))
            .options(selectinload(Meeting.branch)).order_by(Meeting.held_on))),
        notes=db.session.scalar(
            select(func.count()).select_from(GoalNote).join(GoalCard, GoalCard.id == GoalNote.card_id)
            .where(GoalCard.branch_id.in_(ids), GoalNote.noted_on.between(period.first, period.last))),
        entries=db.session.scalar(
            select(func.count()).select_from(VanguardEntry)
            .join(VanguardCard, VanguardCard.id == VanguardEntry.card_id)
            .join(Member, Member.id == VanguardCard.member_id)
            .where(Member.branch_id.in_(ids), VanguardEntry.done_on.between(period.first, period.last))),
        activities=list(db.session.scalars(
            select(PairingActivity).join(Pairing, Pairing.id == PairingActivity.pairing_id)
            .where(Pairing.branch_id.in_(ids), PairingActivity.held_on.between(period.first, period.last))
            .options(selectinload(PairingActivity.pairing).selectinload(Pairing.agency_branch))
            .order_by(PairingActivity.held_on))),
    )  # fmt: skip


@dataclass
class InstructorMonthLine:
    held: int
    visits: int
    not_visited: int
    raised: int
    solved: int
    overdue: int

    @property
    def flag(self) -> str:
        low, high = caseload_bounds()
        if self.held < low:
            return f"少于 {low}"
        return f"超过 {high}" if self.held > high else ""


@dataclass
class AreaMonth:
    """A district's month, or the city's (district None)."""

    district: District | None
    period: Period
    before: Period
    by_district: dict[int, Figures]
    then_by_district: dict[int, Figures]
    total: Figures
    then: Figures
    districts: list[District]
    instructors: list[tuple[Instructor, InstructorMonthLine]] = field(default_factory=list)
    district_chart: str = ""
    trend_chart: str = ""


def area_month(district: District | None, period: Period) -> AreaMonth:
    before = figures.previous_month(period, period.last)
    district_id = district.id if district else None
    now_by, then_by = figures.figures([period, before], district_id)
    all_districts = db.session.scalars(select(District).order_by(District.position)).all()
    shown = [d for d in all_districts if district is None or d.id == district.id]
    area = AreaMonth(
        district=district, period=period, before=before, by_district=now_by,
        then_by_district=then_by, total=figures.total(now_by), then=figures.total(then_by),
        districts=shown,
    )  # fmt: skip
    months = [period]
    for _ in range(11):
        months.insert(0, figures.previous_month(months[0], period.last))
    visits, solved = figures.by_month(months, district_id)
    area.trend_chart = charts.line_chart(
        "近 12 个月走访与解决问题", [f"{m.first.month}月" for m in months],
        [("走访", visits), ("解决问题", solved)],
    )  # fmt: skip
    if district is None:
        area.district_chart = charts.bar_chart(
            f"{period.label}各县市区走访次数", [d.name for d in shown],
            [(period.label, [now_by.get(d.id, Figures())["visits"] for d in shown]),
             (before.label, [then_by.get(d.id, Figures())["visits"] for d in shown])],
        )  # fmt: skip
    else:
        area.instructors = instructor_lines(district, period)
        area.district_chart = charts.bar_chart(
            f"{period.label}各指导员走访次数", [i.name for i, _ in area.instructors],
            [(period.label, [line.visits for _, line in area.instructors])],
        )  # fmt: skip
    return area


def instructor_lines(
    district: District, period: Period
) -> list[tuple[Instructor, InstructorMonthLine]]:
    """The district's caseload table for the month: one row per instructor."""
    instructors = db.session.scalars(
        select(Instructor).join(Instructor.account)
        .where(Instructor.district_id == district.id, Instructor.status == InstructorStatus.ACTIVE)
        .options(selectinload(Instructor.account)).order_by(Instructor.id)
    ).all()  # fmt: skip
    return [(i, _line(instructor_month(i, period))) for i in instructors]


def _line(month: InstructorMonth) -> InstructorMonthLine:
    return InstructorMonthLine(
        held=sum(line.held_at_end for line in month.branches),
        visits=len(month.visits),
        not_visited=len(month.not_visited),
        raised=len(month.raised),
        solved=len(month.solved),
        overdue=len(month.overdue),
    )
