"""The pairing ledger: pairings from both sides, their activities, and what reviewers flag."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from crm import clock
from crm.accounts.models import Account
from crm.assignments.services import branch_scope
from crm.branches.models import Branch, Sector
from crm.extensions import add_once, db
from crm.pairings.models import ActivityKind, Pairing, PairingActivity, PairingStatus
from crm.rules import RuleError


def of_branch(branch: Branch) -> list[Pairing]:
    """The pairings the branch takes part in, on either side, in force first."""
    return list(
        db.session.execute(
            select(Pairing)
            .where(or_(Pairing.branch_id == branch.id, Pairing.agency_branch_id == branch.id))
            .options(selectinload(Pairing.branch), selectinload(Pairing.agency_branch))
            .order_by(Pairing.status, Pairing.started_on.desc())
        ).scalars()
    )


def pairing_scope(account: Account) -> ColumnElement[bool]:
    """Pairings whose two-new branch or agency branch the account may see."""
    visible = select(Branch.id).where(branch_scope(account))
    return or_(Pairing.branch_id.in_(visible), Pairing.agency_branch_id.in_(visible))


def visible_pairing(account: Account, pairing_id: int) -> Pairing | None:
    return db.session.execute(
        select(Pairing)
        .where(Pairing.id == pairing_id, pairing_scope(account))
        .options(selectinload(Pairing.activities))
    ).scalar_one_or_none()


def create_pairing(agency: Branch, branch: Branch, *, started_on: date, purpose: str) -> Pairing:
    """Pair an agency branch with a two-new branch; a pair is recorded once. Raises RuleError."""
    if agency.sector is not Sector.AGENCY:
        raise RuleError("结对一方应是机关企事业单位党组织。", "agency_branch_id")
    if branch.sector is not Sector.TWO_NEW:
        raise RuleError("结对另一方应是两新组织党组织。", "branch_id")
    check_dates(started_on, None)
    existing = db.session.execute(
        select(Pairing).where(Pairing.agency_branch_id == agency.id, Pairing.branch_id == branch.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise RuleError(f"二者已经结对（{existing.status.label}），不能重复登记。", "branch_id")
    pairing = Pairing(
        agency_branch=agency, branch=branch, started_on=started_on, purpose=purpose.strip()
    )
    db.session.add(pairing)
    db.session.flush()
    return pairing


def end_pairing(pairing: Pairing, *, on: date) -> Pairing:
    """End a pairing in force; not before it began. Raises RuleError."""
    if pairing.status is PairingStatus.ENDED:
        raise RuleError("该结对已经结束。")
    check_dates(pairing.started_on, on)
    pairing.ended_on = on
    db.session.flush()
    return pairing


def check_dates(started_on: date, ended_on: date | None) -> None:
    """A pairing's dates: started by today, ended (if it has) by today and not before it
    started. The status follows from them. Raises RuleError."""
    today = clock.today()
    if started_on > today:
        raise RuleError("开始日期不能晚于今天。", "started_on")
    if ended_on is not None and ended_on > today:
        raise RuleError("结束日期不能晚于今天。", "ended_on")
    if ended_on is not None and ended_on < started_on:
        raise RuleError(f"结束日期不能早于开始日期 {started_on:%Y-%m-%d}。", "ended_on")


def in_force_at(day: date) -> ColumnElement[bool]:
    """The one definition of a pairing in force (在册结对) at the end of `day`: begun by then,
    not ended by then, and entered by then (a pairing imported later does not rewrite a
    closed month), unless it was entered as history (the go-live import of what was there)."""
    return and_(
        Pairing.started_on <= day,
        or_(Pairing.ended_on.is_(None), Pairing.ended_on > day),
        or_(
            Pairing.entered_as_history,
            Pairing.created_at < clock.local_midnight(day + timedelta(days=1)),
        ),
    )


@dataclass(frozen=True)
class NewActivity:
    client_key: str
    held_on: date
    kind: ActivityKind
    description: str
    resources: str = ""
    people_reached: int = 0


def activity_by_key(account_id: int, client_key: str) -> PairingActivity | None:
    return db.session.execute(
        select(PairingActivity).where(
            PairingActivity.created_by_id == account_id, PairingActivity.client_key == client_key
        )
    ).scalar_one_or_none()


def log_activity(pairing: Pairing, new: NewActivity, *, by: Account) -> PairingActivity:
    """Log a joint activity once per client key, within the pairing's time and not in the
    future. Raises RuleError."""
    if existing := activity_by_key(by.id, new.client_key):
        return existing
    if new.held_on > clock.today():
        raise RuleError("活动日期不能晚于今天。", "held_on")
    if new.held_on < pairing.started_on or (pairing.ended_on and new.held_on > pairing.ended_on):
        raise RuleError("活动日期应在结对期间内。", "held_on")
    if new.people_reached < 0:
        raise RuleError("受益人数不能为负数。", "people_reached")
    activity = PairingActivity(
        pairing_id=pairing.id,
        held_on=new.held_on,
        kind=new.kind,
        description=new.description.strip(),
        resources=new.resources.strip(),
        people_reached=new.people_reached,
        client_key=new.client_key,
        created_by_id=by.id,
    )
    if (
        stored := add_once(activity, lambda: activity_by_key(by.id, new.client_key))
    ) is not activity:
        return stored
    db.session.flush()
    return activity


# --- what the ledger flags ----------------------------------------------------------------------


def ledger(account: Account) -> Select:
    """Every pairing the account may see, newest first, both branches loaded."""
    return (
        select(Pairing)
        .where(pairing_scope(account))
        .options(selectinload(Pairing.branch), selectinload(Pairing.agency_branch))
        .order_by(Pairing.started_on.desc(), Pairing.id.desc())
    )


def unpaired_branches(account: Account) -> Select:
    """Two-new branches with no pairing in force (flagged)."""
    in_force = select(Pairing.branch_id).where(in_force_at(clock.today()))
    return (
        select(Branch)
        .where(Branch.sector == Sector.TWO_NEW, branch_scope(account), Branch.id.not_in(in_force))
        .options(selectinload(Branch.district))
        .order_by(Branch.district_id, Branch.name, Branch.id)
    )


def overloaded_agencies(account: Account) -> list[tuple[Branch, int]]:
    """Agency branches holding more than PAIRINGS_PER_AGENCY_MAX pairings in force (flagged)."""
    limit = current_app.config["PAIRINGS_PER_AGENCY_MAX"]
    agency = aliased(Branch)
    rows = db.session.execute(
        select(agency, func.count(Pairing.id))
        .join(
            Pairing,
            and_(Pairing.agency_branch_id == agency.id, in_force_at(clock.today())),
        )
        .where(agency.id.in_(select(Branch.id).where(branch_scope(account))))
        .group_by(agency.id)
        .having(func.count(Pairing.id) > limit)
        .order_by(func.count(Pairing.id).desc())
    )
    return [(branch, count) for branch, count in rows]


def in_force_counts(branch_ids: Sequence[int]) -> dict[int, int]:
    """Pairings in force per agency branch, in one query."""
    rows = db.session.execute(
        select(Pairing.agency_branch_id, func.count())
        .where(Pairing.agency_branch_id.in_(list(branch_ids)), in_force_at(clock.today()))
        .group_by(Pairing.agency_branch_id)
    )
    return dict(rows.all())
