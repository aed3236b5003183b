"""What the next instructor needs to know about a branch handed over to them."""

from dataclasses import dataclass

from crm.branches.models import Branch
from crm.members.models import Member
from crm.members.services import members_of
from crm.problems.models import Problem
from crm.problems.services import of_branch as problems_of
from crm.visits.models import Clarity, Visit
from crm.visits.services import clarity_gaps, recent_visits


@dataclass(frozen=True)
class HandoverNote:
    """交接单: open problems, the last three visits, the contacts and the 五清五促 gaps."""

    branch: Branch
    open_problems: list[Problem]
    last_visits: list[Visit]
    contacts: list[Member]
    gaps: list[Clarity]


def note_for(branch: Branch) -> HandoverNote:
    return HandoverNote(
        branch=branch,
        open_problems=[p for p in problems_of(branch.id) if not p.status.is_closed],
        last_visits=recent_visits(branch.id, limit=3),
        contacts=[m for m in members_of(branch.id) if m.role.value != "member"],
        gaps=clarity_gaps(branch.id),
    )
