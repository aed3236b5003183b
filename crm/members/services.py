"""Members of a branch: who may see them, the rule of one secretary, and the branch's 书记 and
党员人数 read from the member list (one source)."""

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update

from crm import clock
from crm.accounts.models import Account
from crm.assignments.services import branch_scope
from crm.branches.models import Branch
from crm.core.names import pinyin_order
from crm.extensions import db
from crm.instructors.services import normalize_phone
from crm.members.models import Member, MemberRole
from crm.rules import RuleError


def member_scope(account: Account) -> ColumnElement[bool]:
    """Members of the branches the account may see."""
    return Member.branch_id.in_(select(Branch.id).where(branch_scope(account)))


def visible_member(account: Account, member_id: int) -> Member | None:
    return db.session.execute(
        select(Member).where(Member.id == member_id, member_scope(account))
    ).scalar_one_or_none()


def members_of(branch_id: int, *, include_left: bool = False) -> list[Member]:
    """The branch's members: the secretary first, then committee members, then by name."""
    statement = select(Member).where(Member.branch_id == branch_id)
    if not include_left:
        statement = statement.where(Member.active.is_(True))
    order = {MemberRole.SECRETARY: 0, MemberRole.COMMITTEE: 1, MemberRole.MEMBER: 2}
    return sorted(
        db.session.execute(statement).scalars(), key=lambda m: (order[m.role], pinyin_order(m.name))
    )


# Who is counted (党员人数) and who is the secretary (书记): one definition each, for one
# branch and for all at once.
PRESENT = Member.active.is_(True)
SECRETARY = PRESENT & (Member.role == MemberRole.SECRETARY)


def present_count(branch_id: int) -> int:
    """党员人数 as the member list has it: the members still in the branch."""
    return db.session.scalar(select(func.count()).where(Member.branch_id == branch_id, PRESENT))


def secretary_of(branch_id: int) -> Member | None:
    return db.session.execute(
        select(Member).where(Member.branch_id == branch_id, SECRETARY)
    ).scalar_one_or_none()


def _check(branch: Branch, fields: dict[str, Any], member: Member | None) -> dict[str, Any]:
    if fields.get("phone"):
        fields["phone"] = normalize_phone(fields["phone"])
    if "left_on" in fields:  # a member who left has the day they left: one fact, not two
        left_on = fields["left_on"]
        if left_on is not None and left_on > clock.today():
            raise RuleError("转出日期不能晚于今天。", "left_on")
        joined_on = fields.get("joined_on", member.joined_on if member else None)
        if left_on is not None and joined_on is not None and left_on < joined_on:
            raise RuleError("转出日期不能早于入党日期。", "left_on")
        fields["active"] = left_on is None
    if fields.get("role") is MemberRole.SECRETARY and fields.get("active", True):
        holder = secretary_of(branch.id)
        if holder is not None and holder is not member:
            raise RuleError(
                f"本支部书记已登记为{holder.name}；请先把其职务改为委员或党员。", "role"
            )
    return fields


# Called as (branch, secretary before, secretary after, day) when a branch's secretary changes:
# the goal cards follow the secretary's term (crm.cards.services.follow_term registers itself).
SECRETARY_CHANGED: list[Callable[[Branch, Member | None, Member | None, date], None]] = []


def add_member(branch: Branch, **fields: Any) -> Member:
    """Add a member; a branch has one secretary at a time. Raises RuleError."""
    before = secretary_of(branch.id)
    member = Member(branch=branch, **_check(branch, fields, None))
    db.session.add(member)
    db.session.flush()
    follow_members(branch, before)
    return member


def update_member(member: Member, **fields: Any) -> Member:
    """Change a member under the same rules. Raises RuleError."""
    before = secretary_of(member.branch_id)
    for name, value in _check(member.branch, fields, member).items():
        setattr(member, name, value)
    db.session.flush()
    follow_members(member.branch, before)
    return member


def follow_members(branch: Branch, secretary_before: Member | None = None) -> None:
    """A person's details live in one place: once a branch has a member list, its 书记, 书记电话
    and 党员人数 are read from it (the secretary's name and phone, the members still in the
    branch), kept in step here; a change of secretary is told to SECRETARY_CHANGED."""
    secretary = secretary_of(branch.id)
    present = present_count(branch.id)
    if secretary is not None:
        branch.secretary_name, branch.secretary_phone = secretary.name, secretary.phone
    if present:
        branch.member_count = present
    db.session.flush()
    if secretary is not secretary_before:
        for follow in SECRETARY_CHANGED:
            follow(branch, secretary_before, secretary, clock.today())


def follow_all_members() -> None:
    """follow_members for every branch with a member list at once (after a bulk load)."""
    secretary = (Member.branch_id == Branch.id) & SECRETARY
    present = (Member.branch_id == Branch.id) & PRESENT
    db.session.execute(
        update(Branch)
        .where(exists().where(secretary))
        .values(
            secretary_name=select(Member.name).where(secretary).limit(1).scalar_subquery(),
            secretary_phone=select(Member.phone).where(secretary).limit(1).scalar_subquery(),
        )
    )
    db.session.execute(
        update(Branch)
        .where(exists().where(present))
        .values(
            member_count=select(func.count(Member.id)).where(present).scalar_subquery(),
        )
    )
