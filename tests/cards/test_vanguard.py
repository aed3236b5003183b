from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Role
from crm.cards import services
from crm.cards.models import VanguardEntry
from crm.extensions import db
from crm.members.models import Member
from crm.rules import RuleError
from tests import factories as f


def entry_form(member_id, key="e" * 16, **changes):
    return {"client_key": key, "member_id": member_id, "done_on": clock.today().isoformat(),
            "category": "volunteer", "deed": "组织职工义务献血", "points": "3", **changes}  # fmt: skip


def entries(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(VanguardEntry)).scalar()


def test_an_entry_counts_only_once_confirmed(app, client, auth, branch):
    auth.login("zdy001")
    member = branch.members["甲"]
    assert client.post(f"/branches/{branch.id}/entries/new",
                       data=entry_form(member)).status_code == 303  # fmt: skip
    page = client.get(f"/members/{member}").text
    assert "待确认，不计分" in page
    assert '<strong class="total">0</strong>' in page
    assert "由书记通过" in page  # the recorder is shown who confirms, not a button
    with app.app_context():
        entry_id = db.session.execute(sa.select(VanguardEntry.id)).scalar_one()
        reviewer_name = db.session.scalar(
            sa.select(f.Account.name).where(f.Account.username == "reviewer")
        )
    assert client.post(f"/entries/{entry_id}/confirm").status_code == 403  # not by its recorder
    auth.logout()
    auth.login("reviewer")
    client.post(f"/entries/{entry_id}/confirm")
    page = client.get(f"/members/{member}").text
    assert '<strong class="total">3</strong>' in page
    assert f"已确认（审阅人员{reviewer_name}）" in page


def test_the_same_entry_sent_twice_is_banked_once(app, client, auth, branch):
    auth.login("zdy001")
    url = f"/branches/{branch.id}/entries/new"
    headers = {"Accept": "application/json"}
    first = client.post(url, data=entry_form(branch.members["甲"]), headers=headers)
    second = client.post(url, data=entry_form(branch.members["甲"]), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json == second.json
    assert entries(app) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"points": "11"}, "积分应在 1 到 10 分之间"),
        ({"points": "0"}, "积分应在 1 到 10 分之间"),
        ({"done_on": (clock.today() + timedelta(days=1)).isoformat()}, "日期不能晚于今天"),
        ({"deed": ""}, "请写下做了什么"),
    ],
)
def test_bad_entries_are_refused_with_the_values_kept(app, client, auth, branch, changes, message):
    auth.login("zdy001")
    response = client.post(f"/branches/{branch.id}/entries/new",
                           data=entry_form(branch.members["乙"], **changes))  # fmt: skip
    assert response.status_code == 422
    assert message in response.text
    assert "组织职工义务献血" in response.text or changes.get("deed") == ""
    assert entries(app) == 0


def test_a_member_of_another_branch_cannot_be_chosen(app, client, auth, branch):
    with app.app_context():
        stranger = f.MemberFactory().id
    auth.login("zdy001")
    response = client.post(f"/branches/{branch.id}/entries/new", data=entry_form(stranger))
    assert response.status_code == 422
    assert entries(app) == 0


def test_the_ranking_counts_confirmed_points_and_ties_share_a_rank(app, branch):
    # Confirmed: 甲 5+3 = 8, 乙 8, 丙 4 (and 6 unconfirmed), 钟华 0, 丁 0.
    plan = {"甲": [(5, True), (3, True)], "乙": [(8, True)], "丙": [(4, True), (6, False)]}
    expected = [("乙", 8, 1), ("甲", 8, 1), ("丙", 4, 3), ("丁", 0, 4), ("钟华", 0, 4)]
    with app.app_context():
        account = f.AccountFactory()
        reviewer = f.AccountFactory(roles=[Role.REVIEWER])
        year = clock.today().year
        for name, points in plan.items():
            member = db.session.get(Member, branch.members[name])
            for n, (value, confirmed) in enumerate(points):
                entry = services.add_entry(member, services.NewEntry(
                    f"{name}-{n}-key", clock.today(), "事迹", f.VanguardCategory.POST, value),
                    by=account)  # fmt: skip
                if confirmed:
                    services.confirm(entry, by=reviewer)
        db.session.commit()
        standings = [(s.member.name, s.total, s.rank) for s in services.ranking(branch.id, year)]
    assert sorted(standings[:2]) == sorted(expected[:2])
    assert standings[2:] == expected[2:]


def test_points_bounds_are_settings(app, branch):
    app.config["VANGUARD_POINTS_MAX"] = 20
    with app.app_context():
        member = db.session.get(Member, branch.members["甲"])
        entry = services.add_entry(member, services.NewEntry(
            "bound-key-1", clock.today(), "事迹", f.VanguardCategory.POST, 20), by=f.AccountFactory())  # fmt: skip
        assert entry.points == 20
        with pytest.raises(RuleError, match="1 到 20"):
            services.add_entry(member, services.NewEntry(
                "bound-key-2", clock.today(), "事迹", f.VanguardCategory.POST, 21), by=f.AccountFactory())  # fmt: skip


def test_tied_members_and_the_member_list_go_by_pinyin(app, branch):
    """熊 < 陶 < 黄 by character code; a reader expects huang, tao, xiong."""
    from crm.cards.services import ranking
    from crm.members.services import members_of

    with app.app_context():
        branch_row = db.session.get(f.Branch, branch.id)
        for name in ("熊", "陶", "黄"):
            f.MemberFactory(branch=branch_row, name=name)
        tied = [
            s.member.name
            for s in ranking(branch.id, clock.today().year)
            if s.member.name in "熊陶黄"
        ]
        listed = [m.name for m in members_of(branch.id) if m.name in "熊陶黄"]
    assert tied == listed == ["黄", "陶", "熊"]
