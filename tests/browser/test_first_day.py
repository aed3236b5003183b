"""A new instructor's first day on a phone: offline from the first page after sign-in."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm import clock
from crm.extensions import db
from crm.problems.models import ProblemStatus
from crm.visits.models import Visit
from tests import factories as f
from tests.browser.test_visits import sign_in

BRANCHES = ["华兴电子党支部", "赣南果业联合党支部", "章贡区物流协会党支部"]


def first_day(app) -> dict:
    """zdy001 with three branches, open problems on two of them and a closed one."""
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        branches = [
            f.AssignmentFactory(instructor=me, branch__name=name).branch for name in BRANCHES
        ]
        today = clock.today()
        open_ones = [
            f.ProblemFactory(branch=branches[0], description="急需电工 5 名", raised_on=today),
            f.ProblemFactory(branch=branches[1], description="冷库用电报装慢", raised_on=today),
        ]
        f.ProblemFactory(branch=branches[2], description="已解决的问题", raised_on=today - timedelta(days=3),
                         status=ProblemStatus.SOLVED, closed_on=today)  # fmt: skip
        db.session.commit()
        return {"branches": [b.id for b in branches], "problems": [p.id for p in open_ones]}


@pytest.mark.slow
def test_offline_works_in_the_tab_one_signs_in_with(app, live_server, served, page: Page):
    ids = first_day(app)
    sign_in(page, live_server)  # a new phone: no worker, nothing kept
    expect(page.get_by_text("离线可用")).to_be_visible(timeout=15_000)

    page.context.set_offline(True)
    served.seen.clear()
    for name in BRANCHES:  # every assigned branch's form, from the home page, in this same tab
        card = page.locator(".branch-card", has_text=name)
        card.get_by_role("link", name="记走访").click()
        expect(page.get_by_role("heading", name="记走访")).to_contain_text(name)
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的党组织").click()
        expect(page.get_by_role("heading", name="我联系指导的党组织")).to_be_visible()
    for number, name in enumerate(BRANCHES[:2], 1):  # two visits saved with no network
        page.locator(".branch-card", has_text=name).get_by_role("link", name="记走访").click()
        page.get_by_label("做了什么").fill(f"第一天离线记下的走访 {number}")
        page.get_by_role("button", name="保存走访").click()
        expect(page.get_by_text(f"待同步 {number}")).to_be_visible()
    expect(page.get_by_text(f"记走访 · {BRANCHES[0]} ·")).to_be_visible()  # told apart
    page.goto(f"{live_server}/")  # the header's address redirects online; offline it is home
    expect(page.get_by_role("heading", name="我联系指导的党组织")).to_be_visible()
    page.reload()
    expect(page.get_by_text("待同步 2")).to_be_visible()
    for branch_id in ids["branches"]:
        page.goto(f"{live_server}/branches/{branch_id}")
        expect(
            page.get_by_role("heading", name=BRANCHES[ids["branches"].index(branch_id)])
        ).to_be_visible()
    page.goto(f"{live_server}/problems/")
    expect(page.get_by_text("急需电工 5 名")).to_be_visible()
    for problem_id in ids["problems"]:
        page.goto(f"{live_server}/problems/{problem_id}")
        expect(page.locator("h1")).not_to_contain_text("当前没有网络")
    assert served.seen == []  # every page above came from the phone
    with app.app_context():
        assert db.session.scalars(sa.select(Visit)).all() == []

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("待同步")).to_be_hidden(timeout=15_000)
    page.reload()
    page.wait_for_timeout(500)
    with app.app_context():
        summaries = sorted(db.session.scalars(sa.select(Visit.summary)))
    assert summaries == ["第一天离线记下的走访 1", "第一天离线记下的走访 2"]  # each once


def test_a_branch_handed_over_is_dropped_and_a_new_one_kept(app, live_server, page: Page):
    ids = first_day(app)
    sign_in(page, live_server)
    expect(page.get_by_text("离线可用")).to_be_visible(timeout=15_000)
    with app.app_context():
        from crm.assignments.models import Assignment

        me = db.session.scalar(
            sa.select(Assignment).where(Assignment.branch_id == ids["branches"][0])
        ).instructor
        held = db.session.scalar(
            sa.select(Assignment).where(Assignment.branch_id == ids["branches"][2])
        )
        held.ended_on, held.end_reason = clock.today(), "调整"
        new = f.AssignmentFactory(instructor=me, branch__name="新分配的党支部").branch_id
        db.session.commit()
    page.reload()  # the next page opened online brings the set up to date
    expect(page.get_by_text("离线可用")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(300)

    page.context.set_offline(True)
    page.goto(f"{live_server}/branches/{new}/visits/new")
    expect(page.get_by_role("heading", name="记走访")).to_contain_text("新分配的党支部")
    page.goto(f"{live_server}/branches/{ids['branches'][2]}")
    expect(page.get_by_text("这个页面没有存在手机上")).to_be_visible()


def test_nothing_moves_under_the_thumb_as_offline_gets_ready(app, live_server, served, page: Page):
    """The line that says how offline stands fills in a second after sign-in; the links below
    it stay where they were, so a tap made as it fills lands on what was aimed at."""
    first_day(app)
    sign_in(page, live_server)
    link = page.get_by_role("link", name="记走访").first
    before = link.bounding_box()
    expect(page.get_by_text("离线可用")).to_be_visible(timeout=15_000)
    assert link.bounding_box() == before
