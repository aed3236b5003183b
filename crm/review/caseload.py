"""The caseload table: each instructor with what shows whether they keep up. Seven queries,
however many instructors."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from pypinyin import Style, lazy_pinyin
from sqlalchemy import and_, exists, func, select

from crm import clock
from crm.accounts.models import Account
from crm.assignments.models import Assignment
from crm.assignments.services import Caseload, caseloads
from crm.db import as_utc
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.visits.models import Visit, VisitKind

SORTS = {
    "name": "姓名", "assigned": "联系指导", "visits": "本月走访", "overdue_branches": "超期未走访",
    "open_problems": "待办问题", "overdue_problems": "超期问题", "rate": "解决率", "last": "最近活动",
}  # fmt: skip
UNCOUNTED_SORTS = {"name", "assigned"}  # sorts that need no figures


@dataclass
class Row:
    caseload: Caseload
    visits: int = 0
    overdue_branches: int = 0
    open_problems: int = 0
    overdue_problems: int = 0
    raised: int = 0
    solved: int = 0
    last: datetime | None = None
    counted: bool = False

    @property
    def instructor(self) -> Instructor:
        return self.caseload.instructor

    @property
    def rate(self) -> float | None:
        """Problems solved among those the instructor raised this year."""
        return self.solved / self.raised if self.raised else None


def initials(name: str) -> str:
    """张伟 → zw: how reviewers type a name they half remember."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def matches(instructor: Instructor, q: str) -> bool:
    q = q.strip().lower()
    return (not q or q in instructor.name or q == instructor.account.username.lower()
            or initials(instructor.name).startswith(q))  # fmt: skip


def rows(account: Account, today: date, *, q: str = "", district_id: int | None = None,
         sort: str = "name", descending: bool = False, counted: bool = True) -> list[Row]:  # fmt: skip
    """The instructors the account may see, sorted. Their figures are counted here when
    `counted` or when the sort needs them; else count() the rows that are shown."""
    found = [
        Row(c) for c in caseloads(account, district_id=district_id) if matches(c.instructor, q)
    ]
    if counted or sort not in UNCOUNTED_SORTS:
        count(found, today)
    key = {
        "name": lambda r: r.instructor.name, "assigned": lambda r: r.caseload.count,
        "visits": lambda r: r.visits, "overdue_branches": lambda r: r.overdue_branches,
        "open_problems": lambda r: r.open_problems, "overdue_problems": lambda r: r.overdue_problems,
        "rate": lambda r: -1 if r.rate is None else r.rate,
        "last": lambda r: r.last or datetime.min.replace(tzinfo=clock.UTC),
    }.get(sort, lambda r: r.instructor.name)  # fmt: skip
    return sorted(found, key=key, reverse=descending)


def count(found: list[Row], today: date) -> None:
    """Fill in the figures of the rows not counted yet: five queries, however many rows."""
    by_id = {row.instructor.id: row for row in found if not row.counted}
    if by_id:
        _visits(by_id, today)
        _overdue_branches(by_id, today)
        _problems(by_id, today)
        _resolution(by_id, today)
        for row in by_id.values():
            row.counted = True


def _visits(by_id: dict[int, Row], today: date) -> None:
    """Visits this month (a range on the visit date), and each instructor's latest receipt
    (one index seek each, inside a single statement)."""
    month_start = clock.local_midnight(today.replace(day=1))
    for instructor_id, count in db.session.execute(
        select(Visit.instructor_id, func.count())
        .where(Visit.visited_at >= month_start, Visit.instructor_id.in_(list(by_id)))
        .group_by(Visit.instructor_id)
    ):  # fmt: skip
        by_id[instructor_id].visits = count
    latest = (
        select(func.max(Visit.received_at))
        .where(Visit.instructor_id == Instructor.id)
        .scalar_subquery()
    )
    for instructor_id, last in db.session.execute(
        select(Instructor.id, latest).where(Instructor.id.in_(list(by_id)))
    ):  # fmt: skip
        by_id[instructor_id].last = as_utc(last)


def _overdue_branches(by_id: dict[int, Row], today: date) -> None:
    cadence = timedelta(days=current_app.config["VISIT_CADENCE_DAYS"])
    recent = exists().where(Visit.branch_id == Assignment.branch_id, Visit.kind == VisitKind.ONSITE,
                            Visit.visited_at >= clock.local_midnight(today - cadence))  # fmt: skip
    for instructor_id, count in db.session.execute(
        select(Assignment.instructor_id, func.count())
        .where(Assignment.instructor_id.in_(list(by_id)), Assignment.ended_on.is_(None),
               Assignment.started_on <= today - cadence, ~recent)
        .group_by(Assignment.instructor_id)
    ):  # fmt: skip
        by_id[instructor_id].overdue_branches = count


def _problems(by_id: dict[int, Row], today: date) -> None:
    for instructor_id, open_, late in db.session.execute(
        select(Assignment.instructor_id, func.count(), func.count().filter(Problem.due_on < today))
        .join(Problem, and_(Problem.branch_id == Assignment.branch_id, Problem.status.in_(OPEN_STATUSES)))
        .where(Assignment.instructor_id.in_(list(by_id)), Assignment.ended_on.is_(None))
        .group_by(Assignment.instructor_id)
    ):  # fmt: skip
        by_id[instructor_id].open_problems, by_id[instructor_id].overdue_problems = open_, late


def _resolution(by_id: dict[int, Row], today: date) -> None:
    account_of = {row.instructor.account_id: row for row in by_id.values()}
    for account_id, raised, solved in db.session.execute(
        select(Problem.raised_by_id, func.count(), func.count().filter(Problem.status == ProblemStatus.SOLVED))
        .where(Problem.raised_by_id.in_(list(account_of)), Problem.raised_on >= date(today.year, 1, 1))
        .group_by(Problem.raised_by_id)
    ):  # fmt: skip
        account_of[account_id].raised, account_of[account_id].solved = raised, solved
