"""The overview's quarter view: how each district's branches kept up the three meetings in a
calendar quarter, by the one rule (meetings.services: each kind at least once a quarter)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, select, true

from crm import clock
from crm.assignments.models import Assignment
from crm.assignments.services import held_at
from crm.branches.models import Branch
from crm.core import kept
from crm.extensions import db
from crm.meetings import services as meetings
from crm.meetings.models import Meeting, MeetingKind


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, up to today when it is not over."""

    key: str  # 2026Q4
    first: date
    last: date
    label: str

    @property
    def partial(self) -> bool:
        return self.last < clock.quarter_span(self.key)[1]


def quarter_of(day: date, today: date) -> Quarter:
    key = clock.quarter_of(day)
    first, last = clock.quarter_span(key)
    return Quarter(key, first, min(last, today), clock.quarter_label(day))


def recent_quarters(today: date, count: int = 4) -> list[Quarter]:
    """This quarter and the ones before it, newest first (the overview's choice)."""
    found = [quarter_of(today, today)]
    while len(found) < count:
        found.append(quarter_of(date.fromordinal(found[-1].first.toordinal() - 1), today))
    return found


@dataclass
class Line:
    """A district's branches held at the quarter's end: how many held all three meetings in
    it, and how many held each kind."""

    held: int = 0
    quiet: int = 0
    by_kind: Counter = field(default_factory=Counter)

    @property
    def kept_up(self) -> int:
        return self.held - self.quiet


@kept.until_changed
def by_district(quarter: Quarter, district_id: int | None) -> dict[int, Line]:
    """Two queries, however many districts."""
    scope = Branch.district_id == district_id if district_id else true()
    held = meetings.kinds_held(quarter.first, quarter.last)
    lines: dict[int, Line] = {}
    for district, count, quiet in db.session.execute(
        select(Branch.district_id, func.count(), func.count().filter(meetings.quiet(held)))
        .select_from(Assignment)
        .join(Branch, Branch.id == Assignment.branch_id)
        .outerjoin(held, held.c.branch_id == Assignment.branch_id)
        .where(held_at(quarter.last), scope)
        .group_by(Branch.district_id)
    ):
        lines[district] = Line(count, quiet)
    for district, kind, count in db.session.execute(
        select(Branch.district_id, Meeting.kind, func.count(func.distinct(Meeting.branch_id)))
        .select_from(Assignment)
        .join(Branch, Branch.id == Assignment.branch_id)
        .join(
            Meeting,
            and_(
                Meeting.branch_id == Assignment.branch_id,
                Meeting.standing,
                Meeting.held_on.between(quarter.first, quarter.last),
            ),
        )
        .where(held_at(quarter.last), scope)
        .group_by(Branch.district_id, Meeting.kind)
    ):
        lines.setdefault(district, Line()).by_kind[MeetingKind(kind)] = count
    return lines


def total(lines: dict[int, Line]) -> Line:
    whole = Line()
    for line in lines.values():
        whole.held += line.held
        whole.quiet += line.quiet
        whole.by_kind.update(line.by_kind)
    return whole
