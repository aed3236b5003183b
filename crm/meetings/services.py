"""三会 records: recording one once, who may see them, and how each kind is kept up."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import ColumnElement, Select, Subquery, extract, func, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.assignments.services import branch_scope
from crm.branches.models import Branch
from crm.corrections import services as corrections
from crm.corrections.models import Correction
from crm.extensions import add_once, db
from crm.meetings.models import Meeting, MeetingKind, meeting_photo
from crm.members.models import Member
from crm.photos import services as photos
from crm.photos.models import Photo
from crm.photos.services import PhotoError, StoredPhoto
from crm.rules import RuleError, entered_late


@dataclass(frozen=True)
class NewMeeting:
    client_key: str
    kind: MeetingKind
    held_on: date
    topics: str
    outcome: str = ""
    attendee_ids: Sequence[int] = ()
    other_attendees: str = ""
    photos: Sequence[StoredPhoto] = ()


def find_by_key(account_id: int, client_key: str) -> Meeting | None:
    return db.session.execute(
        select(Meeting).where(Meeting.created_by_id == account_id, Meeting.client_key == client_key)
    ).scalar_one_or_none()


def record_meeting(branch: Branch, new: NewMeeting, *, by: Account) -> Meeting:
    """Record a meeting once per client key. Not in the future; attendees are members of this
    branch; someone attended; at most PHOTOS_PER_RECORD photos. Raises RuleError."""
    if existing := find_by_key(by.id, new.client_key):
        return existing
    if new.held_on > clock.today():
        raise RuleError("会议日期不能晚于今天。", "held_on")
    attendees = _attendees(branch, new.attendee_ids)
    if not attendees and not new.other_attendees.strip():
        raise RuleError("请选择参会党员，或填写其他参会人员。", "attendee_ids")
    limit = current_app.config["PHOTOS_PER_RECORD"]
    if len(new.photos) > limit:
        raise PhotoError(f"每次最多上传 {limit} 张照片。")
    meeting = Meeting(
        branch=branch,
        kind=new.kind,
        held_on=new.held_on,
        topics=new.topics.strip(),
        outcome=new.outcome.strip(),
        other_attendees=new.other_attendees.strip(),
        client_key=new.client_key,
        created_by=by,
        attendees=attendees,
        backfilled=entered_late(new.held_on, clock.now()),
    )
    if (stored := add_once(meeting, lambda: find_by_key(by.id, new.client_key))) is not meeting:
        return stored
    if new.photos:
        meeting.photos = photos.save_rows(list(new.photos), by.id)
    db.session.flush()
    return meeting


@dataclass(frozen=True)
class MeetingChange:
    kind: MeetingKind
    held_on: date
    topics: str
    outcome: str
    attendee_ids: Sequence[int]
    other_attendees: str


CHANGED_NAMES = {
    "kind": "会议类别",
    "held_on": "会议日期",
    "topics": "议题",
    "outcome": "结果",
    "attendees": "参会党员",
    "other_attendees": "其他参会人员",
}


def _subject(meeting: Meeting, by: Account) -> corrections.Subject:
    return corrections.Subject(
        meeting,
        f"{meeting.branch.name}{meeting.held_on:%Y-%m-%d}{meeting.kind.label}",
        meeting.branch_id,
        meeting.held_on,
        free=meeting.created_by_id == by.id,
    )


def correct_meeting(
    meeting: Meeting, change: MeetingChange, *, reason: str, by: Account
) -> Meeting:
    """Correct a meeting by the rule of crm.corrections (its author freely within its month;
    otherwise a version with a reason; 补录 once its month has closed). The same rules as when
    it was recorded; a member who has left since may stay among those who attended.
    Raises RuleError."""
    if change.held_on > clock.today():
        raise RuleError("会议日期不能晚于今天。", "held_on")
    kept = {m.id for m in meeting.attendees}
    attendees = _attendees(meeting.branch, change.attendee_ids, still_here=kept)
    if not attendees and not change.other_attendees.strip():
        raise RuleError("请选择参会党员，或填写其他参会人员。", "attendee_ids")
    values = {
        "kind": change.kind,
        "held_on": change.held_on,
        "topics": change.topics.strip(),
        "outcome": change.outcome.strip(),
        "other_attendees": change.other_attendees.strip(),
        "attendees": sorted(attendees, key=lambda m: m.name),
    }
    corrections.amend(
        _subject(meeting, by),
        values,
        CHANGED_NAMES,
        reason=reason,
        by=by,
        show=lambda name, value: corrections.shown(
            [m.name for m in value] if name == "attendees" else value
        ),
    )
    return meeting


def withdraw_meeting(meeting: Meeting, *, reason: str, by: Account) -> Correction:
    """撤回 a meeting recorded by mistake: kept, marked, counted nowhere. Raises RuleError."""
    return corrections.withdraw(_subject(meeting, by), reason=reason, by=by)


def _attendees(
    branch: Branch, member_ids: Sequence[int], still_here: set[int] = frozenset()
) -> list[Member]:
    wanted = set(member_ids)
    found = (
        db.session.execute(
            select(Member).where(Member.id.in_(wanted), Member.branch_id == branch.id)
        )
        .scalars()
        .all()
    )
    if len(found) != len(wanted):
        raise RuleError("参会党员必须是本支部的党员。", "attendee_ids")
    if gone := [m.name for m in found if not m.active and m.id not in still_here]:
        raise RuleError(f"{'、'.join(gone)}已转出本支部，不能列为参会党员。", "attendee_ids")
    return list(found)


def meeting_scope(account: Account) -> ColumnElement[bool]:
    return Meeting.branch_id.in_(select(Branch.id).where(branch_scope(account)))


def visible_meeting(account: Account, meeting_id: int) -> Meeting | None:
    return db.session.execute(
        select(Meeting)
        .where(Meeting.id == meeting_id, meeting_scope(account))
        .options(selectinload(Meeting.attendees), selectinload(Meeting.photos))
    ).scalar_one_or_none()


def visible_photo(account: Account, photo_id: int) -> Photo | None:
    """A photo of a meeting the account may see."""
    return db.session.execute(
        select(Photo)
        .join(meeting_photo, meeting_photo.c.photo_id == Photo.id)
        .join(Meeting, Meeting.id == meeting_photo.c.meeting_id)
        .where(Photo.id == photo_id, meeting_scope(account))
    ).scalar_one_or_none()


def of_branch(branch_id: int, limit: int = 30) -> list[Meeting]:
    return list(
        db.session.execute(
            select(Meeting)
            .where(Meeting.branch_id == branch_id)
            .options(selectinload(Meeting.attendees))
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class KindRecord:
    """How one kind of meeting is kept up at a branch."""

    kind: MeetingKind
    this_year: int
    last: date | None
    quiet: bool  # none held in this calendar quarter (quiet_since)


class KeptUp(dict[int, list[KindRecord]]):
    """Each branch's record of the three kinds, by branch id; a branch that held none of them
    (so has no row) is all quiet."""

    def __init__(self, since: date) -> None:
        super().__init__()
        self.since = since
        self._none = tuple(_record(kind, 0, None, since) for kind in MeetingKind)

    def __missing__(self, branch_id: int) -> list[KindRecord]:
        return list(self._none)


def kept_up(branch_ids: Select | Sequence[int], today: date) -> KeptUp:
    """For each branch and each kind: how many this year, the last one, and whether none was
    held this calendar quarter. One query; `branch_ids` may be a statement selecting them."""
    rows = db.session.execute(
        select(
            Meeting.branch_id,
            Meeting.kind,
            func.count().filter(extract("year", Meeting.held_on) == today.year),
            func.max(Meeting.held_on),
        )
        .where(Meeting.branch_id.in_(branch_ids), Meeting.held_on <= today, Meeting.standing)
        .group_by(Meeting.branch_id, Meeting.kind)
    )
    found: dict[int, dict[MeetingKind, tuple[int, date | None]]] = defaultdict(dict)
    for branch_id, kind, count, last in rows:
        found[branch_id][kind] = (count, last)
    kept = KeptUp(quiet_since(today))
    for branch_id, kinds in found.items():
        kept[branch_id] = [
            _record(kind, *kinds.get(kind, (0, None)), kept.since) for kind in MeetingKind
        ]
    return kept


def quiet_since(today: date) -> date:
    """The 三会 rule: each kind is held at least once a calendar quarter. A kind is quiet when
    none was held from the quarter's first day; the alerts and the phone use this one day."""
    return clock.quarter_span(clock.quarter_of(today))[0]


def kinds_held_this_quarter(today: date) -> Subquery:
    """(branch_id, kinds): how many of the three kinds each branch has held this quarter; a
    branch with fewer than all of them (or none, so absent) is quiet."""
    return kinds_held(quiet_since(today), today)


def kinds_held(first: date, last: date) -> Subquery:
    """(branch_id, kinds): how many of the three kinds each branch held from `first` to `last`
    (meetings that stand: a withdrawn one was not held)."""
    return (
        select(Meeting.branch_id, func.count(func.distinct(Meeting.kind)).label("kinds"))
        .where(Meeting.held_on.between(first, last), Meeting.standing)
        .group_by(Meeting.branch_id)
        .subquery()
    )


def quiet(held: Subquery) -> ColumnElement[bool]:
    """A branch (outer-joined to kinds_held_this_quarter) that has not held all three kinds
    this calendar quarter: the alert's rule and the caseload's column."""
    return func.coalesce(held.c.kinds, 0) < len(MeetingKind)


def _record(kind: MeetingKind, count: int, last: date | str | None, since: date) -> KindRecord:
    if isinstance(last, str):  # SQLite hands back an aggregate of dates as text
        last = date.fromisoformat(last)
    return KindRecord(kind, count, last, last is None or last < since)
