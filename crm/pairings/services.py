"""Pairings (结对共建): reading them for a branch. The ledger itself comes with its own pages."""

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from crm.branches.models import Branch
from crm.extensions import db
from crm.pairings.models import Pairing


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
