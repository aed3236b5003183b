from playwright.sync_api import Page, expect

from tests import factories as f
from tests.conftest import PASSWORD


def test_an_instructor_signs_in_on_a_phone_and_sees_their_branches(app, live_server, page: Page):
    with app.app_context():
        instructor = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        mine = [f.AssignmentFactory(instructor=instructor).branch.name for _ in range(3)]
        theirs = f.AssignmentFactory().branch.name

    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=/")
    page.get_by_label("用户名").fill("zdy001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="我联系指导的党组织")).to_be_visible()
    for name in mine:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_text(theirs)).to_have_count(0)
    # Made for 390 px: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name=mine[0]).click()
    expect(page.get_by_role("heading", name=mine[0])).to_be_visible()
