"""Instructors: hiring one (with their account) and changing their record."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, inspect, or_, select
from sqlalchemy.orm.attributes import flag_modified

from crm import clock
from crm.accounts import services as accounts
from crm.accounts.models import Account, Role
from crm.core.names import initials
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from crm.organizations.models import District
from crm.rules import RuleError

PHONE_PATTERN = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
MOBILE_PATTERN = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")


def normalize_phone(raw: str) -> str:
    """Half-width digits with spaces dropped; raises RuleError unless it is a mobile or
    landline number of the mainland."""
    phone = _compact(raw)
    if not PHONE_PATTERN.fullmatch(phone):
        raise RuleError("请填写 11 位手机号码或带区号的固定电话。", "phone")
    return phone


def mobile_number(raw: str | None) -> str | None:
    """The mainland mobile number written in `raw` (full-width digits, spaces, hyphens and a
    +86 allowed), or None when it is not one: a landline cannot take an SMS."""
    found = MOBILE_PATTERN.fullmatch(_compact(raw or "").replace("-", ""))
    return found.group(1) if found else None


def _compact(raw: str) -> str:
    """Half-width characters with the spaces dropped, as a phone number is compared."""
    return "".join(unicodedata.normalize("NFKC", raw).split())


def create_instructor(
    *,
    username: str,
    name: str,
    phone: str,
    district_id: int,
    hired_on: date,
    status: InstructorStatus = InstructorStatus.ACTIVE,
    password_hash: str | None = None,
) -> Instructor:
    """Create the instructor and their account, which waits to be opened (待开通: no password,
    disabled) until the security admin sets a temporary password and enables it: accounts are
    the security admin's. `password_hash` is the demo's and the bulk loaders' (a command).
    Raises RuleError for a taken username, a malformed phone number or a hire date in the
    future."""
    phone = normalize_phone(phone)
    check_hired_on(hired_on)
    account = accounts.create_account(
        username,
        name,
        "",
        [Role.INSTRUCTOR],
        password_hash=password_hash or accounts.unusable_password(),
    )
    account.active = password_hash is not None
    instructor = Instructor(
        account=account, phone=phone, district_id=district_id, hired_on=hired_on
    )
    set_status(instructor, status)
    db.session.add(instructor)
    db.session.flush()
    return instructor


def check_hired_on(hired_on: date) -> None:
    """An instructor is entered once hired: a hire date after today is refused (in post means
    hired, so the caseload table and the overview count the same people). Raises RuleError."""
    if hired_on > clock.today():
        raise RuleError("聘用日期不能晚于今天；请在入职后再登记。", "hired_on")


def set_status(instructor: Instructor, status: InstructorStatus, on: date | None = None) -> None:
    """Set 在岗/离岗 and the leaving date together (they never disagree): leaving keeps an
    earlier leaving date or takes `on` (today by default) and asks the security admin to
    disable the account; coming back clears the date (the account is not touched). Raises
    RuleError for a leaving date before the hire date or in the future."""
    if status is InstructorStatus.ACTIVE:
        instructor.status, instructor.left_on = status, None
        return
    if instructor.status is InstructorStatus.LEFT and instructor.left_on and on is None:
        return
    left_on = on or clock.today()
    if left_on > clock.today():
        raise RuleError("离岗日期不能晚于今天。", "status")
    if instructor.hired_on and left_on < instructor.hired_on:
        raise RuleError(f"离岗日期不能早于聘用日期 {instructor.hired_on:%Y-%m-%d}。", "status")
    instructor.status, instructor.left_on = status, left_on
    if instructor.account is not None:  # the account is the security admin's to disable
        accounts.request_disable(instructor.account, f"指导员{instructor.account.name}已离岗")


def in_post_at(day: date) -> ColumnElement[bool]:
    """The instructors in post at the end of `day`, as the platform knew them then: hired and
    entered by then, not yet left. A closed month's count is not rewritten by an instructor
    entered later (an import), only by a leaving dated inside it; an instructor entered as
    history (the go-live import of the roster) counts from the hire date."""
    return in_post_during(day, day)


def in_post_during(first: date, last: date) -> ColumnElement[bool]:
    """The instructors in post at some time from `first` to the end of `last` (in_post_at()
    for a span: a month's reports are made for each of them)."""
    return and_(
        Instructor.hired_on <= last,
        or_(
            Instructor.entered_as_history,
            Instructor.created_at < clock.local_midnight(last + timedelta(days=1)),
        ),
        or_(Instructor.left_on.is_(None), Instructor.left_on > first),
    )


# --- the caseload search -----------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """An instructor as a list of them shows one (the caseload table, its export): plain
    columns, read without loading the instructor, the account and the district as objects
    (115 of each took 7 of the caseload page's 17 ms). Select columns() from Instructor
    joined to its account and district."""

    id: int
    name: str
    username: str
    district: str
    phone: str
    status: InstructorStatus

    @staticmethod
    def columns() -> tuple:
        return (
            Instructor.id,
            Account.name,
            Account.username,
            District.name,
            Instructor.phone,
            Instructor.status,
        )

    @classmethod
    def of(cls, instructor: Instructor) -> "Listed":
        return cls(
            instructor.id,
            instructor.name,
            instructor.account.username,
            instructor.district.name,
            instructor.phone,
            instructor.status,
        )


def matches(instructor: Listed, q: str) -> bool:
    """The one caseload search, for the page, its export and the stored table alike: part of
    the name, the whole username (any case), or the start of the name's pinyin initials."""
    q = q.strip().lower()
    return (
        not q
        or q in instructor.name.lower()
        or q == instructor.username.lower()
        or initials(instructor.name).startswith(q)
    )


def update_instructor(
    instructor: Instructor,
    *,
    name: str,
    phone: str,
    district_id: int,
    hired_on: date,
    status: InstructorStatus,
) -> Instructor:
    """Change the record (employment, not the account: leaving asks the security admin to
    disable the account, and nothing here enables one); raises RuleError for a malformed phone
    number or a hire date in the future."""
    instructor.phone = normalize_phone(phone)
    check_hired_on(hired_on)
    instructor.account.name = name.strip()
    instructor.district_id = district_id
    instructor.hired_on = hired_on
    set_status(instructor, status)
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
