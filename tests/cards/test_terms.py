"""A branch's whole year with a 换届 in June: the goal card follows the secretary's term, and the
branch's 书记 and 党员人数 follow the member list."""

from datetime import date, datetime, time

import sqlalchemy as sa
import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.branches.models import Branch
from crm.cards.models import GoalCard, Rating
from crm.extensions import db
from crm.members.models import Member
from tests import factories as f
from tests.conftest import with_version


def on(day: date):
    return time_machine.travel(datetime.combine(day, time(10), clock.LOCAL_TIME), tick=False)


def cards(app) -> list[tuple[str, int, date | None, list[str], int, bool]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(GoalCard).order_by(GoalCard.id)).all()
        return [(c.member.name, c.year, c.term_ended_on, [g.title for g in c.goals], len(c.notes),
                 c.locked) for c in rows]  # fmt: skip


def test_a_year_with_a_change_of_secretary_in_june(app, client, auth, branch):
    year = 2026
    with on(date(year, 1, 10)):
        auth.login("zdy001")
        client.post(f"/branches/{branch.id}/goal-card?year={year}", data={
            "year": year, "goals-0-title": "发展党员 2 名", "goals-0-target": "2 名",
            "goals-1-title": "每月主题党日", "goals-1-target": "12 次"})  # fmt: skip
        card = cards(app)
        assert [(c[0], c[1]) for c in card] == [("钟华", year)]
    with app.app_context():
        old_id = db.session.scalar(sa.select(GoalCard.id))
    with on(date(year, 3, 5)):
        auth.login("zdy001")
        client.post(
            f"/goal-cards/{old_id}/notes", data={"on": f"{year}-03-05", "text": "发展对象 1 名"}
        )
    with on(date(year, 6, 18)):  # 换届: 钟华 steps down, 甲 is elected
        auth.login("zdy001")
        url = f"/members/{branch.secretary}/edit"
        assert client.post(url, data=with_version(client, url, {
            "name": "钟华", "role": "committee"})).status_code == 303  # fmt: skip
        url = f"/members/{branch.members['甲']}/edit"
        assert client.post(url, data=with_version(client, url, {
            "name": "甲", "role": "secretary", "phone": "13907970001"})).status_code == 303  # fmt: skip
        after = cards(app)
        assert after == [
            ("钟华", year, date(year, 6, 18), ["发展党员 2 名", "每月主题党日"], 1, False),
            ("甲", year, None, ["发展党员 2 名", "每月主题党日"], 0, False),
        ]
        refused = client.post(
            f"/goal-cards/{old_id}/notes", data={"on": f"{year}-06-18", "text": "x"}
        )
        assert "书记已于 2026-06-18 换届，这张目标卡已结束" in refused.text
        page = client.get(f"/branches/{branch.id}/goal-card?year={year}").text
        assert "书记 甲" in page
        assert f'href="/goal-cards/{old_id}"' in page  # the old card, still reachable
        assert "换届（2026-06-18）" in page
        branch_page = client.get(f"/branches/{branch.id}").text
    with app.app_context():
        row = db.session.get(Branch, branch.id)
        present = db.session.scalar(sa.select(sa.func.count()).where(Member.branch_id == branch.id,
                                                                    Member.active.is_(True)))  # fmt: skip
        assert (row.secretary_name, row.secretary_phone, row.member_count) == (
            "甲",
            "13907970001",
            present,
        )
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("goal_card.term%"))
        ).all()
    assert sorted(actions) == ["goal_card.term_end", "goal_card.term_start"]
    assert "<dt>书记</dt><dd>甲" in branch_page.replace("\n", "").replace("  ", "")
    with on(date(year, 12, 20)):  # the new secretary's year-end
        auth.login("zdy001")
        new_id = _card_id(app, "甲")
        client.post(f"/goal-cards/{new_id}/assessment", data={"self_assessment": "下半年目标完成"})
        rated = client.post(f"/goal-cards/{new_id}/rating", data={"rating": "good", "comment": ""})
        assert rated.status_code == 303
    assert [c[5] for c in cards(app)] == [False, True]


def _card_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(GoalCard.id).join(Member).where(Member.name == name))


def test_a_rated_card_stands_through_a_change_of_secretary(app, client, auth, branch):
    with app.app_context():
        secretary = db.session.get(Member, branch.secretary)
        f.GoalCardFactory(member=secretary, branch_id=branch.id, year=clock.today().year,
                          locked=True, rating=Rating.GOOD, rated_on=clock.today())  # fmt: skip
    auth.login("zdy001")
    client.post(
        f"/members/{branch.secretary}/edit",
        data=with_version(
            client, f"/members/{branch.secretary}/edit", {"name": "钟华", "role": "member"}
        ),
    )
    assert [(c[0], c[2], c[5]) for c in cards(app)] == [("钟华", None, True)]


def test_the_branch_form_takes_the_member_count_from_the_list(app, client, auth, branch):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    form = client.get(f"/branches/{branch.id}/edit").text
    assert "按党员名册中在册的党员计算" in form
    assert (
        'name="member_count" readonly' in form
        or "readonly" in form.split('name="member_count"')[1][:80]
    )
