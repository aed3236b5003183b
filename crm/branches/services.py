"""Party branches: which organizations they cover, and the rules for changing them."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from crm import clock
from crm.branches.models import (
    Branch,
    BranchKind,
    GuidanceSpell,
    Sector,
    address_of,
    place_of,
)
from crm.extensions import db
from crm.organizations import creditcode
from crm.organizations.models import Organization, branch_organization
from crm.rules import RuleError


@dataclass(frozen=True)
class BranchCard:
    """What the phone's lists show of a branch and act on (its name, whom to call, where it
    is), as plain data: a list of them can be kept between requests (crm.core.kept)."""

    id: int
    name: str
    secretary_name: str
    secretary_phone: str
    address: str
    place: tuple[Decimal, Decimal] | None

    @classmethod
    def of(cls, branch: Branch) -> "BranchCard":
        return cls(
            branch.id,
            branch.name,
            branch.secretary_name,
            branch.secretary_phone,
            branch.address,
            branch.place,
        )

    def __str__(self) -> str:
        return self.name


def cards(branch_ids: Select | Sequence[int]) -> dict[int, BranchCard]:
    """BranchCard.of() for each branch, read as columns in two statements (the digests ask for
    3,500 at once, where loading them as objects cost more than the rest of the digest).
    `branch_ids` may be a statement selecting them, which keeps a long list out of the SQL."""
    organizations: dict[int, list[Row]] = defaultdict(list)
    for row in db.session.execute(
        select(
            branch_organization.c.branch_id,
            Organization.address,
            Organization.latitude,
            Organization.longitude,
        )
        .join(Organization, Organization.id == branch_organization.c.organization_id)
        .where(branch_organization.c.branch_id.in_(branch_ids))
        .order_by(Organization.name, Organization.id)  # as Branch.organizations
    ):
        organizations[row.branch_id].append(row)
    return {
        branch_id: BranchCard(
            branch_id,
            name,
            secretary_name,
            secretary_phone,
            address_of(organizations[branch_id]),
            place_of(organizations[branch_id]),
        )
        for branch_id, name, secretary_name, secretary_phone in db.session.execute(
            select(Branch.id, Branch.name, Branch.secretary_name, Branch.secretary_phone).where(
                Branch.id.in_(branch_ids)
            )
        )
    }


def check_coverage(
    sector: Sector, kind: BranchKind, organizations: Sequence[Organization], branch: Branch | None
) -> None:
    """A two-new branch covers its organization (a 联合党支部 two or more); an agency branch
    covers none; an organization has at most one branch. Raises RuleError."""
    if sector is Sector.AGENCY:
        if organizations:
            raise RuleError("机关企事业单位党组织不关联两新组织。", "organization_codes")
        return
    if kind is BranchKind.JOINT and len(organizations) < 2:
        raise RuleError("联合党支部应覆盖至少 2 个组织。", "organization_codes")
    if kind is not BranchKind.JOINT and len(organizations) != 1:
        raise RuleError(
            f"{kind.label}应对应 1 个组织；覆盖多个组织请选“联合党支部”。", "organization_codes"
        )
    for organization in organizations:
        holder = organization.branch
        if holder is not None and holder is not branch:
            raise RuleError(f"“{organization.name}”已由“{holder.name}”覆盖。", "organization_codes")


def create_branch(organizations: Sequence[Organization] = (), **fields: Any) -> Branch:
    """Create a branch under check_coverage(); raises RuleError."""
    check_coverage(fields["sector"], fields["kind"], organizations, None)
    if fields["sector"] is Sector.AGENCY:
        fields["under_guidance"] = False
    branch = Branch(organizations=list(organizations), **fields)
    db.session.add(branch)
    db.session.flush()
    return branch


def update_branch(branch: Branch, organizations: Sequence[Organization], **fields: Any) -> Branch:
    """Change a branch under check_coverage(); raises RuleError."""
    check_coverage(
        fields.get("sector", branch.sector), fields.get("kind", branch.kind), organizations, branch
    )
    for name, value in fields.items():
        setattr(branch, name, value)
    branch.organizations = list(organizations)
    if branch.sector is Sector.AGENCY:
        branch.under_guidance = False
    db.session.flush()
    return branch


def organizations_by_codes(codes: Sequence[str]) -> list[Organization]:
    """The organizations registered under these credit codes; raises RuleError naming any
    code that is not registered."""
    wanted = list(dict.fromkeys(creditcode.normalize(code) for code in codes))
    found = {
        org.credit_code: org
        for org in db.session.execute(
            select(Organization).where(Organization.credit_code.in_(wanted))
        ).scalars()
    }
    missing = [code for code in wanted if code not in found]
    if missing:
        raise RuleError(f"以下代码尚未登记为组织：{'、'.join(missing)}", "organization_codes")
    return [found[code] for code in wanted]


# --- when a branch was listed for guidance ------------------------------------------------------


def guided_at(day: date) -> ColumnElement[bool]:
    """The guidance spells in force at the end of `day` (join GuidanceSpell on the branch)."""
    return and_(
        GuidanceSpell.started_on <= day,
        or_(GuidanceSpell.ended_on.is_(None), GuidanceSpell.ended_on > day),
    )


def listed(branch: Branch) -> bool:
    return branch.sector is Sector.TWO_NEW and bool(branch.under_guidance)


def install() -> None:
    """Keep GuidanceSpell in step with every change of a branch's `under_guidance`."""
    if not event.contains(Session, "before_flush", _keep_spells):
        event.listen(Session, "before_flush", _keep_spells)


def _keep_spells(session: Session, flush_context: Any, instances: Any) -> None:
    # session.new builds its set anew at each reading: taken once, or a flush of n new rows
    # costs n² (an import of 25,000 organizations: 16 s became 300 s).
    new = session.new
    changed = [
        b
        for b in (*new, *session.dirty)
        if isinstance(b, Branch) and (b in new or _guidance_changed(b))
    ]
    if not changed:
        return
    today = clock.today()
    with session.no_autoflush:
        known = [b.id for b in changed if b.id is not None]
        open_spells = (
            {
                spell.branch_id: spell
                for spell in session.scalars(
                    select(GuidanceSpell).where(
                        GuidanceSpell.branch_id.in_(known), GuidanceSpell.ended_on.is_(None)
                    )
                )
            }
            if known
            else {}
        )
        for branch in changed:
            spell = open_spells.get(branch.id) if branch.id is not None else None
            if listed(branch) and spell is None:
                session.add(GuidanceSpell(branch=branch, started_on=today))
            elif not listed(branch) and spell is not None:
                spell.ended_on = max(today, spell.started_on)


def _guidance_changed(branch: Branch) -> bool:
    state = inspect(branch)
    return any(state.attrs[name].history.has_changes() for name in ("under_guidance", "sector"))
