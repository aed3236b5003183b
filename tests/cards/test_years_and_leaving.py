"""A card's years: the year-end window, every card reachable, an unlock in sight, the goal card
on paper; a member who left; a new member's office; meetings entered late."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.cards import services
from crm.cards.models import GoalCard, GoalNote, Rating, VanguardEntry
from crm.extensions import db
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.rules import RuleError
from tests import factories as f
from tests.cards.test_scoping_and_pdf import pdf_text
from tests.conftest import with_version


def card_of(app, branch, year: int, **fields) -> int:
    with app.app_context():
        secretary = db.session.get(Member, branch.secretary)
        card = f.GoalCardFactory(member=secretary, branch_id=branch.id, year=year, **fields)
        return card.id


def test_the_year_end_opens_on_its_day_of_the_cards_own_year(app, branch):
    this_year = clock.today().year
    with app.app_context():
        secretary = db.session.get(Member, branch.secretary)
        account = f.AccountFactory()
        next_year = f.GoalCardFactory(member=secretary, branch_id=branch.id, year=this_year + 1,
                                      self_assessment="完成")  # fmt: skip
        opens = f"{this_year + 1}-12-01"
        with pytest.raises(RuleError, match=f"{this_year + 1} 年的年终自评和评定自 {opens} 起开放"):
            services.rate(next_year, Rating.GOOD, "", by=account)
        with pytest.raises(RuleError, match="起开放"):
            services.self_assess(next_year, "提前自评")
        last_year = f.GoalCardFactory(member=secretary, branch_id=branch.id, year=this_year - 1,
                                      self_assessment="完成")  # fmt: skip
        assert services.rate(last_year, Rating.GOOD, "", by=account).locked
        assert services.year_end_opens(2026) == date(2026, 12, 1)
        app.config["GOAL_CARD_YEAR_END"] = "11-15"
        assert services.year_end_opens(2026) == date(2026, 11, 15)


def test_every_card_of_every_year_and_term_is_reachable(app, client, auth, branch):
    this_year = clock.today().year
    old = card_of(app, branch, this_year - 2, rating=Rating.EXCELLENT, locked=True,
                  rated_on=date(this_year - 2, 12, 20))  # fmt: skip
    with app.app_context():  # a former secretary's card, from before a 换届
        former = f.MemberFactory(branch_id=branch.id, name="赵前任", active=False,
                                 left_on=date(this_year - 1, 6, 30))  # fmt: skip
        earlier = f.GoalCardFactory(member=former, branch_id=branch.id, year=this_year - 1).id
    current = card_of(app, branch, this_year)
    auth.login("zdy001")
    page = client.get(f"/branches/{branch.id}/goal-card").text
    for card_id in (old, earlier):
        assert f'href="/goal-cards/{card_id}"' in page
    assert f"{this_year - 1} 年 · 书记 赵前任" in page
    assert f"?year={this_year - 1}" in page  # the year before, one tap
    shown = client.get(f"/goal-cards/{earlier}").text
    assert "书记 赵前任（已不是本支部书记）" in shown
    assert client.get(f"/goal-cards/{current}").status_code == 200


def test_an_unlocked_card_says_so_and_the_old_rating_no_longer_stands(app, client, auth, branch):
    card_id = card_of(app, branch, clock.today().year - 1, self_assessment="完成", rating=Rating.EXCELLENT,
                      rated_on=date(clock.today().year - 1, 12, 20), locked=True)  # fmt: skip
    auth.login("reviewer")
    client.post(f"/goal-cards/{card_id}/unlock", data={"reason": "自评材料不全"})
    auth.logout()
    auth.login("zdy001")  # the instructor sees it too
    page = client.get(f"/goal-cards/{card_id}").text
    assert f"已于 {clock.today():%Y-%m-%d} 由" in page
    assert "解锁：自评材料不全" in page
    assert "原评定：<s>优秀</s>" in page
    assert "已评定，已锁定" not in page


def test_the_goal_card_prints_on_a4_with_what_it_holds(app, client, auth, branch, tmp_path):
    year = clock.today().year - 1
    card_id = card_of(app, branch, year, self_assessment="全年目标基本完成。", rating=Rating.GOOD,
                      rating_comment="成效明显", rated_on=date(year, 12, 20), locked=True)  # fmt: skip
    with app.app_context():
        card = db.session.get(GoalCard, card_id)
        rater = f.AccountFactory(name="张伟")
        card.rated_by_id = rater.id
        card.notes.append(
            GoalNote(noted_on=date(year, 6, 1), text="七一开展主题党日", by_id=rater.id)
        )
        db.session.commit()
        goals = [goal.title for goal in card.goals]
    auth.login("zdy001")
    response = client.get(f"/goal-cards/{card_id}.pdf")
    assert response.mimetype == "application/pdf"
    text, pages = pdf_text(response.data, tmp_path)
    assert pages == 1
    for expected in ["党组织书记履职目标卡", f"{year} 年度", "书记 钟华", *goals, "七一开展主题党日",
                     "全年目标基本完成。", "评定等次：良好", "成效明显", "评定人：张伟",
                     f"评定日期：{year}-12-20", "书记（签字）", "指导员（签字）"]:  # fmt: skip
        assert expected in text, expected
    assert f'href="/goal-cards/{card_id}.pdf"' in client.get(f"/goal-cards/{card_id}").text


def test_a_member_who_left_is_marked_offered_nowhere_and_refused_clearly(
    app, client, auth, branch, tmp_path
):
    left_on = clock.today() - timedelta(days=20)
    auth.login("zdy001")
    member = branch.members["乙"]
    url = f"/members/{member}/edit"
    edited = client.post(url, data=with_version(client, url, {
        "name": "乙", "role": "member", "left_on": left_on.isoformat()}))  # fmt: skip
    assert edited.status_code == 303
    with app.app_context():
        gone = db.session.get(Member, member)
        assert (gone.active, gone.left_on) == (False, left_on)
    page = client.get(f"/members/{member}").text
    assert f"已转出（{left_on:%Y-%m-%d}）" in page
    assert "记储绩" not in page
    form = client.get(f"/branches/{branch.id}/entries/new?member_id={member}").text
    assert "乙（党员）" not in form
    chooser = form.split('name="member_id"')[1].split("</select>")[0]
    assert chooser.count("selected") == 1  # nobody preselected: only the prompt
    assert '<option selected value="">请选择党员</option>' in chooser
    refused = client.post(f"/branches/{branch.id}/entries/new", data={
        "client_key": "k" * 16, "member_id": member, "done_on": clock.today().isoformat(),
        "category": "volunteer", "deed": "社区志愿服务", "points": 2})  # fmt: skip
    assert refused.status_code == 422
    assert f"乙已于 {left_on:%Y-%m-%d} 转出本支部，不能再记储绩。" in refused.text
    nobody = client.post(f"/branches/{branch.id}/entries/new", data={
        "client_key": "j" * 16, "member_id": "", "done_on": clock.today().isoformat(),
        "category": "volunteer", "deed": "社区志愿服务", "points": 2})  # fmt: skip
    assert "请选择党员。" in nobody.text
    meeting = client.post(f"/branches/{branch.id}/meetings/new", data={
        "client_key": "m" * 16, "kind": "dialogue", "held_on": clock.today().isoformat(),
        "attendee_ids": [member], "topics": "议题"})  # fmt: skip
    assert "乙已转出本支部，不能列为参会党员。" in meeting.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VanguardEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
    text, _ = pdf_text(client.get(f"/members/{member}/card.pdf").data, tmp_path)
    assert "已转出" in text
    url = f"/members/{branch.members['丙']}/edit"
    future = client.post(url, data=with_version(client, url, {
        "name": "丙", "role": "member", "left_on": (clock.today() + timedelta(days=1)).isoformat()}))  # fmt: skip
    assert "转出日期不能晚于今天。" in future.text


def test_a_new_member_is_a_plain_member_unless_chosen_otherwise(app, client, auth, branch):
    auth.login("zdy001")
    form = client.get(f"/branches/{branch.id}/members/new").text
    select = form.split('name="role"')[1].split("</select>")[0]
    assert '<option selected value="member">党员</option>' in select
    saved = client.post(
        f"/branches/{branch.id}/members/new", data={"name": "新党员", "role": "member"}
    )
    assert saved.status_code == 303


def test_a_meeting_entered_long_after_it_was_held_is_marked_backfilled(app, client, auth, branch):
    auth.login("zdy001")
    form = client.get(f"/branches/{branch.id}/meetings/new").text
    assert "党组织负责人参加（列席）企业决策层会议" in form  # full names, not 列席 twice
    assert "非党员业主列席党组织会议" in form
    for key, days_ago in (("late" * 4, 30), ("soon" * 4, 3)):
        client.post(f"/branches/{branch.id}/meetings/new", data={
            "client_key": key, "kind": "dialogue", "attendee_ids": [branch.secretary],
            "held_on": (clock.today() - timedelta(days=days_ago)).isoformat(), "topics": "议题"})  # fmt: skip
    with app.app_context():
        marks = dict(db.session.execute(sa.select(Meeting.client_key, Meeting.backfilled)).all())
    assert marks == {"late" * 4: True, "soon" * 4: False}
    listing = client.get(f"/branches/{branch.id}/meetings").text
    assert listing.count("补录") == 1
