"""The review pages for scopes too large to count on each request (a province, the nation).

Up to REVIEW_LIVE_LIMIT instructors in the reviewer's scope the caseload table, the alerts
and the overview's figures for today and yesterday are counted on the request. Beyond it
they are read from figures counted for everyone at once (crm.review.caseload.refresh,
crm.review.alerts.refresh, crm.review.tally.refresh_recent), which the scheduler counts again
every REVIEW_REFRESH_MINUTES; the pages say when they were counted. (The overview's earlier
days are stored as they settle, for every scope: crm.review.tally.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from crm.accounts.models import Account
from crm.assignments.services import instructor_scope
from crm.extensions import db, writing
from crm.instructors.models import Instructor
from crm.review import alerts, caseload, figures, tally
from crm.review.models import (
    AlertFlag,
    AlertTally,
    CaseloadFigures,
    DayTally,
    RecentTally,
    StockTally,
)


@dataclass(frozen=True)
class StoredTable:
    """Figures counted for everyone at once and kept in tables, read by the pages of a large
    scope: what it holds, its tables, how it is counted again, and when it last was."""

    name: str
    models: tuple[type, ...]
    refresh: Callable[[date], int]  # counts everything again; the caller commits
    counted_at: Callable[[], datetime | None]


RECENT = StoredTable(
    "the overview's figures for today and yesterday",
    (RecentTally,),
    tally.refresh_recent,
    tally.recent_at,
)
CASELOADS = StoredTable(
    "the caseload table's figures", (CaseloadFigures,), caseload.refresh, caseload.stored_at
)
ALERTS = StoredTable(
    "what each alert rule flags, and how many by district",
    (AlertFlag, AlertTally),
    alerts.refresh,
    alerts.stored_at,
)
# Counted again by the scheduler every REVIEW_REFRESH_MINUTES when some scope is large.
REFRESHED = (RECENT, CASELOADS, ALERTS)
# The overview's settled days (DayTally, StockTally) are the sixth and seventh tables: kept for
# every scope, a day stored once it has passed and forgotten when a record of it is written
# (crm.review.tally.install), stored again by store_overview_days() or the first page to read it.
SETTLED_DAYS = (DayTally, StockTally)


def counted_live(account: Account, district_id: int | None = None) -> bool:
    """Whether what the account asks for is small enough to count on the request."""
    limit = current_app.config["REVIEW_LIVE_LIMIT"]
    visible = select(Instructor.id).where(instructor_scope(account))
    if district_id:
        visible = visible.where(Instructor.district_id == district_id)
    # Counted no further than the limit: all 250,000 instructors took 32 ms to count.
    over = select(func.count()).select_from(visible.limit(limit + 1).subquery())
    return db.session.execute(over).scalar_one() <= limit


def refresh(today: date) -> int:
    """Count the caseload table, run the alert rules and count today's and yesterday's overview
    figures for everyone, each committed as it is done. Returns how many rows."""
    stored = 0
    for table in REFRESHED:
        stored += table.refresh(today)
        db.session.commit()
    store_overview_days(today)
    return stored


def store_overview_days(today: date) -> None:
    """Store the settled days the overview reads by default, if some are not (after an install,
    a restore, a demo load, or a branch moved between districts, every day is forgotten:
    storing them again took 36 s at national scale, and 1 s for the first reviewer of a
    restored city), so that no reviewer waits for them. Quick when they are stored."""
    this_month = figures.month(today.year, today.month, today)
    figures.overview_spans(this_month, today, None, recent_stored=True)  # what it reads first
    figures.by_month(figures.last_twelve_months(today), None, recent_stored=True)
    db.session.commit()


def refresh_if_large(today: date) -> int | None:
    """The scheduler's job, at start-up and every REVIEW_REFRESH_MINUTES: refresh() and commit,
    when some scope is over the limit (the whole dataset is); else only the overview's stored
    days, which every size reads (None)."""
    total = db.session.execute(select(func.count()).select_from(Instructor)).scalar_one()
    if total <= current_app.config["REVIEW_LIVE_LIMIT"]:
        store_overview_days(today)
        return None
    return refresh(today)


def counted_at_or_now(table: StoredTable, today: date) -> datetime | None:
    """When the table was counted. If it never was (the first large page after an install, or
    today's figures just after midnight before the scheduler's next count), it is counted now:
    the one place a GET writes, so that the page shows figures rather than nothing; the
    scheduler's job (refresh_if_large) makes this rare."""
    if (at := table.counted_at()) is None:
        with writing():
            table.refresh(today)
            db.session.commit()
        at = table.counted_at()
    return at
