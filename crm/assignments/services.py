"""Assignments under the 5–10 rule, and the scope every query about branches goes through."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account, Role
from crm.assignments.models import Assignment
from crm.branches.models import Branch, Sector
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import Instructor, InstructorStatus
from crm.organizations.models import District, Organization, branch_organization
from crm.rules import RuleError


class AssignmentLimitError(RuleError):
    field = "instructor_id"


class BranchHeldError(RuleError):
    field = "branch_id"


# --- scope: what each account may see -------------------------------------------------------


def _own_instructor_ids(account: Account):
    return select(Instructor.id).where(Instructor.account_id == account.id)


def branch_scope(account: Account) -> ColumnElement[bool]:
    """The branches `account` may see: all for admins and city reviewers, a district for a
    district reviewer, the currently assigned ones for an instructor, none for the rest."""
    if account.sees_everything:
        return true()
    visible = []
    if account.has_role(Role.REVIEWER):
        visible.append(Branch.district_id == account.scope_district_id)
    if account.has_role(Role.INSTRUCTOR):
        visible.append(
            Branch.id.in_(
                select(Assignment.branch_id).where(
                    Assignment.instructor_id.in_(_own_instructor_ids(account)),
                    Assignment.ended_on.is_(None),
                )
            )
        )
    return or_(*visible) if visible else false()


def districts_in_scope(account: Account) -> list[District]:
    """The districts a list's filter offers the account, by the same rule as branch_scope():
    a choice outside the scope could only give an empty list. Every district for whoever sees
    the whole city; a district reviewer's own; the districts of an instructor's branches."""
    query = select(District).order_by(District.position)
    if not account.sees_everything:
        query = query.where(
            District.id.in_(select(Branch.district_id).where(branch_scope(account)))
        )
    return list(db.session.execute(query).scalars())


def instructor_scope(account: Account) -> ColumnElement[bool]:
    """The instructors `account` may see, by the same rule as branch_scope()."""
    if account.sees_everything:
        return true()
    visible = []
    if account.has_role(Role.REVIEWER):
        visible.append(Instructor.district_id == account.scope_district_id)
    if account.has_role(Role.INSTRUCTOR):
        visible.append(Instructor.account_id == account.id)
    return or_(*visible) if visible else false()


def organization_scope(account: Account) -> ColumnElement[bool]:
    """The organizations `account` may see: those of the branches it may see, and for a
    district reviewer every organization of the district."""
    if account.sees_everything:
        return true()
    covered = Organization.id.in_(
        select(branch_organization.c.organization_id)
        .join(Branch, Branch.id == branch_organization.c.branch_id)
        .where(branch_scope(account))
    )
    if account.has_role(Role.REVIEWER):
        return or_(Organization.district_id == account.scope_district_id, covered)
    return covered


def visible_branch(account: Account, branch_id: int) -> Branch | None:
    """The branch if `account` may see it, else None (the view answers 404)."""
    return db.session.execute(
        select(Branch).where(Branch.id == branch_id, branch_scope(account))
    ).scalar_one_or_none()


def visible_instructor(account: Account, instructor_id: int) -> Instructor | None:
    return db.session.execute(
        select(Instructor).where(Instructor.id == instructor_id, instructor_scope(account))
    ).scalar_one_or_none()


def visible_organization(account: Account, organization_id: int) -> Organization | None:
    return db.session.execute(
        select(Organization).where(Organization.id == organization_id, organization_scope(account))
    ).scalar_one_or_none()


# --- the 5–10 rule ------------------------------------------------------------------------------


def caseload_bounds() -> tuple[int, int]:
    return current_app.config["ASSIGNMENT_MIN"], current_app.config["ASSIGNMENT_MAX"]


def caseload_flag(count: int) -> str:
    """The one test of the 5–10 rule: "under", "over" or "" for a number of branches held."""
    low, high = caseload_bounds()
    if count < low:
        return "under"
    return "over" if count > high else ""


def outside_bounds(count: ColumnElement[int]) -> ColumnElement[bool]:
    """caseload_flag() in SQL: the count is under or over the bounds."""
    low, high = caseload_bounds()
    return or_(count < low, count > high)


def held_at(day: date | ColumnElement[date]) -> ColumnElement[bool]:
    """The assignments in force at the end of `day` (a date, or a record's date column: who
    held the branch when the record happened): begun by then, not ended by then. On a
    handover day the branch is the new instructor's (the old assignment ends that day)."""
    return and_(
        Assignment.started_on <= day,
        or_(Assignment.ended_on.is_(None), Assignment.ended_on > day),
    )


def held_during(first: date, last: date) -> ColumnElement[bool]:
    """The assignments in force at some time from `first` to `last` (held_at() for a span)."""
    return and_(
        Assignment.started_on <= last,
        or_(Assignment.ended_on.is_(None), Assignment.ended_on > first),
    )


def current_count(instructor_id: int) -> int:
    return db.session.execute(
        select(func.count()).where(
            Assignment.instructor_id == instructor_id, Assignment.ended_on.is_(None)
        )
    ).scalar_one()


def current_assignment(branch_id: int) -> Assignment | None:
    return db.session.execute(
        select(Assignment).where(Assignment.branch_id == branch_id, Assignment.ended_on.is_(None))
    ).scalar_one_or_none()


def assign(
    instructor: Instructor, branch: Branch, *, on: date, reassign: bool = False
) -> Assignment:
    """Make `instructor` the guide of `branch` from `on`.

    An instructor holds at most ASSIGNMENT_MAX branches (AssignmentLimitError). A branch held
    by another instructor is refused (BranchHeldError) unless `reassign`, which ends that
    assignment on `on` and keeps it as history. Nothing is written when a rule refuses.
    """
    # Lock the instructor row (PostgreSQL) so two admins cannot both add the last slot.
    db.session.execute(
        select(Instructor.id).where(Instructor.id == instructor.id).with_for_update()
    )
    _check_assignable(instructor, branch)
    held = current_assignment(branch.id)
    if held is not None:
        _check_reassignable(held, instructor, on, reassign)
    _, maximum = caseload_bounds()
    if current_count(instructor.id) >= maximum:
        raise AssignmentLimitError(
            f"{instructor.name} 已联系指导 {maximum} 个党组织，达到上限，不能再分配。"
            "请先移交其中一个，或分配给其他指导员。"
        )
    if held is not None:
        end_assignment(held, on=on, reason=f"改派给{instructor.name}")
    branch.under_guidance = True  # a branch someone guides is listed for guidance
    assignment = Assignment(instructor=instructor, branch=branch, started_on=on)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def _check_assignable(instructor: Instructor, branch: Branch) -> None:
    if instructor.status is not InstructorStatus.ACTIVE:
        raise RuleError(f"{instructor.name} 已离岗，不能分配党组织。", "instructor_id")
    if branch.sector is not Sector.TWO_NEW:
        raise RuleError("机关企事业单位党组织不由指导员联系指导。", "branch_id")


def _check_reassignable(held: Assignment, instructor: Instructor, on: date, reassign: bool) -> None:
    if held.instructor_id == instructor.id:
        raise BranchHeldError(f"该党组织已由 {instructor.name} 联系指导。")
    if not reassign:
        raise BranchHeldError(
            f"该党组织目前由 {held.instructor.name} 联系指导；如需改派，请勾选“改派”。"
        )
    if on < held.started_on:
        raise RuleError(
            f"改派日期不能早于原指派的开始日期 {held.started_on:%Y-%m-%d}。", "started_on"
        )


def end_assignment(assignment: Assignment, *, on: date, reason: str = "") -> Assignment:
    """End a current assignment on `on`; raises RuleError if it has ended or `on` is too early."""
    if assignment.ended_on is not None:
        raise RuleError("该指派已经结束。")
    if on < assignment.started_on:
        raise RuleError(f"结束日期不能早于开始日期 {assignment.started_on:%Y-%m-%d}。", "ended_on")
    assignment.ended_on = on
    assignment.end_reason = reason[:100]
    db.session.flush()
    return assignment


def current_counts(instructor_ids: Iterable[int]) -> dict[int, int]:
    """Current assignment count of each instructor, in one query."""
    ids = list(instructor_ids)
    rows = db.session.execute(
        select(Assignment.instructor_id, func.count())
        .where(Assignment.instructor_id.in_(ids), Assignment.ended_on.is_(None))
        .group_by(Assignment.instructor_id)
    )
    return dict.fromkeys(ids, 0) | dict(rows.all())


def current_instructors(branch_ids: Iterable[int]) -> dict[int, Instructor]:
    """The current instructor of each branch that has one, in one query."""
    rows = db.session.execute(
        select(Assignment.branch_id, Instructor)
        .join(Instructor, Instructor.id == Assignment.instructor_id)
        .where(Assignment.branch_id.in_(list(branch_ids)), Assignment.ended_on.is_(None))
    )
    return dict(rows.all())


def history_of_branch(branch_id: int) -> list[Assignment]:
    """Every assignment of the branch, newest first."""
    return list(
        db.session.execute(
            select(Assignment)
            .where(Assignment.branch_id == branch_id)
            .options(selectinload(Assignment.instructor))
            .order_by(Assignment.started_on.desc(), Assignment.id.desc())
        ).scalars()
    )


def history_of_instructor(instructor_id: int) -> list[Assignment]:
    """Every assignment of the instructor, current ones first, then newest first."""
    return list(
        db.session.execute(
            select(Assignment)
            .where(Assignment.instructor_id == instructor_id)
            .options(selectinload(Assignment.branch).selectinload(Branch.district))
            .order_by(
                Assignment.ended_on.is_not(None), Assignment.started_on.desc(), Assignment.id.desc()
            )
        ).scalars()
    )


def unassigned_branches() -> Select:
    """Two-new branches marked for guidance that no instructor holds now (the admin's queue)."""
    return select(Branch).where(
        Branch.sector == Sector.TWO_NEW,
        Branch.under_guidance.is_(True),
        ~Branch.id.in_(select(Assignment.branch_id).where(Assignment.ended_on.is_(None))),
    )


@dataclass(frozen=True)
class Caseload:
    instructor: "instructors.Listed"
    count: int
    low: int
    high: int

    @cached_property  # the table asks three times a row
    def flag(self) -> str:
        """ "under", "over" or "" against the caseload bounds ("" for one who has left)."""
        if self.instructor.status is not InstructorStatus.ACTIVE:
            return ""
        return caseload_flag(self.count)


def caseloads(
    account: Account, *, q: str = "", district_id: int | None = None, departed: bool = False
) -> list[Caseload]:
    """The instructors in post `account` may see (with `departed`, those who left instead),
    each with their current branch count, found by instructors.services.matches(): one
    query."""
    counts = (
        select(Assignment.instructor_id, func.count().label("count"))
        .where(Assignment.ended_on.is_(None))
        .group_by(Assignment.instructor_id)
        .subquery()
    )
    wanted = (
        Instructor.status == InstructorStatus.LEFT
        if departed
        else instructors.in_post_at(clock.today())
    )
    statement = (
        select(*instructors.Listed.columns(), func.coalesce(counts.c.count, 0))
        .select_from(Instructor)
        .join(Instructor.account)
        .join(Instructor.district)
        .outerjoin(counts, counts.c.instructor_id == Instructor.id)
        .where(instructor_scope(account), wanted)
        .order_by(District.position, Account.name)
    )
    if district_id:
        statement = statement.where(Instructor.district_id == district_id)
    low, high = caseload_bounds()
    found = (
        (instructors.Listed(*columns), count)
        for *columns, count in db.session.execute(statement).tuples()
    )
    return [
        Caseload(instructor, count, low, high)
        for instructor, count in found
        if instructors.matches(instructor, q)
    ]


def guides(account: Account, branch_id: int) -> bool:
    """Whether the account is the instructor guiding the branch now."""
    held = current_assignment(branch_id)
    return held is not None and held.instructor.account_id == account.id


@dataclass(frozen=True)
class Move:
    """One branch handed from the leaving instructor to another."""

    branch: Branch
    to: Instructor


def hand_over(leaving: Instructor, moves: list[Move], *, on: date, reason: str) -> list[Assignment]:
    """Hand the chosen branches of `leaving` to other instructors, all or none.

    Each branch must be one `leaving` holds now; each receiver stays within the caseload
    bounds (AssignmentLimitError names who would pass it). The ended assignments stay as
    history with the reason.
    """
    if not moves:
        raise RuleError("请至少为一个党组织选择接手的指导员。")
    made = []
    for move in moves:
        held = current_assignment(move.branch.id)
        if held is None or held.instructor_id != leaving.id:
            raise RuleError(f"“{move.branch.name}”不由{leaving.name}联系指导。")
        if move.to.id == leaving.id:
            raise RuleError(f"“{move.branch.name}”不能移交给{leaving.name}本人。")
        end_assignment(held, on=on, reason=f"{reason or '工作移交'}，移交给{move.to.name}")
        made.append(assign(move.to, move.branch, on=on))
    return made
