"""Whether a reviewer's scope is counted on the request or read from figures stored for
everyone at once, and what the stored tables have in common.

Up to REVIEW_LIVE_LIMIT instructors in the reviewer's scope the caseload table, the alerts
and the overview's figures for today and yesterday are counted on the request. Beyond it
(a province, the nation) they are read from tables counted for everyone at once, which the
scheduler counts again every REVIEW_REFRESH_MINUTES; the pages say when they were counted.
Each table is declared beside what counts it (caseload.TABLE, alerts.TABLE,
tally.RECENT_TABLE); crm.review.stored_tables lists them and refreshes them.
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


@dataclass(frozen=True)
class StoredTable:
    """Figures counted for everyone at once and kept in tables, read by the pages of a large
    scope: what it holds, its tables, how it is counted again, and when it last was."""

    name: str
    models: tuple[type, ...]
    refresh: Callable[[date], int]  # counts everything again; the caller commits
    counted_at: Callable[[], datetime | None]


def counted_live(account: Account, district_id: int | None = None) -> bool:
    """Whether what the account asks for is small enough to count on the request."""
    limit = current_app.config["REVIEW_LIVE_LIMIT"]
    visible = select(Instructor.id).where(instructor_scope(account))
    if district_id:
        visible = visible.where(Instructor.district_id == district_id)
    # Counted no further than the limit: all 250,000 instructors took 32 ms to count.
    over = select(func.count()).select_from(visible.limit(limit + 1).subquery())
    return db.session.execute(over).scalar_one() <= limit


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
