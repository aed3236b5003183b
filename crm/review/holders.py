"""Figures per instructor, by the one attribution rule of DOMAIN.md.

An event counts for whoever held its branch on the event's date (a problem on the day it was
raised, a solution on the day it was solved, a meeting, a card record); a visit counts for
the instructor who made it, who held the branch that day (visits.services refuses a visit
dated before the visitor's assignment). A stock at the end of a day (branches held, overdue
for a visit, overdue problems) counts for whoever held the branch at that day's end. An
event or stock on a branch nobody held then counts under None, so an area's instructor rows
always add up to the area's own figures (crm.review.counts counts those by district with the
same definitions).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, and_, func, select

from crm import clock
from crm.assignments.models import Assignment
from crm.assignments.services import held_at
from crm.branches.models import Branch, GuidanceSpell
from crm.branches.services import guided_at
from crm.cards.models import GoalCard, GoalNote, VanguardCard, VanguardEntry
from crm.corrections.models import Correction
from crm.extensions import db
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.pairings.models import Pairing, PairingActivity
from crm.problems.models import Problem, ProblemStatus
from crm.problems.services import overdue_at
from crm.visits import overdue
from crm.visits.models import Visit

FLOWS = ("visits", "raised", "solved", "meetings", "entries", "notes", "activities")
STOCKS = ("held", "not_visited", "overdue")


@dataclass(frozen=True)
class Scope:
    """Whose figures: a district's (its branches), an instructor's, or both at once."""

    district_id: int | None = None
    instructor_id: int | None = None

    def where(self, statement: Select) -> Select:
        if self.district_id is not None:
            statement = statement.where(Branch.district_id == self.district_id)
        if self.instructor_id is not None:
            statement = statement.where(Assignment.instructor_id == self.instructor_id)
        return statement


def _held(branch_id: sa.ColumnElement[int], day) -> sa.ColumnElement[bool]:
    return and_(Assignment.branch_id == branch_id, held_at(day))


def events(kind: str, first: date, last: date, scope: Scope) -> Select:
    """The records of one flow from `first` to `last`, each joined to the assignment that held
    its branch on its date (none: Assignment's columns are NULL), within the scope."""
    if kind == "visits":
        statement = (
            select(Visit)
            .join(Branch, Branch.id == Visit.branch_id)
            .where(
                Visit.visited_at >= clock.local_midnight(first),
                Visit.visited_at < clock.local_midnight(last + timedelta(days=1)),
            )
        )
        if scope.district_id is not None:
            statement = statement.where(Branch.district_id == scope.district_id)
        if scope.instructor_id is not None:
            statement = statement.where(Visit.instructor_id == scope.instructor_id)
        return statement
    flow = FLOW_OF[kind]
    statement = select(flow.model)
    for target, on in flow.path:
        statement = statement.join(target, on)
    statement = (
        statement.join(Branch, Branch.id == flow.branch_id)
        .outerjoin(Assignment, _held(flow.branch_id, flow.day))
        .where(flow.day.between(first, last), *flow.where)
    )
    return scope.where(statement)


@dataclass(frozen=True)
class Flow:
    """One kind of event: its rows, its date, its branch, the joins from it to its branch."""

    model: type
    day: Any
    branch_id: Any
    path: tuple = ()
    where: tuple = ()


FLOW_OF = {
    "raised": Flow(Problem, Problem.raised_on, Problem.branch_id),
    "solved": Flow(
        Problem,
        Problem.closed_on,
        Problem.branch_id,
        where=(Problem.status == ProblemStatus.SOLVED,),
    ),
    "meetings": Flow(Meeting, Meeting.held_on, Meeting.branch_id, where=(Meeting.standing,)),
    "entries": Flow(  # deeds that count only: unconfirmed or withdrawn ones are not banked
        VanguardEntry,
        VanguardEntry.done_on,
        Member.branch_id,
        path=(
            (VanguardCard, VanguardCard.id == VanguardEntry.card_id),
            (Member, Member.id == VanguardCard.member_id),
        ),
        where=(VanguardEntry.counts,),
    ),
    "notes": Flow(
        GoalNote,
        GoalNote.noted_on,
        GoalCard.branch_id,
        path=((GoalCard, GoalCard.id == GoalNote.card_id),),
        where=(GoalNote.standing,),
    ),
    # 补录: a change to a record of a closed month, listed in that month's report, whose next
    # version's diff names it. Dated by the record it changed.
    "late_corrections": Flow(
        Correction, Correction.day, Correction.branch_id, where=(Correction.late,)
    ),
    "activities": Flow(
        PairingActivity,
        PairingActivity.held_on,
        Pairing.branch_id,
        path=((Pairing, Pairing.id == PairingActivity.pairing_id),),
    ),
}


def held_branches(day: date, scope: Scope) -> Select:
    """The assignments in force at the end of `day` within the scope, with their branches."""
    statement = select(Assignment).join(Branch, Branch.id == Assignment.branch_id)
    return scope.where(statement.where(held_at(day)))


def overdue_branches(day: date, scope: Scope) -> Select:
    """The assignments in force at the end of `day` whose branch is overdue for a visit then.
    For one instructor the visits looked at are their branches' only (read down each branch's
    index): over every branch's visits of the month, one instructor's report took 12.9 s at
    national scale; a district or the city keeps the join over all (visits.overdue)."""
    among = None
    if scope.instructor_id is not None:
        among = held_branches(day, scope).with_only_columns(Assignment.branch_id)
    visited = overdue.visited_recently(day, among)
    statement = held_branches(day, scope).outerjoin(
        visited, visited.c.branch_id == Assignment.branch_id
    )
    return statement.where(overdue.overdue_at(day, visited))


def overdue_problems(day: date, scope: Scope) -> Select:
    """The problems overdue at the end of `day`, each with whoever held its branch then."""
    statement = (
        select(Problem)
        .join(Branch, Branch.id == Problem.branch_id)
        .outerjoin(Assignment, _held(Problem.branch_id, day))
        .where(overdue_at(day))
    )
    return scope.where(statement)


def by_instructor(first: date, last: date, scope: Scope) -> dict[int | None, Counter]:
    """Each instructor's figures (None: nobody held the branch) from `first` to `last`, the
    stocks at the end of `last`: one grouped count a figure."""
    return {who: numbers for (_, who), numbers in _counted(first, last, scope, False).items()}


def by_district_and_instructor(first: date, last: date) -> dict[tuple[int, int | None], Counter]:
    """by_instructor() for every district at once, keyed by (district, instructor): the same
    counts grouped once more, for the whole city's months at a time."""
    return _counted(first, last, Scope(), True)


def _counted(
    first: date, last: date, scope: Scope, per_district: bool
) -> dict[tuple[int | None, int | None], Counter]:
    out: dict[tuple[int | None, int | None], Counter] = {}
    statements = {kind: events(kind, first, last, scope) for kind in FLOWS}
    statements |= {
        "held": held_branches(last, scope).join(
            GuidanceSpell, and_(GuidanceSpell.branch_id == Branch.id, guided_at(last))
        ),
        "not_visited": overdue_branches(last, scope),
        "overdue": overdue_problems(last, scope),
    }
    district = Branch.district_id if per_district else sa.null()
    for kind, statement in statements.items():
        who = Visit.instructor_id if kind == "visits" else Assignment.instructor_id
        counted = statement.with_only_columns(
            district, who, func.count(), maintain_column_froms=True
        ).group_by(who, *([district] if per_district else []))
        for district_id, instructor_id, number in db.session.execute(counted):
            out.setdefault((district_id, instructor_id), Counter())[kind] = number
    return out
