"""The organization's reminder switches, each account's choices, and the outbox as the pages
list it."""

import re

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from crm.accounts.models import Account
from crm.extensions import db
from crm.instructors.services import mobile_number, of_account
from crm.reminders.models import (
    Channel,
    MessageState,
    OutboxMessage,
    ReminderChoice,
    ReminderSettings,
)
from crm.rules import RuleError

DEFAULTS = {"channels": "wecom,sms,email", "daily": True, "weekly": True, "stuck_days": 14}
WECOM_USERID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def settings() -> ReminderSettings:
    """The stored switches, or the defaults until the admin saves them."""
    return db.session.get(ReminderSettings, 1) or ReminderSettings(id=1, **DEFAULTS)


def save_settings(
    *, channels: list[Channel], daily: bool, weekly: bool, stuck_days: int | None
) -> ReminderSettings:
    if stuck_days is None or not 1 <= stuck_days <= 365:
        raise RuleError("请填写 1 到 365 之间的天数。", "stuck_days")
    row = db.session.get(ReminderSettings, 1) or ReminderSettings(id=1)
    row.channels = ",".join(c.value for c in channels)
    row.daily, row.weekly, row.stuck_days = daily, weekly, stuck_days
    db.session.add(row)
    return row


def choice_of(account: Account) -> ReminderChoice:
    """The account's choices, or an empty one (nothing chosen) until it saves some."""
    return db.session.get(ReminderChoice, account.id) or ReminderChoice(
        account_id=account.id,
        wecom_userid="",
        email="",
        mobile="",
        channels="",
        daily=True,
        weekly=True,
    )


def instructor_phone(account: Account) -> str:
    """The phone the instructor record holds, which SMS uses when no other is given."""
    instructor = of_account(account.id)
    return instructor.phone if instructor is not None else ""


def save_choice(
    account: Account,
    *,
    channels: list[Channel],
    wecom_userid: str,
    mobile: str,
    email: str,
    daily: bool,
    weekly: bool,
) -> ReminderChoice:
    """Save what the account chose; raises RuleError beside the field that is missing or
    malformed (a chosen channel needs its address)."""
    if wecom_userid and not WECOM_USERID.fullmatch(wecom_userid):
        raise RuleError("企业微信账号只含字母、数字和 _ . @ -，最多 64 个字符。", "wecom_userid")
    if Channel.WECOM in channels and not wecom_userid:
        raise RuleError("选择企业微信提醒，请填写您的企业微信账号（UserID）。", "wecom_userid")
    if mobile:
        mobile = mobile_number(mobile) or ""
        if not mobile:
            raise RuleError("请填写 11 位手机号码（短信不能发到固定电话）。", "mobile")
    if Channel.SMS in channels and not (mobile or mobile_number(instructor_phone(account))):
        raise RuleError("选择短信提醒，请填写手机号码。", "mobile")
    if email and not EMAIL.fullmatch(email):
        raise RuleError("电子邮箱的格式不对，例如 name@example.gov.cn。", "email")
    if Channel.EMAIL in channels and not email:
        raise RuleError("选择邮件提醒，请填写电子邮箱。", "email")
    row = db.session.get(ReminderChoice, account.id) or ReminderChoice(account_id=account.id)
    row.channels = ",".join(c.value for c in channels)
    row.wecom_userid, row.mobile, row.email = wecom_userid, mobile, email
    row.daily, row.weekly = daily, weekly
    db.session.add(row)
    return row


def messages(
    *,
    account: Account | None = None,
    state: MessageState | None = None,
    channel: Channel | None = None,
    q: str = "",
) -> Select:
    """The outbox, newest first: one account's own (`account`), or everyone's for the admin,
    filtered by state, channel and a reader's name or username (or the name of one without an
    account: a branch, its secretary)."""
    statement = (
        select(OutboxMessage)
        .outerjoin(OutboxMessage.account)  # a secretary's rating link goes to no account
        .options(contains_eager(OutboxMessage.account))
    )
    if account is not None:
        statement = statement.where(OutboxMessage.account_id == account.id)
    if state is not None:
        statement = statement.where(OutboxMessage.state == state)
    if channel is not None:
        statement = statement.where(OutboxMessage.channel == channel)
    if q:
        statement = statement.where(
            or_(
                Account.name.contains(q, autoescape=True),
                Account.username == q,
                OutboxMessage.addressee.contains(q, autoescape=True),
            )
        )
    return statement.order_by(OutboxMessage.day.desc(), OutboxMessage.id.desc())


def given_up() -> int:
    """Messages given up: the admin's page says how many, and links to them."""
    return db.session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == MessageState.GIVEN_UP)
    ).scalar_one()
