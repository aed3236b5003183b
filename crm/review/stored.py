"""The review pages for scopes too large to count on each request (a province, the nation).

Up to REVIEW_LIVE_LIMIT instructors in the reviewer's scope the caseload table and the
alerts are counted on the request. Beyond it they are read from figures counted for everyone
at once (crm.review.caseload.refresh, crm.review.alerts.refresh), which the scheduler counts
again every REVIEW_REFRESH_MINUTES; the pages say when they were counted.
"""

from collections.abc import Callable
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from crm.accounts.models import Account
from crm.assignments.services import instructor_scope
from crm.extensions import db, writing
from crm.instructors.models import Instructor
from crm.review import alerts, caseload


def counted_live(account: Account, district_id: int | None = None) -> bool:
    """Whether what the account asks for is small enough to count on the request."""
    statement = select(func.count()).select_from(Instructor).where(instructor_scope(account))
    if district_id:
        statement = statement.where(Instructor.district_id == district_id)
    return db.session.execute(statement).scalar_one() <= current_app.config["REVIEW_LIVE_LIMIT"]


def refresh(today: date) -> int:
    """Count the caseload table and run the alert rules for everyone; the caller commits.
    Returns how many rows were stored."""
    return caseload.refresh(today) + alerts.refresh(today)


def refresh_if_large(today: date) -> int | None:
    """The scheduler's job: refresh() and commit, when some scope is over the limit (the whole
    dataset is); else nothing (None)."""
    total = db.session.execute(select(func.count()).select_from(Instructor)).scalar_one()
    if total <= current_app.config["REVIEW_LIVE_LIMIT"]:
        return None
    stored = refresh(today)
    db.session.commit()
    return stored


def counted_at(table_time: Callable[[], datetime | None], today: date) -> datetime | None:
    """When the stored figures were counted (`table_time`: caseload.stored_at or
    alerts.stored_at); the first large page after an install counts them now."""
    if (at := table_time()) is None:
        with writing():
            refresh(today)
            db.session.commit()
        at = table_time()
    return at
