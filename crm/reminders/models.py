"""Who gets reminders by which channel, and the outbox every message passes through."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.models import Account
from crm.db import Audited, LabeledEnum, TimestampMixin, utcnow
from crm.extensions import db


class Channel(LabeledEnum):
    WECOM = "wecom", "企业微信"
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"


class MessageKind(LabeledEnum):
    DAILY = "daily", "晨间提醒"
    WEEKLY = "weekly", "每周提醒"
    RATING = "rating", "评议链接"  # to a branch's secretary, who has no account


class MessageState(LabeledEnum):
    QUEUED = "queued", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    GIVEN_UP = "given_up", "已放弃"


class ReminderChoice(Audited, TimestampMixin, db.Model):
    """An account's channels and addresses for reminders, and which digests it wants. An
    account without a row is sent nothing (it has given no address yet)."""

    __tablename__ = "reminder_choice"
    __audit_phones__ = frozenset({"mobile"})

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)
    wecom_userid: Mapped[str] = mapped_column(sa.String(64), default="")
    email: Mapped[str] = mapped_column(sa.String(120), default="")
    mobile: Mapped[str] = mapped_column(sa.String(20), default="")  # else the instructor's phone
    channels: Mapped[str] = mapped_column(sa.String(40), default="wecom")  # Channel values, comma
    daily: Mapped[bool] = mapped_column(default=True)
    weekly: Mapped[bool] = mapped_column(default=True)

    account: Mapped[Account] = relationship()

    @property
    def chosen(self) -> list[Channel]:
        return [Channel(value) for value in self.channels.split(",") if value]


class ReminderSettings(Audited, TimestampMixin, db.Model):
    """The organization's switches, set by the admin (the one row, id 1): which channels are
    used at all, and which digests go out. The channels' own settings and secrets are the
    deployment's (environment), never stored here."""

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channels: Mapped[str] = mapped_column(sa.String(40), default="wecom,sms,email")
    daily: Mapped[bool] = mapped_column(default=True)
    weekly: Mapped[bool] = mapped_column(default=True)
    stuck_days: Mapped[int] = mapped_column(default=14)

    @property
    def enabled(self) -> list[Channel]:
        return [Channel(value) for value in self.channels.split(",") if value]


class OutboxMessage(db.Model):
    """One message to one reader by one channel, recorded before it is sent: a digest is
    queued once per reader, digest, day and channel (the unique key), claimed by one sender
    before sending, then sent or given up with the reason.

    A message to someone without an account (a secretary's rating link) names them in
    `addressee`; a body that carries a secret is sealed (crm.core.keys) until it is sent, and
    emptied once it is sent or given up."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "kind", "day", "channel"),
        sa.Index("ix_outbox_message_due", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"), index=True)
    addressee: Mapped[str] = mapped_column(
        sa.String(120), default="", server_default=""
    )  # without an account
    kind: Mapped[MessageKind]
    day: Mapped[date]
    channel: Mapped[Channel]
    recipient: Mapped[str] = mapped_column(sa.String(120))  # userid, number or address
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)  # the text; for SMS the template's parameters
    state: Mapped[MessageState] = mapped_column(default=MessageState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime]  # quiet hours, the hour of its digest, a retry's backoff
    claimed_by: Mapped[str] = mapped_column(sa.String(80), default="")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str] = mapped_column(sa.String(80), default="")  # msgid, BizId
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account | None] = relationship()
