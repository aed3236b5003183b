"""What each monthly report says: gathered here, laid out by the templates in reports/."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import selectinload

from crm import charts, clock
from crm.assignments.models import Assignment
from crm.assignments.services import caseload_bounds, caseload_flag, held_during
from crm.branches.models import Branch
from crm.corrections.models import Correction
from crm.db import as_utc
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_at
from crm.meetings.models import Meeting
from crm.organizations.models import District
from crm.pairings.models import Pairing, PairingActivity
from crm.problems import services as problems
from crm.problems.models import Problem, ProblemStatus
from crm.review import figures, holders
from crm.review.figures import Figures, Period
from crm.visits.models import Visit, VisitKind


def period_of(month: date) -> Period:
    return figures.month(month.year, month.month, month + timedelta(days=40))


@dataclass
class BranchLine:
    branch: Branch
    visits: int
    last_onsite: date | None
    overdue: bool  # held at the month's end and overdue for an on-site visit then
    open_problems: int
    held_at_end: bool


@dataclass(frozen=True)
class ProblemLine:
    """A problem as it stood at the month's end: its status then, its solution if it had one."""

    problem: Problem
    status: ProblemStatus

    def __getattr__(self, name: str):
        return getattr(self.problem, name)

    @property
    def resolution(self) -> str:
        return self.problem.resolution if self.status.is_closed else ""


@dataclass
class InstructorMonth:
    instructor: Instructor
    period: Period
    branches: list[BranchLine]
    visits: list[Visit]
    raised: list[ProblemLine]
    solved: list[ProblemLine]
    overdue: list[ProblemLine]
    meetings: list[Meeting]
    notes: int
    entries: int
    activities: list[PairingActivity]
    corrections: list[Correction] = field(default_factory=list)

    @property
    def not_visited(self) -> list[BranchLine]:
        return [line for line in self.branches if line.overdue]

    @property
    def held(self) -> int:
        return sum(line.held_at_end for line in self.branches)


def instructor_month(instructor: Instructor, period: Period) -> InstructorMonth:
    """The instructor's month by crm.review.holders' rule: what happened at their branches
    while they held them, and what stood at the month's end at the branches they held then."""
    first, last = period.first, period.last
    scope = holders.Scope(instructor_id=instructor.id)
    visits = db.session.scalars(
        holders.events("visits", first, last, scope)
        .options(selectinload(Visit.branch))
        .order_by(Visit.visited_at, Visit.id)
    ).all()
    meetings = holders.events("meetings", first, last, scope).options(selectinload(Meeting.branch))
    activities = holders.events("activities", first, last, scope).options(
        selectinload(PairingActivity.pairing).selectinload(Pairing.agency_branch)
    )
    return InstructorMonth(
        instructor=instructor,
        period=period,
        branches=_branch_lines(instructor, period, visits),
        visits=list(visits),
        raised=_as_of_end(holders.events("raised", first, last, scope), last, Problem.raised_on),
        solved=_as_of_end(holders.events("solved", first, last, scope), last, Problem.closed_on),
        overdue=_as_of_end(holders.overdue_problems(last, scope), last, Problem.due_on),
        meetings=list(db.session.scalars(meetings.order_by(Meeting.held_on, Meeting.id))),
        notes=_count(holders.events("notes", first, last, scope)),
        entries=_count(holders.events("entries", first, last, scope)),
        activities=list(
            db.session.scalars(activities.order_by(PairingActivity.held_on, PairingActivity.id))
        ),
        corrections=late_corrections(first, last, scope),
    )


def late_corrections(first: date, last: date, scope: holders.Scope) -> list[Correction]:
    """补录: the changes made after the month closed to records dated in it, in the order made."""
    return list(
        db.session.scalars(
            holders.events("late_corrections", first, last, scope)
            .options(selectinload(Correction.branch), selectinload(Correction.by))
            .order_by(Correction.made_at, Correction.id)
        )
    )


def _branch_lines(instructor: Instructor, period: Period, visits: list[Visit]) -> list[BranchLine]:
    """Each branch the instructor held at any time in the month, as it stood at its end."""
    scope = holders.Scope(instructor_id=instructor.id)
    held = db.session.scalars(
        select(Assignment)
        .where(Assignment.instructor_id == instructor.id, held_during(period.first, period.last))
        .options(selectinload(Assignment.branch))
    ).all()
    branches = {a.branch_id: a.branch for a in held}
    at_end = _branch_ids(holders.held_branches(period.last, scope))
    late = _branch_ids(holders.overdue_branches(period.last, scope))
    last_onsite = _last_onsite_before(list(branches), period.stop)
    open_at_end = Counter(
        db.session.scalars(
            select(Problem.branch_id).where(
                Problem.branch_id.in_(list(at_end)), problems.open_at(period.last)
            )
        )
    )
    return [
        BranchLine(
            branch=branch,
            visits=sum(v.branch_id == branch_id for v in visits),
            last_onsite=clock.day_of(as_utc(last_onsite[branch_id]))
            if branch_id in last_onsite
            else None,
            overdue=branch_id in late,
            open_problems=open_at_end[branch_id],
            held_at_end=branch_id in at_end,
        )
        for branch_id, branch in sorted(branches.items(), key=lambda item: (item[1].name, item[0]))
    ]


def _branch_ids(assignments: Select) -> set[int]:
    """The branches of the assignments a holders.* statement finds."""
    return set(db.session.scalars(assignments.with_only_columns(Assignment.branch_id)))


def _last_onsite_before(branch_ids: list[int], stop: datetime) -> dict[int, datetime]:
    """Each branch's last on-site visit before `stop`."""
    return dict(
        db.session.execute(
            select(Visit.branch_id, func.max(Visit.visited_at))
            .where(
                Visit.branch_id.in_(branch_ids),
                Visit.kind == VisitKind.ONSITE,
                Visit.visited_at < stop,
            )
            .group_by(Visit.branch_id)
        )
        .tuples()
        .all()
    )


def _as_of_end(statement: Select, last: date, order: ColumnElement) -> list[ProblemLine]:
    """The problems the statement finds, each with its status at the end of `last`."""
    found = db.session.scalars(
        statement.options(selectinload(Problem.branch), selectinload(Problem.steps)).order_by(
            order, Problem.id
        )
    ).all()
    return [ProblemLine(p, problems.status_at(p, last)) for p in found]


def _count(statement: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


@dataclass
class InstructorMonthLine:
    """One row of an area's instructor table (crm.review.holders): rows add up to the area."""

    held: int = 0
    visits: int = 0
    not_visited: int = 0
    raised: int = 0
    solved: int = 0
    overdue: int = 0
    meetings: int = 0
    cards: int = 0
    in_post: bool = True

    @property
    def flag(self) -> str:
        if not self.in_post:
            return "已离岗"
        low, high = caseload_bounds()
        return {"under": f"少于 {low}", "over": f"超过 {high}"}.get(caseload_flag(self.held), "")


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
    instructors: list[tuple[Instructor | None, InstructorMonthLine]] = field(default_factory=list)
    months: list[Period] = field(default_factory=list)
    trend: dict[str, list[int]] = field(default_factory=dict)
    district_chart: str = ""
    trend_chart: str = ""
    corrections: list[Correction] = field(default_factory=list)

    @property
    def instructor_total(self) -> dict[str, int]:
        return {
            key: sum(getattr(line, key) for _, line in self.instructors)
            for key, _ in INSTRUCTOR_COLUMNS
        }


INSTRUCTOR_COLUMNS = [
    ("held", "联系指导"),
    ("visits", "本月走访"),
    ("not_visited", "超期未走访"),
    ("raised", "登记问题"),
    ("solved", "解决问题"),
    ("overdue", "超期问题"),
    ("meetings", "三会"),
    ("cards", "两卡记录"),
]


def area_month(district: District | None, period: Period) -> AreaMonth:
    before = figures.previous_month(period, period.last)
    district_id = district.id if district else None
    now_by, then_by = figures.by_district([period, before], district_id)
    all_districts = db.session.scalars(select(District).order_by(District.position)).all()
    shown = [d for d in all_districts if district is None or d.id == district.id]
    area = AreaMonth(
        district=district,
        period=period,
        before=before,
        by_district=now_by,
        then_by_district=then_by,
        total=figures.total(now_by),
        then=figures.total(then_by),
        districts=shown,
        corrections=late_corrections(period.first, period.last, holders.Scope(district_id)),
    )
    months = figures.last_twelve_months(period.last)
    visits, solved = figures.by_month(months, district_id)
    area.months, area.trend = list(months), {"走访": visits, "解决问题": solved}
    area.trend_chart = charts.line_chart(
        "近 12 个月走访与解决问题",
        [m.short_label for m in months],
        [("走访", visits), ("解决问题", solved)],
    )
    if district is None:
        area.district_chart = charts.bar_chart(
            f"{period.label}各县市区走访次数",
            [d.name for d in shown],
            [
                (period.label, [now_by.get(d.id, Figures())["visits"] for d in shown]),
                (before.label, [then_by.get(d.id, Figures())["visits"] for d in shown]),
            ],
        )
    else:
        area.instructors = instructor_lines(district, period)
        people = [(i, line) for i, line in area.instructors if i is not None]
        area.district_chart = charts.bar_chart(
            f"{period.label}各指导员走访次数",
            [i.name for i, _ in people],
            [(period.label, [line.visits for _, line in people])],
        )
    return area


def instructor_lines(
    district: District, period: Period
) -> list[tuple[Instructor | None, InstructorMonthLine]]:
    """The district's instructor table for the month: every instructor in post there at its
    end, and anyone else with figures in it (who left, or held a branch there), then a row
    for what happened at branches nobody held (None), when there is any."""
    counted = holders.by_instructor(period.first, period.last, holders.Scope(district.id))
    in_post = set(
        db.session.scalars(
            select(Instructor.id).where(
                Instructor.district_id == district.id, in_post_at(period.last)
            )
        )
    )
    ids = in_post | {i for i in counted if i is not None}
    people = db.session.scalars(
        select(Instructor).where(Instructor.id.in_(ids)).options(selectinload(Instructor.account))
    ).all()
    rows: list[tuple[Instructor | None, InstructorMonthLine]] = [
        (i, _line(counted.get(i.id, Counter()), i.id in in_post))
        for i in sorted(people, key=lambda i: (i.id not in in_post, i.id))
    ]
    if None in counted:
        rows.append((None, _line(counted[None], False)))
    return rows


def _line(numbers: Counter, in_post: bool) -> InstructorMonthLine:
    cards = numbers["entries"] + numbers["notes"]
    kept = {key: numbers[key] for key, _ in INSTRUCTOR_COLUMNS if key != "cards"}
    return InstructorMonthLine(**kept, cards=cards, in_post=in_post)
