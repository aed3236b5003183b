"""The reviewer's afternoon at 1366×768, clicks counted (issue 19): from the overview, each task
in at most 5 clicks — find the instructor with the most overdue branches, open the most overdue
branch, record a follow-up note and be left where one was, send a sampled visit back."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.visits.models import VisitKind
from tests import factories as f
from tests.conftest import PASSWORD

MOST = 5  # clicks a task may take, from the overview


@pytest.fixture
def browser_context_args():
    return {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}


class Clicks:
    """Clicks as the reviewer makes them, counted from the last `start()`."""

    def __init__(self, page: Page, home: str):
        self.page, self.home, self.count = page, home, 0

    def start(self) -> None:
        self.page.goto(self.home)
        expect(self.page.get_by_role("heading", name="工作概览")).to_be_visible()
        self.count = 0

    def click(self, locator) -> None:
        locator.click()
        self.count += 1


def journey_world(app) -> dict:
    today = clock.today()
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        busy = f.InstructorFactory(account__name="陈忙")
        calm = f.InstructorFactory(account__name="林闲")
        long_ago = today - timedelta(days=400)
        worst = f.AssignmentFactory(instructor=busy, branch__name="远山机械党支部",
                                    started_on=long_ago).branch  # fmt: skip
        f.VisitFactory(instructor=busy, branch=worst, visited_at=clock.now() - timedelta(days=302))
        other = f.AssignmentFactory(instructor=busy, branch__name="近水商贸党支部",
                                    started_on=long_ago).branch  # fmt: skip
        f.VisitFactory(instructor=busy, branch=other, visited_at=clock.now() - timedelta(days=45))
        calm_branch = f.AssignmentFactory(instructor=calm, branch__name="林木党支部",
                                          started_on=long_ago).branch  # fmt: skip
        f.VisitFactory(
            instructor=calm, branch=calm_branch, visited_at=clock.now() - timedelta(days=40)
        )
        sampled = f.VisitFactory(instructor=calm, branch=calm_branch, summary="走访了。",
                                 visited_at=clock.now() - timedelta(days=5))  # fmt: skip
        f.SpotCheckFactory(visit=sampled)
        db.session.commit()
        return {"worst": worst.id, "busy": busy.id}


@pytest.mark.slow
def test_each_reviewer_task_takes_at_most_five_clicks(app, live_server, page: Page):
    made = journey_world(app)
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    clicks = Clicks(page, f"{live_server}/review/")
    counted = {}

    # 1. The instructor with the most overdue branches: the caseloads sorted by overdue.
    clicks.start()
    clicks.click(page.get_by_role("navigation", name="主导航").get_by_role("link", name="指导员"))
    clicks.click(page.get_by_role("link", name="超期未走访"))
    expect(page.locator("tbody tr").first).to_contain_text("陈忙")
    clicks.click(page.locator("tbody tr").first.get_by_role("link", name="陈忙"))
    expect(page.get_by_role("heading", name="陈忙")).to_be_visible()
    counted["find the instructor with the most overdue branches"] = clicks.count

    # 2. The most overdue branch: first on the instructor's page, marked with its days.
    first_row = page.locator("table").first.locator("tbody tr").first
    expect(first_row).to_contain_text("远山机械党支部")
    expect(first_row).to_contain_text(f"超期 {302 - app.config['VISIT_CADENCE_DAYS']} 天")
    clicks.click(first_row.get_by_role("link", name="远山机械党支部"))
    expect(page.get_by_role("heading", name="远山机械党支部")).to_be_visible()
    counted["open the most overdue branch"] = clicks.count

    # 3. A follow-up note on it, from the alerts; the reviewer stays on the row.
    clicks.start()
    clicks.click(page.get_by_role("navigation", name="主导航").get_by_role("link", name="预警"))
    row = page.locator(f"#alert-{made['worst']}")
    expect(row).to_contain_text("陈忙")
    row.get_by_label("处理情况").fill("已电话督促，本周内走访")
    clicks.click(row.get_by_role("button", name="记录"))
    expect(page.locator(f"#alert-{made['worst']}")).to_contain_text("已电话督促，本周内走访")
    assert f"#alert-{made['worst']}" in page.url
    counted["record a follow-up note"] = clicks.count
    page.goto(f"{live_server}/branches/{made['worst']}")
    expect(page.get_by_text("已电话督促，本周内走访")).to_be_visible()  # on the branch page too

    # 4. Send a sampled visit back.
    clicks.start()
    clicks.click(page.get_by_role("navigation", name="主导航").get_by_role("link", name="抽查"))
    clicks.click(page.get_by_role("link", name="审阅 / 退回"))
    page.get_by_label("审阅意见").fill("请写清见到了谁、谈了什么。")
    page.get_by_label("处理").select_option("return")
    clicks.count += 1  # choosing 退回 in the list is a click
    clicks.click(page.get_by_role("button", name="提交"))
    expect(page.get_by_text("退回修改").first).to_be_visible()
    counted["send a sampled visit back"] = clicks.count

    print("clicks from the overview:", counted)
    assert counted == {task: n for task, n in counted.items() if n <= MOST}, counted
    assert len(counted) == 4


DESK_LISTS = (
    "/instructors/",
    "/branches/",
    "/problems/",
    "/review/checks",
    "/review/alerts?rule=overdue_visits",
    "/pairings/",
)
ROW_HEIGHTS = """() => [...document.querySelector('main table').querySelectorAll('tbody tr')]
  .map(row => row.getBoundingClientRect().height)"""
ONE_LINE = 44  # px: a row of one line of text and its padding (they were 60–65 px)


def test_desk_tables_keep_a_row_to_one_line(app, live_server, page: Page):
    """At 1366×768 a row of every long desk list is one line high, so a screen holds a page's
    worth of rows (issue 19.7)."""
    journey_world(app)
    with app.app_context():
        for n in range(30):
            held = f.AssignmentFactory(
                branch__name=f"赣州市章贡区某某电子科技有限公司党支部{n}",
                started_on=clock.today() - timedelta(days=400),
            )
            f.ProblemFactory(branch=held.branch, description="企业招工难，需要对接人社部门，" * 3)
            f.PairingFactory(branch=held.branch)
            call = f.VisitFactory(
                instructor=held.instructor, branch=held.branch, kind=VisitKind.REMOTE
            )
            f.SpotCheckFactory(visit=call)  # a phone call: the branch stays overdue
        db.session.commit()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    heights, lengths = {}, {}
    for url in DESK_LISTS:
        page.goto(f"{live_server}{url}")
        rows = page.evaluate(ROW_HEIGHTS)  # in one call: a round trip a row took 10 s
        assert len(rows) >= 10, url
        heights[url] = max(rows)
        lengths[url] = page.evaluate("document.documentElement.scrollHeight")
    print("tallest row, px:", heights, "page length, px:", lengths)
    assert {url: h for url, h in heights.items() if h > ONE_LINE} == {}
    # a page of rows, not the whole list: the spot checks were 14,770 px long on one page
    longest = app.config["PAGE_SIZE"] * ONE_LINE + 768  # a page of rows, and a screen for the rest
    assert {url: n for url, n in lengths.items() if n > longest} == {}
