"""The overview's counts taken from the records themselves, grouped by district.

Two kinds: flows, what happened on each day (visits, problems raised and solved, meetings,
card records), and stocks, what stood at the end of a day (branches under guidance and
covered, branches not visited within their cadence, overdue problems, pairings in force).
crm.review.tally keeps both for settled days; these functions are what it counts with, and
what today's figures are counted with.
"""

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import and_, func, select

from crm import clock
from crm.assignments.models import Assignment
from crm.assignments.services import held_at
from crm.branches.models import Branch, GuidanceSpell
from crm.branches.services import guided_at
from crm.cards.models import GoalCard, GoalNote, VanguardCard, VanguardEntry
from crm.db import local_day
from crm.extensions import db
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.pairings.models import Pairing
from crm.pairings.services import in_force_at
from crm.problems import services as problems
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.visits import overdue
from crm.visits.models import Visit

FLOWS = ("visits", "raised", "solved", "meetings", "entries", "notes")
STOCKS = ("guided", "covered", "not_visited", "overdue_open", "overdue_closed_later", "pairings")


def unindexed(column: sa.ColumnElement) -> sa.ColumnElement:
    """The column in a form no index serves, for a condition that matches most rows.

    SQLite keeps no statistics unless asked, and would walk such an index (most problems are
    solved; most were raised before any given day) rather than the selective one beside it.
    """
    return func.coalesce(column, column)


def flows(first: date, last: date) -> dict[tuple[date, int], Counter]:
    """Per (day, district), what happened on each day from `first` to `last`."""
    visit_day = local_day(Visit.visited_at)
    in_days = lambda column: column.between(first, last)  # noqa: E731
    queries = {
        "visits": select(visit_day, Branch.district_id, func.count())
        .join(Branch, Branch.id == Visit.branch_id)
        .where(
            Visit.visited_at >= clock.local_midnight(first),
            Visit.visited_at < clock.local_midnight(last + timedelta(days=1)),
        )
        .group_by(visit_day, Branch.district_id),
        "raised": select(Problem.raised_on, Branch.district_id, func.count())
        .join(Branch, Branch.id == Problem.branch_id)
        .where(in_days(Problem.raised_on))
        .group_by(Problem.raised_on, Branch.district_id),
        "solved": select(Problem.closed_on, Branch.district_id, func.count())
        .join(Branch, Branch.id == Problem.branch_id)
        .where(unindexed(Problem.status) == ProblemStatus.SOLVED, in_days(Problem.closed_on))
        .group_by(Problem.closed_on, Branch.district_id),
        "meetings": select(Meeting.held_on, Branch.district_id, func.count())
        .join(Branch, Branch.id == Meeting.branch_id)
        .where(Meeting.standing, in_days(Meeting.held_on))
        .group_by(Meeting.held_on, Branch.district_id),
        "entries": select(VanguardEntry.done_on, Branch.district_id, func.count())
        .join(VanguardCard, VanguardCard.id == VanguardEntry.card_id)
        .join(Member, Member.id == VanguardCard.member_id)
        .join(Branch, Branch.id == Member.branch_id)
        .where(VanguardEntry.counts, in_days(VanguardEntry.done_on))
        .group_by(VanguardEntry.done_on, Branch.district_id),
        "notes": select(GoalNote.noted_on, Branch.district_id, func.count())
        .join(GoalCard, GoalCard.id == GoalNote.card_id)
        .join(Branch, Branch.id == GoalCard.branch_id)
        .where(GoalNote.standing, in_days(GoalNote.noted_on))
        .group_by(GoalNote.noted_on, Branch.district_id),
    }
    out: dict[tuple[date, int], Counter] = {}
    for key, statement in queries.items():
        for day, district, *numbers in db.session.execute(statement):
            out.setdefault((day, district), Counter()).update(
                dict(zip(key.split("+"), map(int, numbers), strict=True))
            )
    return out


def stocks(day: date, district_id: int | None) -> dict[int, Counter]:
    """Per district, what stood at the end of `day`, by the rules' one definitions: branches
    listed for guidance then (branches.services.guided_at) and those of them held then
    (assignments.services.held_at), assigned branches overdue for a visit
    (visits.overdue), overdue problems (problems.services.overdue_at, counted in two parts:
    open now, found by status, and closed after the day, by closing date) and pairings in
    force (pairings.services.in_force_at)."""
    scope = Branch.district_id == district_id if district_id else sa.true()
    visited = overdue.visited_recently(day)
    district_of = select(Branch.district_id).where(Branch.id == Problem.branch_id).scalar_subquery()
    late = problems.overdue_at(day)
    queries = {
        "guided+covered": select(Branch.district_id, func.count(), func.count(Assignment.id))
        .join(GuidanceSpell, and_(GuidanceSpell.branch_id == Branch.id, guided_at(day)))
        .outerjoin(Assignment, and_(Assignment.branch_id == Branch.id, held_at(day)))
        .where(scope)
        .group_by(Branch.district_id),
        "not_visited": select(Branch.district_id, func.count())
        .select_from(Assignment)
        .join(Branch, Branch.id == Assignment.branch_id)
        .outerjoin(visited, visited.c.branch_id == Assignment.branch_id)
        .where(held_at(day), overdue.overdue_at(day, visited), scope)
        .group_by(Branch.district_id),
        "overdue_open": select(district_of, func.count())
        .where(Problem.status.in_(OPEN_STATUSES), late)
        .group_by(district_of),
        "overdue_closed_later": select(district_of, func.count())
        .where(unindexed(Problem.status).not_in(OPEN_STATUSES), Problem.closed_on > day, late)
        .group_by(district_of),
        "pairings": select(Branch.district_id, func.count())
        .join(Pairing, Pairing.branch_id == Branch.id)
        .where(scope, in_force_at(day))
        .group_by(Branch.district_id),
    }
    out: dict[int, Counter] = {}
    for key, statement in queries.items():
        for district, *numbers in db.session.execute(statement):
            if district_id is None or district == district_id:
                out.setdefault(district, Counter()).update(
                    dict(zip(key.split("+"), map(int, numbers), strict=True))
                )
    return out
