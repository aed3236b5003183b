"""The list pages' queries, shared by each page and its spreadsheet export: what an account may
see of organizations, branches and current assignments, filtered by the page's arguments."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.datastructures import MultiDict

from crm.accounts.models import Account
from crm.assignments.models import Assignment
from crm.assignments.services import branch_scope, organization_scope
from crm.branches.models import Branch, Sector
from crm.core.lists import contains
from crm.http import whole_number
from crm.instructors.models import Instructor
from crm.organizations.models import Organization, OrganizationKind


def organizations(account: Account, args: MultiDict) -> Select:
    """The organizations the account may see, filtered by the list page's arguments
    (`q`, `kind`, `district_id`), as the page and its export show them."""
    q = args.get("q", "", type=str).strip()[:50]
    statement = (
        select(Organization)
        .where(organization_scope(account))
        .options(selectinload(Organization.district), selectinload(Organization.branches))
        .order_by(Organization.district_id, Organization.name)
    )
    if q:
        statement = statement.where(
            or_(contains(Organization.name, q), contains(Organization.credit_code, q.upper()))
        )
    if chosen := OrganizationKind.parse(args.get("kind")):
        statement = statement.where(Organization.kind == chosen)
    if district_id := args.get("district_id", type=whole_number):
        statement = statement.where(Organization.district_id == district_id)
    return statement


def branches(account: Account, args: MultiDict) -> Select:
    """The branches the account may see, filtered by the list page's arguments (`q`,
    `sector`, `district_id`), as the page and its export show them."""
    q = args.get("q", "", type=str).strip()[:50]
    statement = (
        select(Branch)
        .where(branch_scope(account))
        .options(selectinload(Branch.district))
        .order_by(Branch.district_id, Branch.name)
    )
    if q:
        statement = statement.where(or_(contains(Branch.name, q), Branch.secretary_name == q))
    if chosen := Sector.parse(args.get("sector")):
        statement = statement.where(Branch.sector == chosen)
    if district_id := args.get("district_id", type=whole_number):
        statement = statement.where(Branch.district_id == district_id)
    return statement


def assignments(account: Account, args: MultiDict) -> Select:
    """The current assignments the account may see, filtered by the list page's
    arguments (`q`, `district_id`), as the page and its export show them."""
    q = args.get("q", "", type=str).strip()[:50]
    statement = (
        select(Assignment)
        .join(Assignment.branch)
        .join(Assignment.instructor)
        .join(Instructor.account)
        .where(Assignment.ended_on.is_(None), branch_scope(account))
        .options(
            contains_eager(Assignment.branch).selectinload(Branch.district),
            contains_eager(Assignment.instructor).contains_eager(Instructor.account),
        )
        .order_by(Branch.district_id, Account.name, Branch.name)
    )
    if q:
        statement = statement.where(or_(contains(Branch.name, q), contains(Account.name, q)))
    if district_id := args.get("district_id", type=whole_number):
        statement = statement.where(Branch.district_id == district_id)
    return statement
