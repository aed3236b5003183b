"""Members of a branch: who may see them, and the rule of one secretary."""

from typing import Any

from sqlalchemy import ColumnElement, select

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


def secretary_of(branch_id: int) -> Member | None:
    return db.session.execute(
        select(Member).where(
            Member.branch_id == branch_id, Member.role == MemberRole.SECRETARY, Member.active
        )
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


def add_member(branch: Branch, **fields: Any) -> Member:
    """Add a member; a branch has one secretary at a time. Raises RuleError."""
    member = Member(branch=branch, **_check(branch, fields, None))
    db.session.add(member)
    db.session.flush()
    follow_secretary(branch)
    return member


def update_member(member: Member, **fields: Any) -> Member:
    """Change a member under the same rules. Raises RuleError."""
    for name, value in _check(member.branch, fields, member).items():
        setattr(member, name, value)
    db.session.flush()
    follow_secretary(member.branch)
    return member


def follow_secretary(branch: Branch) -> None:
    """A person's contact details live in one place: where the member list names a secretary,
    the branch's 书记 and 书记电话 are that member's name and phone, kept in step here."""
    secretary = secretary_of(branch.id)
    if secretary is not None and (branch.secretary_name, branch.secretary_phone) != (
        secretary.name,
        secretary.phone,
    ):
        branch.secretary_name, branch.secretary_phone = secretary.name, secretary.phone
        db.session.flush()
