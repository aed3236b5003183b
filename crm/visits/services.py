"""Visits: recording one exactly once, the instructor's due list, and the branch timeline."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.assignments import services as assignments
from crm.assignments.models import Assignment
from crm.branches.models import Branch
from crm.branches.services import BranchCard
from crm.branches.services import cards as branch_cards
from crm.core import kept
from crm.corrections import services as corrections
from crm.db import as_utc
from crm.extensions import add_once, db
from crm.instructors.models import Instructor
from crm.photos import services as photos
from crm.photos.models import Photo
from crm.photos.services import PhotoError, StoredPhoto
from crm.problems import services as problems
from crm.problems.services import NewProblem, ProblemCounts
from crm.rules import RuleError, entered_late
from crm.visits import overdue
from crm.visits.models import Clarity, Visit, VisitKind, visit_photo

CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead


@dataclass(frozen=True)
class Location:
    latitude: Decimal
    longitude: Decimal
    accuracy_m: int | None = None


@dataclass(frozen=True)
class NewVisit:
    """A visit as the phone sent it."""

    client_key: str
    visited_at: datetime
    kind: VisitKind
    summary: str
    people_met: str = ""
    clarified: frozenset[Clarity] = frozenset()
    location: Location | None = None
    problems: Sequence[NewProblem] = ()
    photos: Sequence[StoredPhoto] = ()


def find_by_key(instructor_id: int, client_key: str) -> Visit | None:
    return db.session.execute(
        select(Visit).where(Visit.instructor_id == instructor_id, Visit.client_key == client_key)
    ).scalar_one_or_none()


def record_visit(instructor: Instructor, branch: Branch, new: NewVisit) -> Visit:
    """Record a visit with the problems raised and the photos taken, once per client key.

    The same key again returns the visit it first made, whatever else was sent. An
    instructor logs visits only to branches they guide now; a visit cannot be in the
    future; at most PHOTOS_PER_RECORD photos. Raises RuleError. A visit received more than
    BACKFILL_DAYS after it happened is marked 补录; one farther than VISIT_FAR_METERS from the
    branch's registered place is flagged, not refused.
    """
    if existing := find_by_key(instructor.id, new.client_key):
        return existing
    _check(instructor, branch, new)
    received_at = clock.now()
    visit = Visit(
        instructor=instructor,
        branch=branch,
        client_key=new.client_key,
        visited_at=new.visited_at,
        received_at=received_at,
        kind=new.kind,
        summary=new.summary.strip(),
        people_met=new.people_met.strip(),
        backfilled=entered_late(new.visited_at, received_at),
        **{item.column: item in new.clarified for item in Clarity},
    )
    _place(visit, branch, new.location)
    # A phone's clock may run a little ahead past midnight: a problem is never dated tomorrow.
    raised_on = min(new.visited_at.astimezone(clock.LOCAL_TIME).date(), clock.today())
    visit.problems = [
        problems.new_problem(branch, problem, by=instructor.account, on=raised_on)
        for problem in new.problems
    ]
    if (stored := add_once(visit, lambda: find_by_key(instructor.id, new.client_key))) is not visit:
        return stored
    if new.photos:
        visit.photos = photos.save_rows(list(new.photos), instructor.account_id)
    db.session.flush()
    return visit


def _check(instructor: Instructor, branch: Branch, new: NewVisit) -> None:
    held = assignments.current_assignment(branch.id)
    if held is None or held.instructor_id != instructor.id:
        raise RuleError("您目前不联系指导这个党组织，不能为它登记走访。")
    if new.visited_at > clock.now() + CLOCK_SKEW:
        raise RuleError("走访时间不能晚于现在。", "visited_at")
    if new.visited_at.astimezone(clock.LOCAL_TIME).date() < held.started_on:
        # A visit counts for whoever held the branch that day (crm.review.holders).
        raise RuleError(
            f"您从 {held.started_on:%Y-%m-%d} 起联系指导这个党组织，不能登记此前的走访。",
            "visited_at",
        )
    limit = current_app.config["PHOTOS_PER_RECORD"]
    if len(new.photos) > limit:
        raise PhotoError(f"每次最多上传 {limit} 张照片。")


def _place(visit: Visit, branch: Branch, location: Location | None) -> None:
    if location is None:
        return
    visit.latitude, visit.longitude = location.latitude, location.longitude
    visit.accuracy_m = location.accuracy_m
    registered = registered_place(branch)
    if registered is not None:
        visit.distance_m = round(
            meters_between(registered, (location.latitude, location.longitude))
        )
        visit.far_from_branch = visit.distance_m > current_app.config["VISIT_FAR_METERS"]


def registered_place(branch: Branch) -> tuple[Decimal, Decimal] | None:
    """The coordinates registered for the branch's (first) organization, if any."""
    for organization in branch.organizations:
        if organization.latitude is not None and organization.longitude is not None:
            return organization.latitude, organization.longitude
    return None


def meters_between(a: tuple[Decimal, Decimal], b: tuple[Decimal, Decimal]) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def most_used_kind(instructor_id: int) -> VisitKind:
    """The kind this instructor logs most often, for the form's default."""
    kind = db.session.execute(
        select(Visit.kind)
        .where(Visit.instructor_id == instructor_id)
        .group_by(Visit.kind)
        .order_by(func.count().desc(), Visit.kind)
        .limit(1)
    ).scalar_one_or_none()
    return kind or VisitKind.ONSITE


# --- who sees which visit ---------------------------------------------------------------------


def visit_scope(account: Account) -> ColumnElement[bool]:
    """Visits to branches the account may see, and an instructor's own visits even after the
    branch was handed over (past visits stay with the instructor who made them)."""
    own = Visit.instructor_id.in_(select(Instructor.id).where(Instructor.account_id == account.id))
    return or_(Visit.branch_id.in_(select(Branch.id).where(assignments.branch_scope(account))), own)


def visible_visit(account: Account, visit_id: int) -> Visit | None:
    return db.session.execute(
        select(Visit)
        .where(Visit.id == visit_id, visit_scope(account))
        .options(selectinload(Visit.photos), selectinload(Visit.problems))
    ).scalar_one_or_none()


# --- the instructor's due list ------------------------------------------------------------------


class Guide(NamedTuple):
    """Who guides a branch now, as the due lists name them."""

    id: int
    name: str


@dataclass(frozen=True)
class DueBranch:
    """One of the instructor's branches, with what makes it urgent: plain data, so that an
    instructor's list is kept between requests until the records change (crm.core.kept)."""

    branch: BranchCard
    due_on: date
    last_visit: datetime | None
    problems: ProblemCounts = field(default_factory=ProblemCounts)
    today: date = field(default_factory=clock.today)
    last_kind: VisitKind | None = None
    last_onsite: date | None = None  # the 赣州 day of its last on-site visit
    instructor: Guide | None = None  # who guides it now

    @property
    def overdue_for_visit(self) -> bool:
        return overdue.is_overdue(self.due_on, self.today)

    @property
    def days_since_visit(self) -> int | None:
        if self.last_visit is None:
            return None
        return (self.today - self.last_visit.astimezone(clock.LOCAL_TIME).date()).days

    @property
    def days_overdue(self) -> int:
        """Days past the day its on-site visit was due; 0 when not overdue."""
        return max((self.today - self.due_on).days, 0)

    @property
    def last_onsite_days(self) -> int | None:
        """Days since its last on-site visit (by anyone), None when it has had none."""
        if self.last_onsite is None:
            return None
        return (self.today - self.last_onsite).days

    @property
    def urgency(self) -> tuple[int, date]:
        if self.overdue_for_visit:
            return 0, self.due_on
        return (1 if self.problems.overdue else 2), self.due_on


def due_list(instructor: Instructor, today: date) -> tuple[DueBranch, ...]:
    """The instructor's current branches, most urgent first: overdue for an on-site visit
    (none within VISIT_CADENCE_DAYS of the last one, or of the assignment's start), then
    those with problems past due, then the rest by when their next visit is due."""
    return _due_list(instructor.id, today)


@kept.until_changed
def _due_list(instructor_id: int, today: date) -> tuple[DueBranch, ...]:
    rows = due_rows(Assignment.instructor_id == instructor_id, today)
    return tuple(sorted(rows, key=lambda row: (row.urgency, row.branch.name)))


def due_of(branch_id: int, today: date) -> DueBranch | None:
    """When the branch's next on-site visit is due, for its current instructor; None when
    nobody guides it (nothing is then due)."""
    rows = due_rows(Assignment.branch_id == branch_id, today)
    return rows[0] if rows else None


def due_by_branch(branch_ids: list[int], today: date) -> dict[int, DueBranch]:
    """due_of() for each of the branches that someone guides, in as many statements as for one."""
    return {row.branch.id: row for row in due_rows(Assignment.branch_id.in_(branch_ids), today)}


def due_rows(which: ColumnElement[bool], today: date) -> list[DueBranch]:
    """The current assignments `which` selects, each as its branch's DueBranch, unsorted: a few
    statements however many, read as columns (the digests ask for 500 instructors' at once)."""
    current = (which, Assignment.ended_on.is_(None))
    held = db.session.execute(
        select(Assignment.branch_id, Assignment.started_on, Assignment.instructor_id, Account.name)
        .join(Instructor, Instructor.id == Assignment.instructor_id)
        .join(Account, Account.id == Instructor.account_id)
        .where(*current)
    ).all()
    ids = select(Assignment.branch_id).where(*current)
    cards = branch_cards(ids)
    last = _last_visits(ids)
    counts = problems.counts_by_branch(ids, today)
    rows = []
    for branch_id, started_on, instructor_id, instructor_name in held:
        last_any, last_onsite, last_kind = last.get(branch_id, (None, None, None))
        onsite_day = _local_day(last_onsite)
        rows.append(
            DueBranch(
                cards[branch_id],
                overdue.due_on(started_on, onsite_day),
                last_any,
                counts.get(branch_id, ProblemCounts()),
                today,
                last_kind,
                onsite_day,
                Guide(instructor_id, instructor_name),
            )
        )
    return rows


def _last_visits(
    branch_ids: Select,
) -> dict[int, tuple[datetime | None, datetime | None, VisitKind | None]]:
    """Each branch's last visit of any kind (and which kind it was, so the phone says what a
    recent visit was) and its last on-site visit: one statement, each read down the branch's
    index (a join on the newest visit per branch read every visit: 2.5 ms of the 4.3 the due
    list took)."""
    newest = (
        select(Visit)
        .where(Visit.branch_id == Branch.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
    )
    onsite = select(func.max(Visit.visited_at)).where(
        Visit.branch_id == Branch.id, Visit.kind == VisitKind.ONSITE
    )
    rows = db.session.execute(
        select(
            Branch.id,
            newest.with_only_columns(Visit.visited_at).scalar_subquery(),
            newest.with_only_columns(Visit.kind).scalar_subquery(),
            onsite.scalar_subquery(),
        ).where(Branch.id.in_(branch_ids))
    )
    return {
        branch_id: (as_utc(last), as_utc(last_onsite), kind)
        for branch_id, last, kind, last_onsite in rows
        if last is not None
    }


def _local_day(value: datetime | None) -> date | None:
    return value.astimezone(clock.LOCAL_TIME).date() if value else None


def returned_visits(instructor: Instructor) -> list[Visit]:
    """Visits a reviewer sent back to this instructor for correction, oldest first."""
    return list(
        db.session.execute(
            select(Visit)
            .where(Visit.instructor_id == instructor.id, Visit.returned_at.is_not(None))
            .options(selectinload(Visit.branch))
            .order_by(Visit.returned_at)
        ).scalars()
    )


# --- the branch page ------------------------------------------------------------------------


def recent_visits(branch_id: int, limit: int = 30) -> list[Visit]:
    return list(
        db.session.execute(
            select(Visit)
            .where(Visit.branch_id == branch_id)
            .options(
                selectinload(Visit.instructor),
                selectinload(Visit.problems),
                selectinload(Visit.photos),
            )
            .order_by(Visit.visited_at.desc())
            .limit(limit)
        ).scalars()
    )


def clarity_gaps(branch_id: int) -> list[Clarity]:
    """The 五清五促 items no visit to this branch has clarified yet."""
    known = db.session.execute(
        select(
            *(func.max(sa.cast(getattr(Visit, item.column), sa.Integer)) for item in Clarity)
        ).where(Visit.branch_id == branch_id)
    ).one()
    return [item for item, seen in zip(Clarity, known, strict=True) if not seen]


def visible_photo(account: Account, photo_id: int) -> Photo | None:
    """A photo of a visit the account may see."""
    return db.session.execute(
        select(Photo)
        .join(visit_photo, visit_photo.c.photo_id == Photo.id)
        .join(Visit, Visit.id == visit_photo.c.visit_id)
        .where(Photo.id == photo_id, visit_scope(account))
    ).scalar_one_or_none()


def correct(
    visit: Visit, *, summary: str, people_met: str, clarified: frozenset[Clarity], by: Account
) -> Visit:
    """The instructor's correction of a visit a reviewer sent back; it is no longer returned,
    and what changed is kept as its next version for the reviewer to read. Raises RuleError
    for a visit that was not sent back, an empty summary, or nothing changed."""
    if visit.returned_at is None:
        raise RuleError("这条走访没有被退回。")
    if not summary.strip():
        raise RuleError("请简要写下这次走访做了什么。", "summary")
    before = (visit.summary, visit.people_met, _clarity_text(visit.clarified))
    visit.summary, visit.people_met = summary.strip(), people_met.strip()
    for item in Clarity:
        setattr(visit, item.column, item in clarified)
    after = (visit.summary, visit.people_met, _clarity_text(visit.clarified))
    changes = [
        [name, old, new]
        for name, old, new in zip(("走访情况", "见到的人", "五清"), before, after, strict=True)
        if old != new
    ]
    if not changes:
        raise RuleError("没有任何改动：请按退回意见修改后再提交。", "summary")
    day = visit.visited_at.astimezone(clock.LOCAL_TIME).date()
    subject = corrections.Subject(visit, f"{day:%Y-%m-%d} 的走访", visit.branch_id, day, False)
    corrections.keep_change(
        subject, changes, reason=f"按退回意见更正：{visit.return_note}"[:200], by=by
    )
    visit.returned_at, visit.return_note = None, ""
    db.session.flush()
    return visit


def _clarity_text(items) -> str:
    return "、".join(item.label for item in items) or "（无）"


def recent_by(instructor_id: int, limit: int = 15) -> list[Visit]:
    """The instructor's latest visits, for their timeline."""
    return list(
        db.session.execute(
            select(Visit)
            .where(Visit.instructor_id == instructor_id)
            .options(selectinload(Visit.branch))
            .order_by(Visit.visited_at.desc())
            .limit(limit)
        ).scalars()
    )
