"""Rating links sent by SMS to the secretaries (who have no account) through the reminders'
outbox, against the SMS provider's stand-in (tests/reminders/standins.py): the link sealed
while it waits and gone once sent, a revoked link's SMS stopped, the quiet hours kept, and
sending refused beside its box, with nothing issued, when this deployment cannot send."""

import json
import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm import clock
from crm.assessment.models import RatingLink
from crm.branches.models import Branch
from crm.extensions import db
from crm.reminders import channels, outbox
from crm.reminders.models import Channel, MessageKind, MessageState, OutboxMessage, ReminderSettings
from tests.assessment.conftest import YEAR, issued, open_window
from tests.reminders import standins

TEMPLATE = "SMS_RATING_001"
RATING_DAY = datetime.combine(clock.today().replace(month=1, day=12), time(10), clock.LOCAL_TIME)


@pytest.fixture
def daytime():
    """A weekday morning of the rating window (nothing waits for the quiet hours)."""
    with time_machine.travel(RATING_DAY):
        yield


@pytest.fixture
def sms(app, daytime):
    stand_in = standins.SmsStandIn()
    with standins.serving(stand_in) as url:
        app.config.update(
            SMS_API=url,
            SMS_ACCESS_KEY_ID=standins.KEY_ID,
            SMS_ACCESS_KEY_SECRET=standins.KEY_SECRET,
            SMS_SIGN_NAME="赣州两新党建",
            SMS_TEMPLATE_RATING=TEMPLATE,
        )
        yield stand_in


def deliver(app) -> None:
    with app.app_context():
        outbox.deliver(channels.configured(app.config), pacer=outbox.Pacer({"sms": 1000}))


def messages(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return found


def test_links_go_by_sms_sealed_until_sent_and_open_the_rating(app, client, auth, handover, sms):
    open_window(app)
    auth.login("admin")
    page = client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    assert page.status_code == 200
    tokens = issued(page.text)  # instructor → token, also shown to print
    assert set(tokens) == {"陈指导", "林指导"}
    with app.app_context():
        phone = db.session.get(Branch, handover["branch"]).secretary_phone
    masked = f"{phone[:3]}****{phone[-4:]}"
    assert page.text.count(f"已排队发送至 {masked}") == 2

    queued = messages(app)
    assert len(queued) == 2
    for message in queued:
        assert (message.account_id, message.kind, message.channel) == (
            None,
            MessageKind.RATING,
            Channel.SMS,
        )
        assert (message.recipient, message.state) == (phone, MessageState.QUEUED)
        assert message.addressee == "赣南脐橙合作社党支部 刘书记"
        assert message.body.startswith("v1:")  # sealed: the link cannot be read from the table
        assert not any(token in message.body for token in tokens.values())
    assert "短信待发送" in client.get(f"/assessment/{YEAR}/ratings").text

    deliver(app)
    assert len(sms.sent) == 2
    sent = {}
    for one in sms.sent:
        assert (one["PhoneNumbers"], one["TemplateCode"]) == (phone, TEMPLATE)
        params = json.loads(one["TemplateParam"])
        assert params["branch"] == "赣南脐橙合作社党支部"
        assert params["year"] == str(YEAR)
        sent[params["instructor"]] = params["url"]
    assert sent == {
        name: f"http://localhost:5000/assessment/rate/{token}" for name, token in tokens.items()
    }
    for message in messages(app):
        assert (message.state, message.body) == (MessageState.SENT, "")  # the secret not kept
    listed = client.get(f"/assessment/{YEAR}/ratings").text
    assert listed.count(f"短信已于 {RATING_DAY:%Y-%m-%d} 发送") == 2
    auth.logout()
    opened = client.get(sent["林指导"].removeprefix("http://localhost:5000"))
    assert opened.status_code == 200
    assert "林指导" in opened.text


def test_a_revoked_or_reissued_links_sms_is_stopped_if_not_yet_sent(
    app, client, auth, handover, sms
):
    open_window(app)
    auth.login("admin")
    client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    with app.app_context():
        links = {link.instructor_id: link.id for link in db.session.scalars(sa.select(RatingLink))}
    revoked = client.post(f"/assessment/rating-links/{links[handover['before']]}/revoke")
    assert revoked.status_code == 303
    again = client.post(
        f"/assessment/{YEAR}/ratings/{handover['branch']}/{handover['after']}",
        data={"send": "y"},
    )
    assert list(issued(again.text)) == ["林指导"]
    new_token = issued(again.text)["林指导"]

    deliver(app)
    assert [json.loads(one["TemplateParam"])["url"][-43:] for one in sms.sent] == [new_token]
    states = [(m.state, m.last_error, m.body) for m in messages(app)]
    assert states == [
        (MessageState.GIVEN_UP, "链接已收回，未发送。", ""),
        (MessageState.GIVEN_UP, "链接已收回，未发送。", ""),
        (MessageState.SENT, "", ""),
    ]
    assert "短信未能发送：链接已收回" not in client.get(f"/assessment/{YEAR}/ratings").text


def test_a_secretary_without_a_mobile_gets_the_printed_link_only(app, client, auth, handover, sms):
    with app.app_context():
        db.session.get(Branch, handover["branch"]).secretary_phone = "0797-8123456"
        db.session.commit()
    open_window(app)
    auth.login("admin")
    page = client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    assert len(issued(page.text)) == 2
    assert page.text.count("没有书记的手机号（固定电话不能收短信），请打印转交。") == 2
    assert messages(app) == []
    listed = client.get(f"/assessment/{YEAR}/ratings").text
    assert "并发短信" not in listed  # no row offers an SMS it cannot send


def test_a_secretarys_number_as_an_office_types_it_is_texted(app, client, auth, handover, sms):
    """Full-width digits, spaces, hyphens and +86, as a branch's record may hold them."""
    with app.app_context():
        db.session.get(Branch, handover["branch"]).secretary_phone = "+86 １３９-1234 5678"
        db.session.commit()
    open_window(app)
    auth.login("admin")
    page = client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    assert page.text.count("已排队发送至 139****5678") == 2
    deliver(app)
    assert {one["PhoneNumbers"] for one in sms.sent} == {"13912345678"}


def test_a_link_issued_in_the_quiet_hours_is_sent_at_eight(app, client, auth, handover, sms):
    open_window(app)
    evening = RATING_DAY.replace(hour=22, minute=30)
    with time_machine.travel(evening):
        auth.login("admin")
        client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
        deliver(app)
    assert sms.sent == []
    morning = datetime.combine(evening.date() + timedelta(days=1), time(8), clock.LOCAL_TIME)
    assert {clock.local(m.not_before) for m in messages(app)} == {morning}
    with time_machine.travel(morning + timedelta(minutes=1)):
        deliver(app)
    assert len(sms.sent) == 2


def test_a_body_sealed_under_a_key_since_replaced_is_given_up_not_sent(
    app, client, auth, handover, sms
):
    open_window(app)
    auth.login("admin")
    client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    app.config["AUDIT_KEY"] = "another-key"
    deliver(app)
    assert sms.sent == []
    assert {(m.state, m.body) for m in messages(app)} == {(MessageState.GIVEN_UP, "")}
    assert "另一把密钥" in messages(app)[0].last_error


def sms_disabled(app) -> None:
    with app.app_context():
        db.session.add(ReminderSettings(id=1, channels="wecom,email"))
        db.session.commit()


@pytest.mark.parametrize(
    ("setting", "refusal"),
    [
        ({"SMS_ACCESS_KEY_ID": ""}, "本系统尚未配置短信服务"),
        ({"SMS_TEMPLATE_RATING": ""}, "尚未配置评议链接的短信模板（CRM_SMS_TEMPLATE_RATING）"),
        (sms_disabled, "短信渠道已在提醒设置中停用"),
    ],
)
def test_sending_is_refused_beside_its_box_and_nothing_is_issued(
    app, client, auth, handover, sms, setting, refusal
):
    if callable(setting):
        setting(app)
    else:
        app.config.update(setting)
    open_window(app)
    auth.login("admin")
    shown = client.get(f"/assessment/{YEAR}/ratings").text
    box = re.search(r"<input[^>]*name=\"send\"[^>]*>", shown).group(0)
    assert "disabled" in box  # offered only where it can be done, and it says why
    assert refusal in shown
    answer = client.post(f"/assessment/{YEAR}/ratings", data={"send": "y"})
    assert answer.status_code == 422
    assert re.search(r'id="send-error"><p>[^<]*' + re.escape(refusal), answer.text)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RatingLink)) == 0
    assert messages(app) == []
