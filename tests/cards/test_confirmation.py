"""Confirmation by someone other than the recorder: the secretary through a personal,
single-use, expiring, revocable link (no account), or a reviewer."""

import re
from datetime import timedelta
from urllib.parse import unquote

import sqlalchemy as sa
import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.cards import services
from crm.cards.models import ConfirmationLink, VanguardEntry
from crm.extensions import db
from crm.members.models import Member
from tests import factories as f
from tests.cards.test_vanguard import entry_form
from tests.conftest import with_version


def issue(client, branch) -> str:
    page = client.post(f"/branches/{branch.id}/confirmation-link").text
    return re.search(r"/confirm/([A-Za-z0-9_-]{40,})", page).group(1)


def confirmed(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Member.name, VanguardEntry.confirmed_as)
            .join(VanguardEntry.card).join(Member, Member.id == f.VanguardCard.member_id)
        ).all()  # fmt: skip
        return dict(rows)


def test_the_secretary_confirms_through_a_link_once(app, client, auth, branch):
    auth.login("zdy001")
    for n, member in enumerate((branch.members["甲"], branch.members["乙"], branch.secretary)):
        client.post(
            f"/branches/{branch.id}/entries/new", data=entry_form(member, key=f"key-{n}-entries")
        )
    page = client.post(f"/branches/{branch.id}/confirmation-link").text
    token = re.search(r"/confirm/([A-Za-z0-9_-]{40,})", page).group(1)
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)" alt="书记确认链接二维码"', page).group(1)
    assert "xmlns" in unquote(qr)  # a browser draws an SVG image only with its namespace
    auth.logout()

    shown = client.get(f"/confirm/{token}").text  # no account
    assert "钟华书记" in shown
    assert "甲 ·" in shown
    assert "乙 ·" in shown
    assert "钟华 ·" not in shown  # the secretary's own deed goes to a reviewer
    with app.app_context():
        first = db.session.scalar(sa.select(VanguardEntry.id).join(VanguardEntry.card)
                                  .join(Member, Member.id == f.VanguardCard.member_id)
                                  .where(Member.name == "甲"))  # fmt: skip
    done = client.post(f"/confirm/{token}", data={"entry_ids": [first]})
    assert "已确认 1 条储绩记录" in done.text
    assert confirmed(app) == {"甲": "书记钟华（确认链接）", "乙": "", "钟华": ""}
    again = client.get(f"/confirm/{token}")
    assert again.status_code == 410
    assert "每个链接只能使用一次" in again.text
    assert client.post(f"/confirm/{token}", data={"entry_ids": [first]}).status_code == 410
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.action.in_(["confirmation_link.issue", "confirmation_link.use"]))).all()  # fmt: skip
        assert sorted(actions) == ["confirmation_link.issue", "confirmation_link.use"]
        stored = db.session.scalar(sa.select(ConfirmationLink.token_hash))
        assert token not in stored  # only a hash of the token is kept


def test_a_link_expires_is_revoked_by_a_new_one_and_ends_with_the_secretary(
    app, client, auth, branch
):
    auth.login("zdy001")
    client.post(f"/branches/{branch.id}/entries/new", data=entry_form(branch.members["甲"]))
    old = issue(client, branch)
    new = issue(client, branch)
    assert "已被收回" in client.get(f"/confirm/{old}").text
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        expired = client.get(f"/confirm/{new}")
    assert (expired.status_code, "已过期" in expired.text) == (410, True)
    auth.login("zdy001")  # (the session did not outlive the trip)
    latest = issue(client, branch)
    client.post(
        f"/members/{branch.secretary}/edit",
        data=with_version(
            client, f"/members/{branch.secretary}/edit", {"name": "钟华", "role": "member"}
        ),
    )
    assert "书记已变更" in client.get(f"/confirm/{latest}").text
    unknown = client.get("/confirm/" + "x" * 43)
    assert (unknown.status_code, "链接无效" in unknown.text) == (404, True)
    assert confirmed(app) == {"甲": ""}


def test_nobody_confirms_what_they_recorded(app, client, auth, branch):
    with app.app_context():
        admin = f.AccountFactory(username="admin", roles=[Role.ADMIN])
        member = db.session.get(Member, branch.members["甲"])
        entry = services.add_entry(member, services.NewEntry(
            "admin-entry-key-1", clock.today(), "事迹", f.VanguardCategory.POST, 2), by=admin)  # fmt: skip
        db.session.commit()
        entry_id = entry.id
    auth.login("admin")
    page = client.get(f"/members/{branch.members['甲']}").text
    assert f'action="/entries/{entry_id}/confirm"' not in page
    client.post(f"/entries/{entry_id}/confirm")
    assert confirmed(app) == {"甲": ""}
    auth.logout()
    auth.login("zdy001")  # the instructor confirms nothing with an account
    assert client.post(f"/entries/{entry_id}/confirm").status_code == 403
    auth.logout()
    auth.login("reviewer")
    client.post(f"/entries/{entry_id}/confirm")
    assert confirmed(app)["甲"].startswith("审阅人员")


def test_a_link_taken_back_by_hand_no_longer_opens(app, client, auth, branch):
    auth.login("zdy001")
    client.post(f"/branches/{branch.id}/entries/new", data=entry_form(branch.members["甲"]))
    token = issue(client, branch)
    with app.app_context():
        link_id = db.session.scalar(sa.select(ConfirmationLink.id))
    client.post(f"/confirmation-links/{link_id}/revoke")
    assert "已收回" in client.get(f"/confirm/{token}").text
    again = client.post(f"/confirmation-links/{link_id}/revoke", follow_redirects=True)
    assert "这个链接已使用或已收回" in again.text
    auth.logout()
    auth.login("reviewer")  # not the one who keeps the branch's cards
    assert client.post(f"/confirmation-links/{link_id}/revoke").status_code == 403
    assert confirmed(app) == {"甲": ""}
