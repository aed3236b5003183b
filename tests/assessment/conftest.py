"""The assessment's shared records: a branch handed over mid-year, the year's rating window."""

import re
from datetime import date, timedelta

import pytest

from crm import clock
from crm.accounts.models import Role
from crm.assessment.services import scheme_for
from crm.extensions import db
from tests import factories as f

YEAR = clock.today().year - 1


@pytest.fixture
def handover(app):
    """A branch held by one instructor to 1 July of YEAR and by another after, and a branch
    taken over on 15 December (17 days: too few to rate)."""
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        before = f.InstructorFactory(account__name="陈指导")
        after = f.InstructorFactory(account__name="林指导")
        branch = f.BranchFactory(name="赣南脐橙合作社党支部", secretary_name="刘")
        f.AssignmentFactory(instructor=before, branch=branch, started_on=date(YEAR - 1, 3, 1),
                            ended_on=date(YEAR, 7, 1), end_reason="handover")  # fmt: skip
        f.AssignmentFactory(instructor=after, branch=branch, started_on=date(YEAR, 7, 1))
        f.AssignmentFactory(instructor=after, started_on=date(YEAR, 12, 15))
        db.session.commit()
        return {"before": before.id, "after": after.id, "branch": branch.id}


def open_window(app, started: bool = True) -> None:
    """YEAR's scheme with its rating window around today, started (locked) or not."""
    with app.app_context():
        scheme = scheme_for(YEAR)
        scheme.rating_from = clock.today() - timedelta(days=1)
        scheme.rating_until = clock.today() + timedelta(days=10)
        scheme.locked_at = clock.now() if started else None
        db.session.add(scheme)
        db.session.commit()


def issued(page: str) -> dict[str, str]:
    """The links a page has just issued: each instructor's name → the token."""
    return dict(
        re.findall(
            r"请评议指导员(\w+)</p>\s*<p class=\"secret\">[^<]*/assessment/rate/([\w-]{43})<", page
        )
    )
