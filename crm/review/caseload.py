"""The caseload table: each instructor with what shows whether they keep up.

Counted live where the reviewer sees up to REVIEW_LIVE_LIMIT instructors (a city: seven
queries, however many instructors). Beyond that (a province, the nation) the table is read
from CaseloadFigures, counted for everyone at once by refresh(), sorted and paged in SQL.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, func, or_, select, true

from crm import clock
from crm.accounts.models import Account
from crm.assignments.models import Assignment
from crm.assignments.services import (
    Caseload,
    caseload_bounds,
    caseloads,
    current_count,
    held_at,
    instructor_scope,
)
from crm.core import kept
from crm.core.names import initials
from crm.db import as_utc
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import Instructor
from crm.locking import Lock, replace_rows
from crm.meetings import services as meetings
from crm.problems import services as problems
from crm.problems.models import Problem, ProblemStatus
from crm.review.models import CaseloadFigures
from crm.review.scale import StoredTable
from crm.visits import overdue
from crm.visits.models import Visit

SORTS = {
    "name": "姓名",
    "assigned": "联系指导",
    "visits": "本月走访",
    "overdue_branches": "超期未走访",
    "open_problems": "待办问题",
    "overdue_problems": "超期问题",
    "quiet_meetings": "本季度三会未开齐",
    "rate": "解决率",
    "last": "最近活动",
}
COUNTS = (
    "visits",
    "overdue_branches",
    "open_problems",
    "overdue_problems",
    "quiet_meetings",
    "raised",
    "solved",
)


@dataclass
class Row:
    caseload: Caseload
    visits: int = 0
    overdue_branches: int = 0
    open_problems: int = 0
    overdue_problems: int = 0
    quiet_meetings: int = 0  # branches held now that have not held all three kinds this quarter
    raised: int = 0
    solved: int = 0
    last: datetime | None = None
    counted: bool = False

    @property
    def instructor(self) -> instructors.Listed:
        return self.caseload.instructor

    @property
    def rate(self) -> float | None:
        """Problems solved among those the instructor raised this year."""
        return self.solved / self.raised if self.raised else None


def rows(
    account: Account,
    today: date,
    *,
    q: str = "",
    district_id: int | None = None,
    sort: str = "name",
    descending: bool = False,
    counted: bool = True,
    departed: bool = False,
) -> list[Row]:
    """The instructors the account may see, sorted. Their figures are counted here when
    `counted`; else only the figure the sort needs, and fill_in() the rows that are shown."""
    found = [Row(c) for c in caseloads(account, q=q, district_id=district_id, departed=departed)]
    if counted:
        fill_in(found, today)
    elif sort in SORTED_BY:  # the figure the sort needs, for all; fill_in() the rows shown
        by_id = {row.instructor.id: row for row in found}
        for instructor_id, numbers in count_figures(
            today, tuple(by_id), frozenset({SORTED_BY[sort]})
        ).items():
            for name, value in numbers.items():
                setattr(by_id[instructor_id], name, value)
    key = {
        "name": lambda r: r.instructor.name,
        "assigned": lambda r: r.caseload.count,
        "visits": lambda r: r.visits,
        "overdue_branches": lambda r: r.overdue_branches,
        "open_problems": lambda r: r.open_problems,
        "overdue_problems": lambda r: r.overdue_problems,
        "quiet_meetings": lambda r: r.quiet_meetings,
        "rate": lambda r: -1 if r.rate is None else r.rate,
        "last": lambda r: r.last or datetime.min.replace(tzinfo=clock.UTC),
    }.get(sort, lambda r: r.instructor.name)
    return sorted(found, key=key, reverse=descending)


def row_of(instructor: Instructor, today: date) -> Row:
    """One instructor's line of the table, counted."""
    low, high = caseload_bounds()
    row = Row(Caseload(instructors.Listed.of(instructor), current_count(instructor.id), low, high))
    fill_in([row], today)
    return row


def fill_in(found: list[Row], today: date) -> None:
    """Fill in the figures of the rows not counted yet: five queries, however many rows."""
    by_id = {row.instructor.id: row for row in found if not row.counted}
    if not by_id:
        return
    figures = count_figures(today, tuple(by_id))
    for instructor_id, row in by_id.items():
        for name, value in figures.get(instructor_id, {}).items():
            setattr(row, name, value)
        row.counted = True


@kept.until_changed
def count_figures(
    today: date, ids: tuple[int, ...], only: frozenset[str] | None = None
) -> dict[int, dict]:
    """The figures of the instructors `ids`, by instructor id, kept until the records change
    (a page's rows); count_all() counts everyone's."""
    return _count(today, ids, only)


def count_all(today: date) -> dict[int, dict]:
    """Every instructor's figures (the stored table's refresh: not kept in the process)."""
    return _count(today, None, None)


def _count(
    today: date, ids: tuple[int, ...] | None, only: frozenset[str] | None
) -> dict[int, dict]:
    """The figures of the instructors `ids` (None: every instructor), by instructor id; an
    instructor with nothing to count is missing or has only some figures (the rest are 0).
    With `only`, just those of QUERIES named (a sort needs one)."""
    out: dict[int, dict] = defaultdict(dict)
    chosen = Chosen(ids)
    for name, query in QUERIES.items():
        if only is None or name in only:
            for instructor_id, figures in query(today, chosen):
                out[instructor_id].update(figures)
    return out


@dataclass(frozen=True)
class Chosen:
    """The instructors whose figures are counted: those of `ids`, or everyone (None)."""

    ids: tuple[int, ...] | None

    def __call__(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        return true() if self.ids is None else column.in_(self.ids)


def _visits(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    """Visits this month, by who made them."""
    month_start = clock.local_midnight(today.replace(day=1))
    for instructor_id, visits in db.session.execute(
        select(Visit.instructor_id, func.count())
        .where(Visit.visited_at >= month_start, chosen(Visit.instructor_id))
        .group_by(Visit.instructor_id)
    ):
        yield instructor_id, {"visits": visits}


def _last(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    """Each instructor's latest receipt: one index seek each, inside a single statement."""
    latest = (
        select(func.max(Visit.received_at))
        .where(Visit.instructor_id == Instructor.id)
        .scalar_subquery()
    )
    for instructor_id, last in db.session.execute(
        select(Instructor.id, latest).where(chosen(Instructor.id))
    ):
        yield instructor_id, {"last": as_utc(last)}


def _overdue_branches(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    held_here = select(Assignment.branch_id).where(chosen(Assignment.instructor_id))
    # A page of instructors: only their branches' visits (for everyone, the plain join).
    visited = overdue.visited_recently(today, among=None if chosen.ids is None else held_here)
    for instructor_id, late in db.session.execute(
        select(Assignment.instructor_id, func.count())
        .outerjoin(visited, visited.c.branch_id == Assignment.branch_id)
        .where(chosen(Assignment.instructor_id), held_at(today), overdue.overdue_at(today, visited))
        .group_by(Assignment.instructor_id)
    ):
        yield instructor_id, {"overdue_branches": late}


def _problems(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    """Open and overdue problems of the branches held now."""
    for instructor_id, open_, late in db.session.execute(
        select(
            Assignment.instructor_id, func.count(), func.count().filter(problems.overdue_at(today))
        )
        .join(Problem, and_(Problem.branch_id == Assignment.branch_id, problems.open_at(today)))
        .where(chosen(Assignment.instructor_id), held_at(today))
        .group_by(Assignment.instructor_id)
    ):
        yield instructor_id, {"open_problems": open_, "overdue_problems": late}


def _quiet_meetings(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    """Branches held now that have not held each of the three meetings this calendar quarter
    (meetings.services.quiet: the alert's rule)."""
    held = meetings.kinds_held_this_quarter(today)
    for instructor_id, quiet in db.session.execute(
        select(Assignment.instructor_id, func.count())
        .outerjoin(held, held.c.branch_id == Assignment.branch_id)
        .where(chosen(Assignment.instructor_id), held_at(today), meetings.quiet(held))
        .group_by(Assignment.instructor_id)
    ):
        yield instructor_id, {"quiet_meetings": quiet}


def _rate(today: date, chosen: Callable) -> Iterator[tuple[int, dict]]:
    """Problems raised this year, each for whoever held its branch the day it was raised (as
    the reports count them), and how many of those are solved."""
    for instructor_id, raised, solved in db.session.execute(
        select(
            Assignment.instructor_id,
            func.count(),
            func.count().filter(Problem.status == ProblemStatus.SOLVED),
        )
        .join(Problem, and_(Problem.branch_id == Assignment.branch_id, held_at(Problem.raised_on)))
        .where(chosen(Assignment.instructor_id), Problem.raised_on >= date(today.year, 1, 1))
        .group_by(Assignment.instructor_id)
    ):
        yield instructor_id, {"raised": raised, "solved": solved}


QUERIES = {
    "visits": _visits,
    "last": _last,
    "overdue_branches": _overdue_branches,
    "problems": _problems,
    "quiet_meetings": _quiet_meetings,
    "rate": _rate,
}
SORTED_BY = {  # the one query a sort needs
    "visits": "visits",
    "overdue_branches": "overdue_branches",
    "open_problems": "problems",
    "overdue_problems": "problems",
    "quiet_meetings": "quiet_meetings",
    "rate": "rate",
    "last": "last",
}


# --- the stored table, for scopes too large to count on each request ------------------------


def refresh(today: date) -> int:
    """Count every instructor's figures and store them; returns how many. The caller commits."""
    now = clock.now()
    figures = count_all(today)
    held = dict(
        db.session.execute(
            select(Assignment.instructor_id, func.count())
            .where(Assignment.ended_on.is_(None))
            .group_by(Assignment.instructor_id)
        )
        .tuples()
        .all()
    )
    people = db.session.execute(
        select(Instructor.id, Instructor.district_id, Account.name, Account.username)
        .join(Instructor.account)
        .where(instructors.in_post_at(today))
    ).tuples()
    rows = []
    for instructor_id, district_id, name, username in people:
        numbers = dict.fromkeys(COUNTS, 0) | figures.get(instructor_id, {})
        rows.append(
            {
                "instructor_id": instructor_id,
                "district_id": district_id,
                "name": name,
                "username": username,
                "initials": initials(name)[:100],
                "assigned": held.get(instructor_id, 0),
                "counted_at": now,
                **numbers,
                "last": numbers.get("last"),
                "rate": numbers["solved"] / numbers["raised"] if numbers["raised"] else None,
            }
        )
    replace_rows(db.session, CaseloadFigures, rows, Lock.CASELOAD_SWAP)
    return len(rows)


def stored_at() -> datetime | None:
    """When the stored table was counted; None if it never was."""
    return as_utc(db.session.execute(select(func.max(CaseloadFigures.counted_at))).scalar_one())


STORED_ORDER = {
    "name": CaseloadFigures.name,
    "assigned": CaseloadFigures.assigned,
    "visits": CaseloadFigures.visits,
    "overdue_branches": CaseloadFigures.overdue_branches,
    "open_problems": CaseloadFigures.open_problems,
    "overdue_problems": CaseloadFigures.overdue_problems,
    "quiet_meetings": CaseloadFigures.quiet_meetings,
    "rate": func.coalesce(CaseloadFigures.rate, -1),
    "last": CaseloadFigures.last,
}


def stored_rows(
    account: Account,
    *,
    q: str = "",
    district_id: int | None = None,
    flag: str = "",
    sort: str = "name",
    descending: bool = False,
) -> sa.Select:
    """The stored lines the account may see, filtered and sorted as rows() sorts the live ones
    (a line never counted, `last` empty, sorts first going up)."""
    statement = select(CaseloadFigures)
    if not account.sees_everything:
        statement = statement.where(
            CaseloadFigures.instructor_id.in_(
                select(Instructor.id).where(instructor_scope(account))
            )
        )
    if district_id:
        statement = statement.where(CaseloadFigures.district_id == district_id)
    if q := q.strip().lower():
        statement = statement.where(
            or_(
                CaseloadFigures.name.contains(q, autoescape=True),
                func.lower(CaseloadFigures.username) == q,
                CaseloadFigures.initials.startswith(q, autoescape=True),
            )
        )
    low, high = caseload_bounds()
    if flag == "under":
        statement = statement.where(CaseloadFigures.assigned < low)
    elif flag == "over":
        statement = statement.where(CaseloadFigures.assigned > high)
    column = STORED_ORDER.get(sort, CaseloadFigures.name)
    order = column.desc().nulls_last() if descending else column.asc().nulls_first()
    return statement.order_by(order, CaseloadFigures.name, CaseloadFigures.instructor_id)


def from_stored(stored: list[CaseloadFigures]) -> list[Row]:
    """The table's rows for stored lines: their instructors loaded in one query."""
    low, high = caseload_bounds()
    listed = {
        line.id: line
        for line in (
            instructors.Listed(*columns)
            for columns in db.session.execute(
                select(*instructors.Listed.columns())
                .join(Instructor.account)
                .join(Instructor.district)
                .where(Instructor.id.in_([r.instructor_id for r in stored]))
            )
        )
    }
    return [
        Row(
            Caseload(listed[r.instructor_id], r.assigned, low, high),
            visits=r.visits,
            overdue_branches=r.overdue_branches,
            open_problems=r.open_problems,
            overdue_problems=r.overdue_problems,
            quiet_meetings=r.quiet_meetings,
            raised=r.raised,
            solved=r.solved,
            last=r.last,
            counted=True,
        )
        for r in stored
        if r.instructor_id in listed
    ]


TABLE = StoredTable("the caseload table's figures", (CaseloadFigures,), refresh, stored_at)
