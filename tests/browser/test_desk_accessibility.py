"""Every page a reviewer reads at a desk: no serious or critical fault axe-core can find."""

import json

import pytest
from playwright.sync_api import Page, expect

from crm import clock
from tests import factories as f
from tests.browser.phone_pages import busy_instructor
from tests.browser.test_phone_pages import axe_violations
from tests.conftest import PASSWORD


@pytest.fixture
def browser_context_args():
    return {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}


@pytest.mark.slow
def test_no_serious_accessibility_fault_on_a_reviewer_page(
    app, live_server, page: Page, axe_present
):
    phone = busy_instructor(app)
    with app.app_context():
        organization = f.OrganizationFactory().id
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作概览")).to_be_visible()
    visit = phone[3].rsplit("/", 1)[1]
    year = clock.today().year
    desk = [
        "/review/", "/review/alerts", "/review/checks", "/instructors/", "/instructors/1",
        "/branches/", "/organizations/", f"/organizations/{organization}", "/pairings/",
        f"/review/visits/{visit}", "/problems/?show=overdue", "/reports/",
        "/review/alerts?rule=overdue_visits", "/branches/?sort=members&order=desc",
        f"/assessment/{year}/", f"/assessment/{year}/grades", f"/assessment/{year}/scheme",
        f"/assessment/{year}/instructors/1",
    ]  # fmt: skip
    shared = [
        p for p in phone if not p.endswith("/new") and "/account/" not in p and "correct" not in p
    ]
    found = {}
    for path in desk + shared:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        found[path] = axe_violations(page)
    assert {path: v for path, v in found.items() if v} == {}, json.dumps(found, ensure_ascii=False)
