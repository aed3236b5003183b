"""Districts and organizations: the rules for creating and changing them."""

from typing import Any

from sqlalchemy import select

from crm.extensions import db
from crm.organizations import creditcode
from crm.organizations.models import District, Organization
from crm.rules import RuleError


class CreditCodeTakenError(RuleError):
    field = "credit_code"


def districts() -> list[District]:
    return list(db.session.execute(select(District).order_by(District.position)).scalars())


def district_choices() -> list[tuple[int, str]]:
    return [(district.id, district.name) for district in districts()]


def district_named(name: str) -> District | None:
    return db.session.execute(select(District).where(District.name == name)).scalar_one_or_none()


def find_by_credit_code(code: str) -> Organization | None:
    return db.session.execute(
        select(Organization).where(Organization.credit_code == creditcode.normalize(code))
    ).scalar_one_or_none()


def _checked_code(code: str, organization: Organization | None) -> str:
    try:
        normalized = creditcode.validate(code)
    except creditcode.CreditCodeError as error:
        raise RuleError(str(error), "credit_code") from error
    holder = find_by_credit_code(normalized)
    if holder is not None and holder is not organization:
        raise CreditCodeTakenError(f"统一社会信用代码已登记为“{holder.name}”。")
    return normalized


def create_organization(**fields: Any) -> Organization:
    """Create an organization; raises RuleError for a malformed or already registered code."""
    fields["credit_code"] = _checked_code(fields["credit_code"], None)
    organization = Organization(**fields)
    db.session.add(organization)
    db.session.flush()
    return organization


def update_organization(organization: Organization, **fields: Any) -> Organization:
    """Change an organization's fields, under the same rules as creating it."""
    if "credit_code" in fields:
        fields["credit_code"] = _checked_code(fields["credit_code"], organization)
    for name, value in fields.items():
        setattr(organization, name, value)
    db.session.flush()
    return organization
