"""The outbox: every message recorded before it is sent, sent by one sender only, once.

queue() records the day's digests, one row per reader, digest, day and channel (a unique key:
a second scheduler queueing the same day adds nothing). deliver() claims each due row with a
conditional update that only one sender can win, commits the claim, sends, and records what
happened: sent with the provider's id, retried later with backoff, or given up with the
reason. A claim older than REMINDER_LEASE_MINUTES is a sender that died between claiming and
recording: the channel is asked whether the message went (crm.reminders.channels) before it is
sent again.

queue_one() records a single message to someone without an account (a branch secretary's
rating link) in the caller's transaction; a body that opens something is sealed (crm.core.keys)
while it waits, and emptied once it is sent or given up. withdraw() stops one not yet claimed.

Nothing is sent in the quiet hours (REMINDER_QUIET_HOURS, 21:00 to 08:00): a message due then
waits for the morning. Each channel is paced at its REMINDER_RATES messages a second, and a
channel that says it is rate limited is paused for the rest of the run.
"""

import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select, update

from crm import clock
from crm.core import keys
from crm.db import utcnow
from crm.extensions import db, writing
from crm.instructors.models import Instructor
from crm.instructors.services import mobile_number
from crm.locking import reads_first
from crm.reminders import digests, schedule, services
from crm.reminders.channels import GiveUp, RateLimited, Retry, Sender
from crm.reminders.models import (
    Channel,
    MessageKind,
    MessageState,
    OutboxMessage,
    ReminderChoice,
)

QUEUE_BATCH = 500
SEALED_FOR = "outbox"  # the key's purpose for a message body that carries a secret
FINAL = (MessageState.SENT, MessageState.GIVEN_UP)


# --- queueing ---------------------------------------------------------------------------------


def queue(day: date, *, now: datetime | None = None, account_ids: list[int] | None = None) -> int:
    """Record the day's digests for each reader's chosen channels; returns how many rows were
    added. Streams: the digests of QUEUE_BATCH readers at a time."""
    now = now or clock.now()
    added, batch = 0, []
    with reads_first():  # built in read transactions: SQLite's write lock only for the inserts
        for at, digest in schedule.due_on(day, account_ids):
            batch.append((at, digest))
            if len(batch) >= QUEUE_BATCH:
                added += _queue_batch(batch, day, now)
                batch = []
        if batch:
            added += _queue_batch(batch, day, now)
    return added


def _queue_batch(batch: list, day: date, now: datetime) -> int:
    """Insert the batch's messages (a twin already queued is skipped); how many were added."""
    rows = list(_rows(batch, day, now))
    if not rows:
        return 0
    with writing():
        added = len(db.session.execute(_insert_ignoring_twins(), rows).all())
        db.session.commit()
    return added


def _rows(batch: list, day: date, now: datetime) -> Iterator[dict]:
    """Each reader's digest by each channel they chose that the organization uses and that
    has an address and a body for it, not before its hour and out of the quiet hours."""
    choices, phones = _readers([digest.account_id for _, digest in batch])
    org = services.settings()
    for at, digest in batch:
        choice = choices.get(digest.account_id)
        if choice is None or not getattr(choice, digest.kind) or not getattr(org, digest.kind):
            continue
        not_before = after_quiet_hours(
            max(clock.local(datetime.combine(day, at)), clock.local(now))
        )
        for channel in (c for c in choice.chosen if c in org.enabled):
            recipient = _recipient(channel, choice, phones.get(digest.account_id, ""))
            body = _body(channel, digest)
            if recipient and body is not None:
                yield {
                    "account_id": digest.account_id,
                    "kind": MessageKind(digest.kind),
                    "day": day,
                    "channel": channel,
                    "recipient": recipient,
                    "subject": digest.title,
                    "body": body,
                    "not_before": not_before,
                    "state": MessageState.QUEUED,
                }


def _readers(ids: list[int]) -> tuple[dict[int, ReminderChoice], dict[int, str]]:
    """The readers' choices, and the phones registered for those who are instructors."""
    choices = {
        c.account_id: c
        for c in db.session.scalars(
            select(ReminderChoice).where(ReminderChoice.account_id.in_(ids))
        )
    }
    phones = dict(
        db.session.execute(
            select(Instructor.account_id, Instructor.phone).where(Instructor.account_id.in_(ids))
        )
        .tuples()
        .all()
    )
    return choices, phones


def _recipient(channel: Channel, choice: ReminderChoice, phone: str) -> str:
    if channel is Channel.WECOM:
        return choice.wecom_userid
    if channel is Channel.SMS:
        return choice.mobile or mobile_number(phone) or ""  # not to a landline
    return choice.email


def _body(channel: Channel, digest: digests.Digest) -> str | None:
    """The message as the channel carries it: text with addresses, or an SMS template's code
    and parameters (None when no template is set for the digest's kind)."""
    if channel is not Channel.SMS:
        return digests.as_text(digest)
    code = current_app.config[f"SMS_TEMPLATE_{digest.kind.upper()}"]
    if not code:
        return None
    home = "branches.index" if digest.kind == "daily" else "review.overview"
    return sms_body(code, {**digest.counts, "url": digests.url_of(digests.Line("", home))})


def sms_body(code: str, params: dict) -> str:
    """An SMS as the outbox keeps it: the approved template's code and its parameters (the
    SMS sender reads it back)."""
    return json.dumps([code, params], ensure_ascii=False)


def _insert_ignoring_twins() -> sa.Insert:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = OutboxMessage.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)  # the rows it added


def queue_one(
    *,
    kind: MessageKind,
    channel: Channel,
    recipient: str,
    addressee: str,
    subject: str,
    body: str,
    secret: bool = False,
) -> OutboxMessage:
    """Record one message to someone without an account, named in `addressee`, in the
    caller's transaction (it is queued only if what it is about is kept). A `secret` body (a
    link that opens something) is sealed while it waits."""
    message = OutboxMessage(
        account_id=None,
        addressee=addressee[:120],
        kind=kind,
        day=clock.today(),
        channel=channel,
        recipient=recipient,
        subject=subject[:200],
        body=keys.seal(SEALED_FOR, body) if secret else body,
        not_before=after_quiet_hours(clock.now()),
        state=MessageState.QUEUED,
    )
    db.session.add(message)  # inserted with the caller's next flush
    return message


def withdraw(message_ids: Iterable[int], reason: str) -> int:
    """Stop the messages no sender has claimed yet, in the caller's transaction: given up
    with the reason, their sealed bodies emptied. Returns how many were stopped (one already
    being sent, sent or given up is left as it is)."""
    message_ids = list(message_ids)
    if not message_ids:
        return 0
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.state == MessageState.QUEUED)
        .values(state=MessageState.GIVEN_UP, last_error=reason[:500], body=_emptied())
        .execution_options(synchronize_session=False)
    ).rowcount


def _emptied() -> sa.ColumnElement:
    """The body once its message is done with: a sealed one (a secret) is not kept."""
    return sa.case((OutboxMessage.body.startswith(keys.SEALED), ""), else_=OutboxMessage.body)


# --- quiet hours ------------------------------------------------------------------------------


def in_quiet_hours(moment: datetime) -> bool:
    start, end = current_app.config["REMINDER_QUIET_HOURS"]
    hour = clock.local(moment).hour
    return hour >= start or hour < end


def after_quiet_hours(moment: datetime) -> datetime:
    """The moment itself, or the end of the quiet hours it falls in."""
    moment = clock.local(moment)
    if not in_quiet_hours(moment):
        return moment
    _, end = current_app.config["REMINDER_QUIET_HOURS"]
    day = moment.date() if moment.hour < end else moment.date() + timedelta(days=1)
    return clock.local(datetime.combine(day, datetime.min.time().replace(hour=end)))


# --- sending ----------------------------------------------------------------------------------


class Pacer:
    """At most `rate` messages a second on each channel."""

    def __init__(self, rates: dict[str, float], sleep: Callable[[float], None] = time.sleep):
        self.rates, self.sleep, self.last = rates, sleep, {}

    def wait(self, channel: Channel) -> None:
        gap = 1 / self.rates.get(channel.value, 1)
        if (last := self.last.get(channel)) is not None and (
            due := last + gap - time.monotonic()
        ) > 0:
            self.sleep(due)
        self.last[channel] = time.monotonic()


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:80]


def deliver(
    senders: dict[Channel, Sender],
    *,
    now: datetime | None = None,
    pacer: Pacer | None = None,
    me: str | None = None,
) -> Counter:
    """Send what is due now by the channels given; returns how many were sent, retried and
    given up."""
    now = clock.local(now or clock.now())
    if in_quiet_hours(now):
        return Counter()
    with reads_first():  # reads in read transactions, each claim and record in its own write
        return _deliver(senders, now, pacer, me)


def _deliver(
    senders: dict[Channel, Sender], now: datetime, pacer: Pacer | None, me: str | None
) -> Counter:
    counted: Counter = Counter()
    pacer = pacer or Pacer(current_app.config["REMINDER_RATES"])
    me = me or sender_name()
    counted["recovered"] += _recover(senders, now)
    paused: set[Channel] = set()
    while True:
        due = _due_ids(set(senders) - paused, now)
        if not due:
            return counted
        for message_id in due:
            message = _claim(message_id, me, now)
            if message is None or message.channel in paused:
                if message is not None:
                    _release(message)
                continue
            pacer.wait(message.channel)
            outcome = _send(senders[message.channel], message, now)
            counted[outcome] += 1
            if outcome == "paused":
                paused.add(message.channel)


def _due_ids(channels: Iterable[Channel], now: datetime) -> list[int]:
    channels = list(channels)
    if not channels:
        return []
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == MessageState.QUEUED,
                OutboxMessage.not_before <= now,
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(100)
        )
    )
    db.session.rollback()
    return ids


def _claim(message_id: int, me: str, now: datetime) -> OutboxMessage | None:
    """The message, if this sender is the one that moved it from queued to sending."""
    with writing():
        won = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == MessageState.QUEUED)
            .values(
                state=MessageState.SENDING,
                claimed_by=me,
                claimed_at=now,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    if won != 1:
        return None
    message = _snapshot(db.session.get(OutboxMessage, message_id, populate_existing=True))
    db.session.rollback()  # sending holds no transaction open
    return message


def _snapshot(message: OutboxMessage) -> OutboxMessage:
    """A copy outside the session, to send from while no transaction is open (the session's
    own instance may be someone else's, and is expired at the next commit)."""
    columns = OutboxMessage.__table__.columns
    return OutboxMessage(**{column.key: getattr(message, column.key) for column in columns})


def _release(message: OutboxMessage) -> None:
    _record(message.id, state=MessageState.QUEUED, attempts=message.attempts - 1, claimed_by="")


def _send(sender: Sender, message: OutboxMessage, now: datetime) -> str:
    try:
        message.body = _unsealed(message.body)
        provider_id = sender.send(message)
    except GiveUp as error:
        _record(message.id, state=MessageState.GIVEN_UP, last_error=str(error)[:500])
        return "given_up"
    except Retry as error:
        paused = isinstance(error, RateLimited)
        if message.attempts >= current_app.config["REMINDER_MAX_ATTEMPTS"]:
            _record(
                message.id,
                state=MessageState.GIVEN_UP,
                last_error=f"重试 {message.attempts} 次仍未成功：{error}"[:500],
            )
            return "given_up"
        _record(
            message.id,
            state=MessageState.QUEUED,
            last_error=str(error)[:500],
            not_before=after_quiet_hours(now + backoff(message.attempts)),
        )
        return "paused" if paused else "retried"
    _record(
        message.id,
        state=MessageState.SENT,
        sent_at=utcnow(),
        provider_id=provider_id[:80],
        last_error="",
    )
    return "sent"


def _unsealed(body: str) -> str:
    try:
        return keys.unseal(SEALED_FOR, body)
    except ValueError:
        raise GiveUp("消息内容由另一把密钥加密，无法读出（密钥已更换）。") from None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the attempts so far, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def _record(message_id: int, **values) -> None:
    if values.get("state") in FINAL:
        values["body"] = _emptied()
    with writing():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def _recover(senders: dict[Channel, Sender], now: datetime) -> int:
    """Claims older than the lease: senders that died. Asked about first; sent again only if
    the channel cannot tell it went."""
    lease = timedelta(minutes=current_app.config["REMINDER_LEASE_MINUTES"])
    stale = list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.state == MessageState.SENDING,
                OutboxMessage.claimed_at < now - lease,
                OutboxMessage.channel.in_(list(senders)),
            )
        )
    )
    stale = [_snapshot(message) for message in stale]
    db.session.rollback()
    for message in stale:
        try:
            sent_as = senders[message.channel].already_sent(message)
        except (Retry, GiveUp):
            continue  # asked again next run
        if sent_as is not None:
            _record(message.id, state=MessageState.SENT, sent_at=utcnow(), provider_id=sent_as[:80])
        else:
            _record(message.id, state=MessageState.QUEUED, claimed_by="")
    return len(stale)
