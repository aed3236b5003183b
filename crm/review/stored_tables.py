"""The stored tables of the review pages, listed, and the scheduler's tasks that count them
again (each commits its work).

Beside what counts it, each table says what it holds and how it is refreshed
(crm.review.scale.StoredTable): tally.RECENT_TABLE (the overview's today and yesterday),
caseload.TABLE, alerts.TABLE. They are read only for scopes too large to count on the
request (crm.review.scale). The overview's settled days are kept for every scope by
crm.review.tally.
"""

from datetime import date

from flask import current_app
from sqlalchemy import func, select

from crm.extensions import db
from crm.instructors.models import Instructor
from crm.review import alerts, caseload, figures, tally
from crm.review.models import DayTally, StockTally

# Counted again by the scheduler every REVIEW_REFRESH_MINUTES when some scope is large.
REFRESHED = (tally.RECENT_TABLE, caseload.TABLE, alerts.TABLE)
# The overview's settled days (DayTally, StockTally) are the sixth and seventh tables: kept for
# every scope, a day stored once it has passed and forgotten when a record of it is written
# (crm.review.tally.install), stored again by store_overview_days() or the first page to read it.
SETTLED_DAYS = (DayTally, StockTally)


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
