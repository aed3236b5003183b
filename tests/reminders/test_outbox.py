"""The outbox against real local servers (tests/reminders/standins.py): each message sent
exactly once with two schedulers and after a crash, the 企业微信 token renewed mid-batch, rate
limits and unknown users told apart, quiet hours, opt-outs, the SMS template and the email."""

import json
import threading
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm import clock, create_app
from crm.extensions import db
from crm.reminders import outbox
from crm.reminders.channels import AliyunSms, Smtp, WeCom
from crm.reminders.models import Channel, MessageState, OutboxMessage, ReminderChoice
from tests.conftest import settings
from tests.reminders import standins
from tests.reminders.conftest import DAY

# Claims are conditional updates and twins are refused by a unique key (ON CONFLICT, RETURNING):
# those tests run on both databases; the rest differ only by channel.
on_both = pytest.mark.postgresql

MORNING = datetime.combine(DAY, time(8, 40), clock.LOCAL_TIME)


class NoWait(outbox.Pacer):
    """The real pacer's arithmetic, without sleeping: the waits it asked for are kept."""

    def __init__(self, rates):
        self.waits: list[float] = []
        super().__init__(rates, sleep=self.waits.append)


def choose(account_id: int, **values) -> None:
    db.session.merge(ReminderChoice(account_id=account_id, **values))


@pytest.fixture
def wecom_users(app, records):
    with app.app_context():
        choose(records["a"], wecom_userid="zhang.a", channels="wecom")
        choose(records["c"], wecom_userid="bing.c", channels="wecom")
        db.session.commit()
    return {"zhang.a", "bing.c"}


@pytest.fixture
def wecom(wecom_users):
    stand_in = standins.WeComStandIn(users=set(wecom_users))
    with standins.serving(stand_in) as url:
        yield stand_in, WeCom(url, standins.CORP_ID, standins.AGENT_ID, standins.SECRET)


def states(app) -> list[tuple[str, MessageState]]:
    with app.app_context():
        return sorted(
            db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.state)).tuples()
        )


@on_both
def test_each_message_is_sent_once_with_two_schedulers(app, migrated, tmp_path, wecom):
    """Two scheduler processes (two apps, one database) queue the same morning and send at
    once: one row per reader and channel, one message each."""
    stand_in, _ = wecom
    other = create_app(settings(migrated, MEDIA_DIR=str(tmp_path / "other")))
    counted = []

    def scheduler(flask_app):
        sender = WeCom(stand_in_url, standins.CORP_ID, standins.AGENT_ID, standins.SECRET)
        with flask_app.app_context():
            outbox.queue(DAY, now=MORNING)
            counted.append(outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({})))

    with standins.serving(stand_in) as stand_in_url:
        threads = [threading.Thread(target=scheduler, args=(a,)) for a in (app, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with other.app_context():
        db.engine.dispose()
    assert sorted(user for user, _ in stand_in.delivered) == ["bing.c", "zhang.a"]
    assert stand_in.calls == 2  # not only dropped as twins by 企业微信: never sent twice
    assert states(app) == [("bing.c", MessageState.SENT), ("zhang.a", MessageState.SENT)]
    assert sum(c["sent"] for c in counted) == 2


@on_both
def test_a_message_claimed_by_a_sender_that_died_is_sent_once(app, records, wecom):
    """Crashed after claiming, before sending: the claim expires and the message goes; crashed
    after sending, before recording: sent again, 企业微信's duplicate check drops the twin."""
    stand_in, sender = wecom
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        claimed = MORNING - timedelta(hours=1)
        db.session.execute(
            sa.update(OutboxMessage).values(state=MessageState.SENDING, claimed_at=claimed,
                                            claimed_by="dead-host:1:1", attempts=1)
        )  # fmt: skip
        db.session.commit()
        sent_before_crash = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "zhang.a")
        ).one()
        sender.send(sent_before_crash)  # the dead sender got this one out
        assert len(stand_in.delivered) == 1
        done = outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({}))
    assert done["recovered"] == 2
    assert sorted(stand_in.delivered) == sorted(set(stand_in.delivered))  # no twin
    assert sorted(user for user, _ in stand_in.delivered) == ["bing.c", "zhang.a"]
    assert states(app) == [("bing.c", MessageState.SENT), ("zhang.a", MessageState.SENT)]


def test_a_claim_younger_than_the_lease_is_left_to_its_sender(app, records, wecom):
    stand_in, sender = wecom
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        db.session.execute(
            sa.update(OutboxMessage).values(state=MessageState.SENDING, claimed_at=MORNING)
        )
        db.session.commit()
        done = outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({}))
    assert done["sent"] == 0
    assert stand_in.delivered == []


@on_both
def test_an_sms_sent_before_a_crash_is_found_by_its_out_id_and_not_sent_again(app, records):
    app.config.update(SMS_TEMPLATE_DAILY="SMS_DAILY_001", SMS_TEMPLATE_WEEKLY="SMS_WEEKLY_001")
    stand_in = standins.SmsStandIn()
    with standins.serving(stand_in) as url, app.app_context():
        sender = AliyunSms(url, standins.KEY_ID, standins.KEY_SECRET, "赣州党建")
        choose(records["a"], mobile="13800001111", channels="sms")
        db.session.commit()
        outbox.queue(DAY, now=MORNING)
        (message,) = db.session.scalars(sa.select(OutboxMessage)).all()
        sender.send(message)  # sent, then the sender died before recording it
        db.session.execute(
            sa.update(OutboxMessage).values(state=MessageState.SENDING, claimed_at=MORNING - timedelta(hours=1))
        )  # fmt: skip
        db.session.commit()
        outbox.deliver({Channel.SMS: sender}, now=MORNING, pacer=NoWait({}))
        stored = db.session.get(OutboxMessage, message.id)
        assert (stored.state, stored.provider_id) == (MessageState.SENT, "biz-1")
    assert len(stand_in.sent) == 1
    (sms,) = stand_in.sent
    assert sms["TemplateCode"] == "SMS_DAILY_001"
    assert sms["OutId"] == f"crm-{message.id}"
    assert sms["PhoneNumbers"] == "13800001111"
    # The template's parameters: what the records of `a` hold on 18 November (conftest)
    assert json.loads(sms["TemplateParam"]) == {
        "visits": 2, "problems": 2, "returned": 1, "meetings": 2,
        "url": "http://localhost:5000/branches/",
    }  # fmt: skip


def test_the_token_expiring_mid_batch_is_renewed_and_every_message_goes(app, records, wecom):
    stand_in, sender = wecom
    stand_in.expire_after = 1  # each token works for one message
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        done = outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({}))
    assert done["sent"] == 2
    assert sender.tokens_fetched == 2
    assert len(stand_in.delivered) == 2


def test_a_rate_limit_backs_off_and_pauses_the_channel(app, records, wecom):
    stand_in, sender = wecom
    stand_in.limit_after = 1
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        done = outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({}))
        waiting = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.state == MessageState.QUEUED)
        ).one()
    assert (done["sent"], done["paused"]) == (1, 1)
    assert stand_in.calls == 2  # paused after the first refusal: no third call
    assert "限流" in waiting.last_error
    assert waiting.not_before == MORNING + timedelta(minutes=1)  # the first retry's backoff
    stand_in.limit_after = None
    with app.app_context():
        later = outbox.deliver({Channel.WECOM: sender}, now=MORNING + timedelta(minutes=2),
                               pacer=NoWait({}))  # fmt: skip
    assert later["sent"] == 1
    assert len(stand_in.delivered) == 2


def test_an_unknown_userid_is_given_up_with_the_reason_and_never_retried(app, records, wecom):
    stand_in, sender = wecom
    stand_in.users.discard("bing.c")
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=NoWait({}))
        given_up = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.state == MessageState.GIVEN_UP)
        ).one()
        again = outbox.deliver({Channel.WECOM: sender}, now=MORNING + timedelta(hours=3),
                               pacer=NoWait({}))  # fmt: skip
        reason = (given_up.recipient, given_up.last_error)
    assert reason[0] == "bing.c"
    assert "“bing.c”不存在或不在应用可见范围内（错误码 60111）" in reason[1]
    assert again["sent"] == 0
    assert stand_in.calls == 2


def test_a_channel_that_keeps_failing_is_retried_with_backoff_then_given_up(app, records):
    app.config["REMINDER_MAX_ATTEMPTS"] = 3
    with app.app_context():
        choose(records["a"], wecom_userid="zhang.a", channels="wecom")
        db.session.commit()
        outbox.queue(DAY, now=MORNING)
        down = WeCom("http://127.0.0.1:9", standins.CORP_ID, standins.AGENT_ID, standins.SECRET,
                     timeout=1)  # fmt: skip
        moments, now = [], MORNING
        for _ in range(3):
            outbox.deliver({Channel.WECOM: down}, now=now, pacer=NoWait({}))
            message = db.session.scalars(sa.select(OutboxMessage)).one()
            moments.append((message.state, message.not_before - now))
            now, last_error = message.not_before, message.last_error
            db.session.rollback()
    assert moments == [
        (MessageState.QUEUED, timedelta(minutes=1)),
        (MessageState.QUEUED, timedelta(minutes=2)),
        (MessageState.GIVEN_UP, timedelta(0)),
    ]
    assert "重试 3 次仍未成功：网络错误" in last_error


def test_nothing_is_sent_in_the_quiet_hours(app, records, wecom):
    stand_in, sender = wecom
    evening = datetime.combine(DAY, time(21, 30), clock.LOCAL_TIME)
    with app.app_context():
        outbox.queue(DAY, now=evening)  # a late `reminders send` for the day
        not_before = db.session.scalars(sa.select(OutboxMessage.not_before)).all()
        night = outbox.deliver({Channel.WECOM: sender}, now=evening, pacer=NoWait({}))
        dawn = outbox.deliver({Channel.WECOM: sender}, now=evening + timedelta(hours=10),
                              pacer=NoWait({}))  # 07:30  # fmt: skip
        morning = outbox.deliver({Channel.WECOM: sender}, now=evening + timedelta(hours=10, minutes=31),
                                 pacer=NoWait({}))  # fmt: skip
    tomorrow_eight = datetime.combine(DAY + timedelta(days=1), time(8), clock.LOCAL_TIME)
    assert set(not_before) == {tomorrow_eight}
    assert (night["sent"], dawn["sent"], morning["sent"]) == (0, 0, 2)
    assert len(stand_in.delivered) == 2


@on_both
def test_a_reader_who_opted_out_gets_nothing_and_queueing_twice_adds_nothing(app, records, wecom):
    with app.app_context():
        choose(records["c"], wecom_userid="bing.c", channels="wecom", daily=False)
        db.session.commit()
        first = outbox.queue(DAY, now=MORNING)
        second = outbox.queue(DAY, now=MORNING)
    assert (first, second) == (1, 0)
    assert [user for user, _ in states(app)] == ["zhang.a"]


def test_the_weekly_digest_waits_until_half_past_eight(app, records):
    monday = date(2026, 11, 16)
    with app.app_context():
        reviewer = db.session.execute(
            sa.text("SELECT id FROM account WHERE username = 'reviewer'")
        ).scalar_one()
        choose(reviewer, wecom_userid="reviewer", channels="wecom")
        db.session.commit()
        outbox.queue(monday, now=datetime.combine(monday, time(8), clock.LOCAL_TIME))
        message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.not_before == datetime.combine(monday, time(8, 30), clock.LOCAL_TIME)
    assert message.subject == "11 月 16 日当周督导提醒"


def test_each_channel_is_paced_at_its_rate(app, records, wecom):
    _, sender = wecom
    pacer = NoWait({"wecom": 2})  # two a second
    with app.app_context():
        outbox.queue(DAY, now=MORNING)
        outbox.deliver({Channel.WECOM: sender}, now=MORNING, pacer=pacer)
    assert len(pacer.waits) == 1
    assert 0 < pacer.waits[0] <= 0.5


def test_an_email_goes_over_smtp_with_its_own_message_id(app, records):
    with standins.smtp_server() as (port, mailbox), app.app_context():
        choose(records["a"], email="a@example.gov.cn", channels="email")
        db.session.commit()
        outbox.queue(DAY, now=MORNING)
        sender = Smtp("127.0.0.1", port, "noreply@dj.example.gov.cn")
        done = outbox.deliver({Channel.EMAIL: sender}, now=MORNING, pacer=NoWait({}))
        message = db.session.scalars(sa.select(OutboxMessage)).one()
        standins.wait_for(lambda: mailbox.messages)
    (mail,) = mailbox.messages
    assert done["sent"] == 1
    assert mail["To"] == "a@example.gov.cn"
    assert mail["Subject"] == "11 月 18 日待办提醒"
    assert mail["Message-ID"] == f"<outbox-{message.id}-20261118@dj.example.gov.cn>"
    assert "从未走访党支部：超期 48 天未实地走访" in mail.get_content()
    assert message.provider_id == mail["Message-ID"]


def test_send_queues_and_sends_what_the_scheduler_would(app, records, runner, wecom):
    stand_in, _ = wecom
    with standins.serving(stand_in) as url:
        app.config.update(WECOM_API=url, WECOM_CORP_ID=standins.CORP_ID,
                          WECOM_AGENT_ID=str(standins.AGENT_ID), WECOM_SECRET=standins.SECRET)  # fmt: skip
        with time_machine.travel(MORNING, tick=False):
            result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "已记入发件箱 2 条；发出 2 条，稍后重试 0 条，放弃 0 条。" in result.output
    assert standins.SECRET not in result.output
