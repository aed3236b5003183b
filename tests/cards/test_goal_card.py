import sqlalchemy as sa

from crm import clock
from crm.audit.models import AuditEntry
from crm.cards.models import GoalCard, GoalNote
from crm.extensions import db


def open_card(client, branch, year=None):
    year = year or clock.today().year
    return client.post(f"/branches/{branch.id}/goal-card?year={year}", data={
        "year": year, "goals-0-title": "发展党员 2 名", "goals-0-target": "2 名",
        "goals-0-measure": "按期转正", "goals-1-title": "每月开展主题党日",
        "goals-1-target": "12 次", "goals-1-measure": "活动记录",
    })  # fmt: skip


def the_card(app) -> GoalCard:
    with app.app_context():
        card = db.session.execute(sa.select(GoalCard)).scalar_one()
        db.session.expunge(card)
        return card


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def audit_trail(app) -> list[tuple]:
    """The rating and unlocking, and each change of `locked` the session hook logged."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "goal_card")
            .order_by(AuditEntry.id)
        ).scalars()
        return [(e.action, e.actor_name, (e.changes or {}).get("locked")) for e in rows
                if e.action in ("goal_card.rate", "goal_card.unlock") or "locked" in (e.changes or {})]  # fmt: skip


def test_one_card_per_secretary_and_year(app, client, auth, branch):
    auth.login("zdy001")
    assert open_card(client, branch).status_code == 303
    again = client.post(f"/branches/{branch.id}/goal-card?year={clock.today().year}&again=1",
                        data={"year": clock.today().year, "goals-0-title": "x"})  # fmt: skip
    assert again.status_code == 200  # the existing card is shown, nothing is added
    assert count(app, GoalCard) == 1


def test_a_second_card_for_the_same_year_is_refused_by_the_rule(app, branch):
    import pytest

    from crm.cards import services
    from crm.members.models import Member
    from crm.rules import RuleError

    with app.app_context():
        secretary = db.session.get(Member, branch.secretary)
        services.open_goal_card(secretary, 2026, [services.NewGoal("目标")])
        with pytest.raises(RuleError, match="2026 年的履职目标卡已经建立"):
            services.open_goal_card(secretary, 2026, [services.NewGoal("另一个")])


def test_rating_locks_the_card_and_a_reviewer_unlocks_it(app, client, auth, branch):
    app.config["GOAL_CARD_YEAR_END"] = "01-01"  # the year-end window open all year (tested apart)
    auth.login("zdy001")
    open_card(client, branch)
    card = the_card(app)
    today = clock.today().isoformat()
    refused = client.post(f"/goal-cards/{card.id}/rating", data={"rating": "good", "comment": ""})
    assert "尚未填写年终自评" in refused.text
    client.post(f"/goal-cards/{card.id}/assessment", data={"self_assessment": "全年目标基本完成。"})
    rated = client.post(f"/goal-cards/{card.id}/rating",
                        data={"rating": "excellent", "comment": "成效明显"})  # fmt: skip
    assert rated.status_code == 303
    card = the_card(app)
    assert (card.locked, card.rating.value) == (True, "excellent")

    notes = count(app, GoalNote)
    locked = client.post(f"/goal-cards/{card.id}/notes", data={"on": today, "text": "补充进展"})
    assert locked.status_code == 422
    assert "已评定并锁定" in locked.text
    assert count(app, GoalNote) == notes
    assert client.post(f"/goal-cards/{card.id}/unlock", data={"reason": "x"}).status_code == 403

    auth.logout()
    auth.login("reviewer")
    no_reason = client.post(f"/goal-cards/{card.id}/unlock", data={"reason": ""})
    assert "请说明解锁原因" in no_reason.text
    assert client.post(f"/goal-cards/{card.id}/unlock",
                       data={"reason": "书记补报材料"}).status_code == 303  # fmt: skip
    assert the_card(app).locked is False
    auth.logout()

    auth.login("zdy001")
    assert client.post(f"/goal-cards/{card.id}/notes",
                       data={"on": today, "text": "补充进展"}).status_code == 303  # fmt: skip
    trail = audit_trail(app)
    assert sorted(trail[:2], key=str) == [
        ("goal_card.rate", "zdy001", None),
        ("goal_card.update", "zdy001", [False, True]),
    ]
    assert sorted(trail[2:], key=str) == [
        ("goal_card.unlock", "reviewer", None),
        ("goal_card.update", "reviewer", [True, False]),
    ]


def test_a_goal_card_is_only_for_the_secretary(app, branch):
    import pytest

    from crm.cards import services
    from crm.members.models import Member
    from crm.rules import RuleError

    with app.app_context():
        member = db.session.get(Member, branch.members["甲"])
        with pytest.raises(RuleError, match="不是本支部书记"):
            services.open_goal_card(member, 2026, [services.NewGoal("目标")])
