from datetime import date

import pytest
from playwright.sync_api import Page, expect

from crm import clock
from crm.accounts.models import Role
from tests import factories as f
from tests.conftest import PASSWORD


@pytest.fixture
def browser_context_args():
    """A reviewer's desktop, not a phone."""
    return {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


def test_a_reviewer_reads_the_overview_at_a_desk(app, live_server, page: Page):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        me = f.InstructorFactory(account__name="张伟")
        branch = f.AssignmentFactory(instructor=me, started_on=date(2024, 1, 1)).branch
        f.VisitFactory(instructor=me, branch=branch, visited_at=clock.now())
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作概览")).to_be_visible()
    expect(page.get_by_role("img", name="近 12 个月走访与解决问题")).to_be_visible()
    expect(
        page.locator("table.by-district").first.get_by_role("cell", name="章贡区")
    ).to_be_visible()
    page.get_by_role("link", name="预警").first.click()
    expect(page.get_by_role("heading", name="预警")).to_be_visible()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="指导员").click()
    page.get_by_label("搜索").fill("zw")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("link", name="张伟")).to_be_visible()


def test_the_report_picker_is_grouped_and_searched(app, live_server, page: Page):
    """Issue 19.7: the picker was one list of 136 reports. Grouped 全市 / 县市区 / 指导员, and
    typing a name leaves the reports that hold it, the first of them chosen."""
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        f.InstructorFactory(account__name="张伟")
        f.InstructorFactory(account__name="李娜")
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="月报").click()
    picker = page.get_by_label("报告", exact=True)
    groups = picker.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert groups == ["全市", "县市区", "指导员"]
    page.get_by_label("查找报告").fill("张伟")
    shown = picker.evaluate("s => [...s.options].filter(o => !o.hidden).map(o => o.text)")
    assert len(shown) == 1
    assert shown[0].startswith("张伟")
    assert picker.evaluate("s => s.selectedOptions[0].text").startswith("张伟")
    page.get_by_label("查找报告").fill("")
    assert picker.evaluate("s => [...s.options].filter(o => o.hidden).length") == 0
