"""Alert rules: each is one query for the reviewer's scope, its count one more.

Where the scope holds more instructors than REVIEW_LIVE_LIMIT (a province, the nation) the
rules are run for everyone at once by refresh(), every REVIEW_REFRESH_MINUTES, and the page
counts and pages what they flagged (AlertFlag) within the reviewer's district.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from crm import clock
from crm.accounts.models import Account, AccountRole, Role
from crm.assignments.models import Assignment
from crm.assignments.services import (
    branch_scope,
    held_at,
    instructor_scope,
    outside_bounds,
    unassigned_branches,
)
from crm.branches.models import Branch
from crm.core.lists import contains
from crm.db import as_utc
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_at
from crm.locking import Lock, replace_rows
from crm.meetings import services as meetings
from crm.pairings.services import unpaired_branches
from crm.problems.models import Problem
from crm.problems.services import overdue_at
from crm.review import scale
from crm.review.models import AlertFlag, AlertNote, AlertTally
from crm.review.scale import StoredTable
from crm.rules import RuleError
from crm.visits import overdue
from crm.visits.models import Visit

GUIDE = aliased(Account, name="guide")  # the instructor's account, for their name


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    object_type: str


RULES = (
    Rule("overdue_visits", "超期未走访的党组织", "branch"),
    Rule("overdue_problems", "超期未办结的问题", "problem"),
    Rule("caseload", "联系指导数超出范围的指导员", "instructor"),
    Rule("unassigned", "列入指导但没有指导员", "branch"),
    Rule("unpaired", "没有在册结对的两新党组织", "branch"),
    Rule("flagged_visits", "补录或位置较远的走访", "visit"),
    Rule("quiet_meetings", "本季度三会未开齐的党组织", "branch"),
)
BY_KEY = {rule.key: rule for rule in RULES}


def statement(rule: str, account: Account, today: date) -> Select:
    """The objects the rule flags that the account may see, most pressing first."""
    return _STATEMENTS[rule](account, today)


def _overdue_visits(account: Account, today: date) -> Select:
    visited = overdue.visited_recently(today)
    return (
        select(Branch)
        .join(Assignment, and_(Assignment.branch_id == Branch.id, held_at(today)))
        .join(Instructor, Instructor.id == Assignment.instructor_id)
        .join(GUIDE, GUIDE.id == Instructor.account_id)
        .outerjoin(visited, visited.c.branch_id == Branch.id)
        .where(branch_scope(account), overdue.overdue_at(today, visited))
        .options(selectinload(Branch.district))
        .order_by(overdue.due_from(), Branch.id)
    )


def _overdue_problems(account: Account, today: date) -> Select:
    return (
        select(Problem)
        .join(Branch, Branch.id == Problem.branch_id)
        .where(branch_scope(account), overdue_at(today))
        .options(selectinload(Problem.branch))
        .order_by(Problem.due_on, Problem.id)
    )


def _caseload(account: Account, today: date) -> Select:
    counted = (
        select(Assignment.instructor_id, func.count().label("held"))
        .where(Assignment.ended_on.is_(None))
        .group_by(Assignment.instructor_id)
        .subquery()
    )
    held = func.coalesce(counted.c.held, 0)
    return (
        select(Instructor)
        .join(GUIDE, GUIDE.id == Instructor.account_id)
        .outerjoin(counted, counted.c.instructor_id == Instructor.id)
        .where(
            instructor_scope(account),
            in_post_at(today),
            outside_bounds(held),
        )
        .options(selectinload(Instructor.district))
        .order_by(Instructor.district_id, Instructor.id)
    )


def _unassigned(account: Account, today: date) -> Select:
    return (
        unassigned_branches()
        .where(branch_scope(account))
        .options(selectinload(Branch.district))
        .order_by(Branch.district_id, Branch.name, Branch.id)
    )


def _unpaired(account: Account, today: date) -> Select:
    return unpaired_branches(account)


def _flagged_visits(account: Account, today: date) -> Select:
    since = clock.local_midnight(today - timedelta(days=current_app.config["FLAGGED_VISIT_DAYS"]))
    return (
        select(Visit)
        .join(Branch, Branch.id == Visit.branch_id)
        .join(Instructor, Instructor.id == Visit.instructor_id)
        .join(GUIDE, GUIDE.id == Instructor.account_id)
        .where(
            branch_scope(account),
            Visit.visited_at >= since,
            or_(Visit.backfilled.is_(True), Visit.far_from_branch.is_(True)),
        )
        .options(selectinload(Visit.branch), selectinload(Visit.instructor))
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    )


def _quiet_meetings(account: Account, today: date) -> Select:
    """Branches someone guides that have not held each of the three meetings this quarter."""
    held = meetings.kinds_held_this_quarter(today)
    return (
        select(Branch)
        .join(Assignment, and_(Assignment.branch_id == Branch.id, held_at(today)))
        .outerjoin(held, held.c.branch_id == Branch.id)
        .where(branch_scope(account), meetings.quiet(held))
        .options(selectinload(Branch.district))
        .order_by(Branch.district_id, Branch.name, Branch.id)
    )


_STATEMENTS = {
    "overdue_visits": _overdue_visits,
    "overdue_problems": _overdue_problems,
    "caseload": _caseload,
    "unassigned": _unassigned,
    "unpaired": _unpaired,
    "flagged_visits": _flagged_visits,
    "quiet_meetings": _quiet_meetings,
}


@dataclass(frozen=True)
class Listing:
    """How the page sorts and searches a rule's rows: the columns a reviewer sorts by (key →
    (header, column)), the one it starts with, and the text columns the search box looks in.
    Every column is of a table that both statement() and stored_statement() join."""

    sorts: dict[str, tuple[str, ColumnElement]]
    default: str
    searched: tuple[ColumnElement[str], ...]
    hint: str  # what the search box looks in, in the user's words
    newest_first: bool = False


def listing(rule: str, *, stored: bool = False) -> Listing:
    """How the rule's list sorts and searches. `stored`: the flags the scheduler stored, whose
    own order (AlertFlag.position, counted at the refresh) is the rule's order: sorting by
    it serves the default without computing it for every flagged row (overdue visits sorted
    by due_from() for 1.75 million branches took 10 s a page at national scale; overdue
    problems by due date, 0.8 s)."""
    branch_name, district = ("党组织", Branch.name), ("县市区", Branch.district_id)
    instructor = ("指导员", GUIDE.name)
    match BY_KEY[rule].object_type, rule:
        case _, "overdue_visits":
            sorts = {
                "due": ("应走访日", AlertFlag.position if stored else overdue.due_from()),
                "name": branch_name,
                "district": district,
                "instructor": instructor,
            }
            return Listing(sorts, "due", (Branch.name, GUIDE.name), "党组织名称或指导员姓名")
        case "problem", _:
            due = AlertFlag.position if stored else Problem.due_on  # the rule's own order
            sorts = {"due": ("办结期限", due), "branch": branch_name}
            return Listing(sorts, "due", (Branch.name, Problem.description), "党组织名称、问题内容")
        case "instructor", _:
            sorts = {"district": ("县市区", Instructor.district_id), "name": instructor}
            return Listing(sorts, "district", (GUIDE.name,), "指导员姓名")
        case "visit", _:
            sorts = {
                "visited": ("走访时间", Visit.visited_at),
                "branch": branch_name,
                "instructor": instructor,
            }
            return Listing(
                sorts,
                "visited",
                (Branch.name, GUIDE.name),
                "党组织名称或指导员姓名",
                newest_first=True,
            )
        case _:
            sorts = {"district": district, "name": branch_name}
            return Listing(sorts, "district", (Branch.name,), "党组织名称")


def searched(statement: Select, rule: str, text: str) -> Select:
    """The rows whose name (of the branch, the instructor, the problem) contains the text."""
    if not text:
        return statement
    return statement.where(or_(*(contains(column, text) for column in listing(rule).searched)))


def counts(account: Account, today: date) -> dict[str, int]:
    """How many each rule flags: one count a rule."""
    return {
        rule.key: db.session.execute(
            select(func.count()).select_from(
                statement(rule.key, account, today).order_by(None).subquery()
            )
        ).scalar_one()
        for rule in RULES
    }


# --- the stored flags, for scopes too large to run the rules on each request ----------------

MODELS = {"branch": Branch, "problem": Problem, "instructor": Instructor, "visit": Visit}
LOADS = {
    "branch": (selectinload(Branch.district),),
    "problem": (selectinload(Problem.branch),),
    "instructor": (selectinload(Instructor.district),),
    "visit": (selectinload(Visit.branch), selectinload(Visit.instructor)),
}


def refresh(today: date) -> int:
    """Run every rule for the whole dataset and store what it flags, in the rule's order, with
    each object's district; returns how many. The caller commits."""
    everyone = Account(name="统计", role_rows=[AccountRole(role=Role.REVIEWER)])  # the whole city
    now = clock.now()
    rows = []
    for rule in RULES:
        model = MODELS[rule.object_type]
        district = Instructor.district_id if model is Instructor else Branch.district_id
        flagged = statement(rule.key, everyone, today).with_only_columns(
            model.id, district, maintain_column_froms=True
        )
        rows += [
            {
                "rule": rule.key,
                "object_id": object_id,
                "district_id": district_id,
                "position": position,
                "counted_at": now,
            }
            for position, (object_id, district_id) in enumerate(db.session.execute(flagged))
        ]
    tallies = Counter((row["rule"], row["district_id"]) for row in rows)
    replace_rows(db.session, AlertFlag, rows, Lock.ALERTS_SWAP)
    replace_rows(
        db.session,
        AlertTally,
        [
            {"rule": rule, "district_id": district_id, "flagged": n, "counted_at": now}
            for (rule, district_id), n in tallies.items()
        ],
        Lock.ALERTS_SWAP,
    )
    return len(rows)


def _in_district(column: ColumnElement[int], account: Account) -> ColumnElement[bool]:
    """The stored rows a reviewer may see: all for a city reviewer or an admin, else their
    district's (as branch_scope and instructor_scope decide for the live rules)."""
    return true() if account.sees_everything else column == account.scope_district_id


def stored_counts(account: Account) -> dict[str, int]:
    """How many each rule flagged at the last refresh, within the account's district."""
    found = dict(
        db.session.execute(
            select(AlertTally.rule, func.sum(AlertTally.flagged))
            .where(_in_district(AlertTally.district_id, account))
            .group_by(AlertTally.rule)
        )
        .tuples()
        .all()
    )
    return {rule.key: int(found.get(rule.key, 0)) for rule in RULES}


def stored_statement(rule: str, account: Account, today: date) -> Select:
    """The objects the rule flagged at the last refresh within the account's district, in the
    rule's order, with what the page shows of them loaded and what listing() sorts by joined
    (outer: a branch flagged then may have lost its instructor since)."""
    kind = BY_KEY[rule].object_type
    model = MODELS[kind]
    statement = (
        select(model)
        .join(AlertFlag, and_(AlertFlag.object_id == model.id, AlertFlag.rule == rule))
        .where(_in_district(AlertFlag.district_id, account))
        .options(*LOADS[kind])
        .order_by(AlertFlag.position)
    )
    if rule == "overdue_visits":
        statement = statement.outerjoin(
            Assignment, and_(Assignment.branch_id == Branch.id, held_at(today))
        ).outerjoin(Instructor, Instructor.id == Assignment.instructor_id)
    elif kind in ("problem", "visit"):
        statement = statement.join(Branch, Branch.id == model.branch_id)
    if kind == "visit":
        statement = statement.join(Instructor, Instructor.id == Visit.instructor_id)
    if rule == "overdue_visits" or kind in ("visit", "instructor"):
        statement = statement.outerjoin(GUIDE, GUIDE.id == Instructor.account_id)
    return statement


def stored_at() -> datetime | None:
    return as_utc(db.session.execute(select(func.max(AlertTally.counted_at))).scalar_one())


def latest_notes(rule: str, object_ids: list[int]) -> dict[int, AlertNote]:
    """The newest note on each flagged object, in one query."""
    newest = (
        select(AlertNote.object_id, func.max(AlertNote.id).label("id"))
        .where(AlertNote.rule == rule, AlertNote.object_id.in_(object_ids))
        .group_by(AlertNote.object_id)
        .subquery()
    )
    notes = db.session.execute(
        select(AlertNote)
        .join(newest, newest.c.id == AlertNote.id)
        .options(selectinload(AlertNote.by))
    ).scalars()
    return {note.object_id: note for note in notes}


def notes_about(
    *, branch_ids: list[int] = (), instructor_ids: list[int] = (), limit: int = 20
) -> list[AlertNote]:
    """The follow-up notes recorded on alerts about these branches (and their problems) or
    these instructors, newest first: what the branch and instructor pages show."""
    branch_rules = [rule.key for rule in RULES if rule.object_type == "branch"]
    about = [
        and_(AlertNote.rule.in_(branch_rules), AlertNote.object_id.in_(branch_ids)),
        and_(
            AlertNote.rule == "overdue_problems",
            AlertNote.object_id.in_(select(Problem.id).where(Problem.branch_id.in_(branch_ids))),
        ),
        and_(AlertNote.rule == "caseload", AlertNote.object_id.in_(instructor_ids)),
    ]
    return list(
        db.session.execute(
            select(AlertNote)
            .where(or_(*about))
            .order_by(AlertNote.at.desc(), AlertNote.id.desc())
            .limit(limit)
            .options(selectinload(AlertNote.by))
        ).scalars()
    )


def record(rule: str, object_id: int, note: str, *, by: Account) -> AlertNote:
    """Record what was done about a flagged object; the object must be one the rule flags for
    this reviewer now. Raises RuleError."""
    if rule not in BY_KEY:
        raise RuleError("未知的预警类别。")
    if not note.strip():
        raise RuleError("请写下采取了什么措施。", "note")
    flagged = statement(rule, by, clock.today()).order_by(None).subquery()
    if db.session.execute(select(flagged.c.id).where(flagged.c.id == object_id)).first() is None:
        raise RuleError("该对象目前不在预警中，或您无权查看。")
    entry = AlertNote(rule=rule, object_id=object_id, note=note.strip()[:500], by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    return entry


TABLE = StoredTable(
    "what each alert rule flags, and how many by district",
    (AlertFlag, AlertTally),
    refresh,
    stored_at,
)


@dataclass(frozen=True)
class Flagged:
    """A rule's rows for the alerts page, the same whether counted or read stored."""

    rows: Select  # the objects the rule flags, to search, sort and page
    counts: dict[str, int]  # how many each rule flags, for the tabs
    counted_at: datetime | None  # when they were counted; None: on this request


def flagged(rule: str, account: Account, today: date) -> Flagged:
    """The alerts page's one entry point: what the rule flags within the account's scope,
    counted on the request, or read from the stored flags when the scope is too large
    (crm.review.scale)."""
    if scale.counted_live(account):
        return Flagged(statement(rule, account, today), counts(account, today), None)
    counted_at = scale.counted_at_or_now(TABLE, today)
    return Flagged(stored_statement(rule, account, today), stored_counts(account), counted_at)


def rows(rule: str, account: Account, today: date) -> Select:
    """What the rule flags within the account's scope, as flagged() reads it (counted, or
    stored for a large scope), without the tabs' counts: the reviewer's weekly digest."""
    if scale.counted_live(account):
        return statement(rule, account, today)
    return stored_statement(rule, account, today)
