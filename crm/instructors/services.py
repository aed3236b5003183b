"""Instructors: hiring one (with their account) and changing their record."""

import re
import unicodedata
from datetime import date

from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import flag_modified

from crm.accounts import services as accounts
from crm.accounts.models import Role
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from crm.rules import RuleError

PHONE_PATTERN = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


def normalize_phone(raw: str) -> str:
    """Half-width digits with spaces dropped; raises RuleError unless it is a mobile or
    landline number of the mainland."""
    phone = "".join(unicodedata.normalize("NFKC", raw).split())
    if not PHONE_PATTERN.fullmatch(phone):
        raise RuleError("请填写 11 位手机号码或带区号的固定电话。", "phone")
    return phone


def create_instructor(
    *,
    username: str,
    name: str,
    password: str,
    phone: str,
    district_id: int,
    hired_on: date,
    status: InstructorStatus = InstructorStatus.ACTIVE,
    password_hash: str | None = None,
) -> Instructor:
    """Create the instructor and their account; raises RuleError for a taken username,
    a weak password or a malformed phone number."""
    phone = normalize_phone(phone)
    account = accounts.create_account(
        username, name, password, [Role.INSTRUCTOR], password_hash=password_hash
    )
    instructor = Instructor(
        account=account, phone=phone, district_id=district_id, hired_on=hired_on, status=status
    )
    db.session.add(instructor)
    db.session.flush()
    return instructor


def update_instructor(
    instructor: Instructor,
    *,
    name: str,
    phone: str,
    district_id: int,
    hired_on: date,
    status: InstructorStatus,
) -> Instructor:
    """Change the record; raises RuleError for a malformed phone number."""
    instructor.phone = normalize_phone(phone)
    instructor.account.name = name.strip()
    instructor.district_id = district_id
    instructor.hired_on = hired_on
    instructor.status = status
    instructor.account.active = status is InstructorStatus.ACTIVE
    if inspect(instructor.account).modified:
        # The name lives on the account: the instructor's own row must still count the edit,
        # so its version (crm.db.Versioned) tells a later form from an earlier one.
        flag_modified(instructor, "updated_at")
    db.session.flush()
    return instructor


def of_account(account_id: int) -> Instructor | None:
    """The instructor record of a signed-in account, if it has one."""
    return db.session.execute(
        select(Instructor).where(Instructor.account_id == account_id)
    ).scalar_one_or_none()
