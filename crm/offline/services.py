"""The offline set: what a phone must be able to open with no network, for one instructor.

The service worker (static/js/sw.js) asks for this list at every page the phone opens online,
fetches what it lacks and drops what is no longer listed (a branch handed over).
"""

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import select

from crm.accounts.models import Account
from crm.assignments.services import branch_scope
from crm.branches.models import Branch
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.problems.models import OPEN_STATUSES, Problem
from crm.problems.services import problem_scope
from crm.visits.models import Visit

ASSETS = ("css/app.css", "js/app.js")


@dataclass(frozen=True)
class OfflineSet:
    """The pages to keep, in the order to fetch them, the static files they need (by their
    versioned address), and addresses that answer with another page (`/` is the home page)."""

    account_id: int
    pages: list[str]
    assets: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)


def offline_set(account: Account) -> OfflineSet:
    """The home page (the due list), each branch the account's instructor holds with its visit
    and meeting forms, the problem ledger and each open problem of those branches, and the
    correction form of each visit sent back: every page the morning digest links to
    (crm.reminders.digests)."""
    home = url_for("branches.index")
    # What it may open offline is what it may see online: the same scopes as the pages.
    held = db.session.scalars(
        select(Branch.id).where(branch_scope(account)).order_by(Branch.id)
    ).all()
    problem_ids = db.session.scalars(
        select(Problem.id)
        .where(problem_scope(account), Problem.status.in_(OPEN_STATUSES))
        .order_by(Problem.due_on, Problem.id)
    ).all()
    pages = [home]
    pages += [url_for("visits.create", branch_id=branch_id) for branch_id in held]
    pages += [url_for("branches.detail", branch_id=branch_id) for branch_id in held]
    pages += [url_for("meetings.create", branch_id=branch_id) for branch_id in held]
    pages.append(url_for("problems.index"))
    pages += [url_for("problems.detail", problem_id=problem_id) for problem_id in problem_ids]
    pages += [url_for("visits.correct", visit_id=visit_id) for visit_id in _returned(account)]
    assets = [url_for("static", filename=name) for name in ASSETS]
    return OfflineSet(account.id, pages, assets, {url_for("accounts.home"): home})


def _returned(account: Account) -> list[int]:
    """The account's visits sent back for correction."""
    own = select(Instructor.id).where(Instructor.account_id == account.id)
    return list(
        db.session.scalars(
            select(Visit.id)
            .where(Visit.instructor_id.in_(own), Visit.returned_at.is_not(None))
            .order_by(Visit.id)
        )
    )
