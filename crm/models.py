"""Every model module, imported so the metadata (and Alembic) knows every table."""

from crm.accounts import models as accounts
from crm.assessment import models as assessment
from crm.assignments import models as assignments
from crm.audit import models as audit
from crm.backup import models as backup
from crm.branches import models as branches
from crm.cards import models as cards
from crm.core import kept
from crm.corrections import models as corrections
from crm.instructors import models as instructors
from crm.meetings import models as meetings
from crm.members import models as members
from crm.organizations import models as organizations
from crm.pairings import models as pairings
from crm.photos import models as photos
from crm.problems import models as problems
from crm.reminders import models as reminders
from crm.reports import models as reports
from crm.review import models as review
from crm.visits import models as visits

__all__ = [
    "accounts",
    "assessment",
    "assignments",
    "audit",
    "backup",
    "branches",
    "cards",
    "corrections",
    "instructors",
    "kept",
    "meetings",
    "members",
    "organizations",
    "pairings",
    "photos",
    "problems",
    "reminders",
    "reports",
    "review",
    "visits",
]
