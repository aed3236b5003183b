"""The reminder pages: each account's own choices and messages, the admin's switches and the
outbox. Bad input is refused beside its field with what was typed kept; a secret is never shown;
an account sees only what was sent to it; the outbox runs the same statements for 3 rows or 30."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.instructors.services import of_account
from crm.reminders import outbox, services
from crm.reminders.models import (
    Channel,
    MessageKind,
    MessageState,
    OutboxMessage,
    ReminderChoice,
    ReminderSettings,
)
from tests import factories as f
from tests.reminders.conftest import DAY

MORNING = datetime(2026, 11, 18, 8, 40, tzinfo=clock.LOCAL_TIME)


@pytest.fixture
def instructor(app, auth):
    with app.app_context():
        account_id = f.InstructorFactory(account__username="zdy", phone="13912345678").account_id
    auth.login("zdy")
    return account_id


def message(account_id: int | None, day: date, **values) -> None:
    values = {"kind": MessageKind.DAILY, **values}
    db.session.add(OutboxMessage(
        account_id=account_id, day=day, channel=Channel.WECOM,
        recipient="someone", subject="提醒", body="正文", not_before=MORNING, **values,
    ))  # fmt: skip


def test_a_chosen_channel_without_its_address_is_refused_beside_it(app, client, instructor):
    answer = client.post("/account/reminders", data={
        "channels": ["wecom", "email"], "wecom_userid": "", "email": "zhang@ganzhou", "daily": "y",
    })  # fmt: skip
    assert answer.status_code == 422
    assert "选择企业微信提醒，请填写您的企业微信账号（UserID）。" in answer.text
    assert 'value="zhang@ganzhou"' in answer.text  # kept as typed
    with app.app_context():
        assert db.session.get(ReminderChoice, instructor) is None


def test_a_malformed_address_is_named(app, client, instructor):
    answer = client.post("/account/reminders", data={
        "channels": ["email"], "email": "zhang@ganzhou", "daily": "y",
    })  # fmt: skip
    assert answer.status_code == 422
    assert "电子邮箱的格式不对" in answer.text


def test_choices_are_saved_and_a_masked_number_posted_back_is_kept(app, client, instructor):
    answer = client.post("/account/reminders", data={
        "channels": ["wecom", "sms"], "wecom_userid": "zhang.wei", "mobile": "138 0013 8000",
        "daily": "y",
    })  # fmt: skip
    assert answer.status_code == 303
    page = client.get("/account/reminders").text
    assert "13800138000" not in page  # shown masked to its own non-admin owner
    assert "138****8000" in page
    again = client.post("/account/reminders", data={
        "channels": ["sms"], "wecom_userid": "zhang.wei", "mobile": "138****8000", "weekly": "y",
    })  # fmt: skip
    assert again.status_code == 303
    with app.app_context():
        saved = db.session.get(ReminderChoice, instructor)
        assert (saved.channels, saved.mobile, saved.daily, saved.weekly) == (
            "sms", "13800138000", False, True,
        )  # fmt: skip


def test_sms_needs_no_number_when_the_instructor_has_one(app, client, instructor):
    answer = client.post("/account/reminders", data={"channels": ["sms"], "daily": "y"})
    assert answer.status_code == 303


def test_a_landline_takes_no_sms(app, client, auth):
    """A number that cannot take an SMS is refused beside the field, kept as typed; one whose
    registered phone is a landline must give a mobile to choose SMS."""
    with app.app_context():
        f.InstructorFactory(account__username="desk", phone="0797-8123456")
    auth.login("desk")
    typed = client.post("/account/reminders", data={
        "channels": ["sms"], "mobile": "0797 8123456", "daily": "y",
    })  # fmt: skip
    assert typed.status_code == 422
    assert "请填写 11 位手机号码（短信不能发到固定电话）。" in typed.text
    assert 'value="0797 8123456"' in typed.text
    registered = client.post("/account/reminders", data={"channels": ["sms"], "daily": "y"})
    assert registered.status_code == 422
    assert "选择短信提醒，请填写手机号码。" in registered.text
    written = client.post("/account/reminders", data={
        "channels": ["sms"], "mobile": "+86 139-1234-5678", "daily": "y",
    })  # fmt: skip
    assert written.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(ReminderChoice.mobile)).one() == "13912345678"


def test_a_digest_is_not_queued_as_sms_to_a_landline(app, records):
    """A choice saved before landlines were refused: its SMS has nowhere to go."""
    app.config.update(SMS_TEMPLATE_DAILY="SMS_DAILY_001")
    with app.app_context():
        of_account(records["a"]).phone = "0797-8123456"
        db.session.add(ReminderChoice(account_id=records["a"], channels="sms,email",
                                      email="a@example.gov.cn"))  # fmt: skip
        db.session.commit()
        outbox.queue(DAY, now=MORNING)
        queued = db.session.scalars(sa.select(OutboxMessage.channel)).all()
    assert queued == [Channel.EMAIL]


def test_the_outbox_names_a_recipient_without_an_account_and_finds_them(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        message(None, DAY, addressee="赣南脐橙合作社党支部 刘书记", kind=MessageKind.RATING)
        message(f.AccountFactory(name="甲指导员").id, DAY)
        db.session.commit()
    auth.login("admin")
    listed = client.get("/reminders/outbox").text
    assert "赣南脐橙合作社党支部 刘书记" in listed
    assert "甲指导员" in listed
    found = client.get("/reminders/outbox", query_string={"q": "脐橙"}).text
    assert "赣南脐橙合作社党支部 刘书记" in found
    assert "甲指导员" not in found


def test_an_account_sees_only_what_was_sent_to_it(app, client, instructor):
    with app.app_context():
        other = f.AccountFactory(username="other").id
        message(instructor, DAY, state=MessageState.SENT, last_error="")
        message(other, DAY, state=MessageState.GIVEN_UP, last_error="别人的失败原因")
        db.session.commit()
    page = client.get("/account/reminders").text
    assert "已发送" in page
    assert "别人的失败原因" not in page


def test_the_admins_page_says_which_channels_are_set_and_never_shows_a_secret(app, client, auth):
    app.config.update(WECOM_CORP_ID="ww-corp", WECOM_AGENT_ID="1000002",
                      WECOM_SECRET="wecom-secret-value-9f3k", SMTP_PASSWORD="smtp-pw-value-2j1")  # fmt: skip
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    page = client.get("/reminders/").text
    assert "wecom-secret-value-9f3k" not in page
    assert "smtp-pw-value-2j1" not in page
    assert "<td>企业微信</td><td>已设置</td>" in page
    assert "<td>短信</td><td>未设置，不会发送</td>" in page
    app.config.update(SMS_ACCESS_KEY_ID="sms-id", SMS_ACCESS_KEY_SECRET="sms-secret-value-7q",
                      SMS_TEMPLATE_DAILY="SMS_0001", SMS_TEMPLATE_RATING="SMS_0003")  # fmt: skip
    page = client.get("/reminders/").text
    assert "sms-secret-value-7q" not in page
    assert "晨间提醒短信模板：SMS_0001" in page
    assert "每周提醒短信模板：未设置，不发送此类短信" in page  # said, not silently nothing
    assert "评议链接短信模板：SMS_0003" in page


def test_the_admin_switches_channels_and_digests_for_everyone(app, client, auth, records):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        db.session.merge(ReminderChoice(account_id=records["a"], wecom_userid="a", email="a@x.cn",
                                        channels="wecom,email"))  # fmt: skip
        db.session.commit()
    auth.login("admin")
    refused = client.post(
        "/reminders/", data={"channels": ["wecom"], "daily": "y", "stuck_days": "0"}
    )
    assert refused.status_code == 422
    assert "请填写 1 到 365 之间的天数。" in refused.text
    saved = client.post(
        "/reminders/", data={"channels": ["email"], "daily": "y", "stuck_days": "21"}
    )
    assert saved.status_code == 303
    with app.app_context():
        stored = db.session.get(ReminderSettings, 1)
        assert (stored.channels, stored.daily, stored.weekly, stored.stuck_days) == (
            "email",
            True,
            False,
            21,
        )
        outbox.queue(DAY, now=MORNING)
        queued = db.session.scalars(sa.select(OutboxMessage.channel)).all()
    assert queued == [Channel.EMAIL]  # 企业微信 switched off for everyone


def test_the_outbox_lists_what_failed_and_why_in_as_many_statements_for_30(app, client, auth,
                                                                            count_queries):  # fmt: skip
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        for n in range(3):
            message(f.AccountFactory().id, DAY, state=MessageState.GIVEN_UP, last_error=f"原因{n}")
        db.session.commit()
    auth.login("admin")
    with count_queries() as few:
        page = client.get("/reminders/outbox?state=given_up").text
    assert "原因2" in page
    with app.app_context():
        for _ in range(27):
            message(f.AccountFactory().id, DAY, state=MessageState.GIVEN_UP, last_error="更多")
        db.session.commit()
    with count_queries() as many:
        client.get("/reminders/outbox?state=given_up")
    assert len(many) == len(few)


def test_the_stuck_days_the_admin_sets_are_the_weekly_digests(app, records):
    with app.app_context():
        services.save_settings(channels=[Channel.WECOM], daily=True, weekly=True, stuck_days=30)
        db.session.commit()
        from crm.reminders import digests

        reviewer = next(a for a in digests.reviewers() if a.username == "reviewer")
        digest = digests.reviewer_digest(reviewer, date(2026, 11, 16))
    assert "超过 30 天未推进的问题" in [s.title for s in digest.sections]


def test_the_admin_fixes_someones_userid_from_the_outbox(app, client, auth):
    """A message given up for an unknown userid links to that person's settings, where the
    admin sets the right one; an account that does not exist is 404, and no one else may."""
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        person = f.InstructorFactory(account__username="zdy", account__name="赵指导员").account_id
        db.session.add(ReminderChoice(account_id=person, wecom_userid="zhao.old", channels="wecom"))
        message(person, DAY, state=MessageState.GIVEN_UP, last_error="企业微信用户“zhao.old”不存在")
        db.session.commit()
    auth.login("admin")
    listed = client.get("/reminders/outbox?state=given_up").text
    assert f'href="/reminders/accounts/{person}"' in listed
    page = client.get(f"/reminders/accounts/{person}").text
    assert "赵指导员的提醒设置" in page
    assert 'value="zhao.old"' in page
    saved = client.post(f"/reminders/accounts/{person}", data={
        "channels": ["wecom"], "wecom_userid": "zhao.new", "daily": "y",
    })  # fmt: skip
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(ReminderChoice, person).wecom_userid == "zhao.new"
    assert client.get("/reminders/accounts/999999").status_code == 404
    auth.logout()
    auth.login("zdy")
    assert client.get(f"/reminders/accounts/{person}").status_code == 403
