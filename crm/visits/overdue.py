"""The one definition of a branch overdue for an on-site visit (超期未走访), used by the phone's
due list, the caseload table, the alerts, the overview and the reports alike.

An assigned branch needs an on-site visit (实地走访) every VISIT_CADENCE_DAYS. Its next one is
due that many days after the later of its last on-site visit (by anyone) and the day the
current instructor took it over; it is overdue from the day after. On a day D: held since
before D − cadence, and no on-site visit on any day from D − cadence to D. Assigned 30 days
ago and never visited (cadence 30): due today, not yet overdue.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import and_, case, func, select

from crm import clock
from crm.assignments.models import Assignment
from crm.db import local_day
from crm.visits.models import Visit, VisitKind


def cadence() -> timedelta:
    return timedelta(days=current_app.config["VISIT_CADENCE_DAYS"])


def due_on(held_since: date, last_onsite: date | None) -> date:
    """The day the branch's next on-site visit is due."""
    return max(held_since, last_onsite or held_since) + cadence()


def is_overdue(due: date, day: date) -> bool:
    return day > due


def days_overdue_within(held_since: date, onsite: Sequence[date], first: date, last: date) -> int:
    """How many days from `first` to `last` (both included) the branch was overdue, by
    due_on() and is_overdue() as of each day: its holder took it on `held_since`, and it was
    visited on site on the `onsite` days (sorted, any before `first` included). Counted a
    stretch at a time between visits, not day by day (the annual assessment's year)."""
    one = timedelta(days=1)
    before = [day for day in onsite if day <= first]
    latest = before[-1] if before else None
    changes = [day for day in onsite if first < day <= last]
    count, start = 0, first
    for change in [*changes, last + one]:
        due = due_on(held_since, latest)
        overdue_from = max(start, due + one)  # is_overdue(due, day): from the day after
        if overdue_from < change:
            count += (change - overdue_from).days
        start, latest = change, change
    return count


def visited_recently(day: date, among: sa.Select | None = None) -> sa.Subquery:
    """The branches visited on site on a day from `day` − cadence to `day` (赣州 days), once
    each: outer-join it on the branch and test overdue_at() (a join, not a subquery per branch:
    0.15 s against 0.6 s for 185,000 branches). `among` (a select of branch ids) narrows it to
    those branches, for a page of a few hundred (then read down each branch's index)."""
    visits = (
        select(Visit.branch_id)
        .distinct()
        .where(
            Visit.kind == VisitKind.ONSITE,
            Visit.visited_at >= clock.local_midnight(day - cadence()),
            Visit.visited_at < clock.local_midnight(day + timedelta(days=1)),
        )
    )
    if among is not None:
        visits = visits.where(Visit.branch_id.in_(among))
    return visits.subquery()


def overdue_at(day: date, visited: sa.Subquery) -> sa.ColumnElement[bool]:
    """For an assignment in force at the end of `day` (assignments.services.held_at) with
    `visited` (visited_recently(day)) outer-joined on its branch: the branch is overdue then."""
    return and_(Assignment.started_on < day - cadence(), visited.c.branch_id.is_(None))


def due_from() -> sa.ColumnElement[date]:
    """due_on() less the cadence, in SQL, for an assignment in the FROM: the later of the day
    it began and the 赣州 day of its branch's last on-site visit. Ascending, the most overdue
    come first."""
    last = (
        select(func.max(Visit.visited_at))
        .where(Visit.branch_id == Assignment.branch_id, Visit.kind == VisitKind.ONSITE)
        .scalar_subquery()
    )
    day = local_day(last)
    return case((day > Assignment.started_on, day), else_=Assignment.started_on)
