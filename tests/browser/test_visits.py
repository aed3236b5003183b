"""Logging a visit on a phone in chromium: online, and with the network gone."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.meetings.models import Meeting
from crm.problems.models import Problem
from crm.visits.models import Visit
from tests import factories as f
from tests.conftest import PASSWORD


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("zdy001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我联系指导的党组织")).to_be_visible()
    # The stylesheet applied too: a test that measures the page (a gap, a position) would
    # otherwise read the unstyled page on a busy machine, every control touching the next.
    page.wait_for_load_state("load")


def open_visit_form_through_the_worker(page: Page) -> None:
    """Once the service worker controls the page, open the visit form through it (so it keeps
    the form for offline use)."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.get_by_role("link", name="记走访").click()
    expect(page.get_by_role("heading", name="记走访")).to_be_visible()


def rows(app, model) -> list:
    with app.app_context():
        return db.session.execute(sa.select(model)).scalars().all()


def setup_branch(app) -> int:
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        return f.AssignmentFactory(instructor=me, branch__name="赣州华兴电子党支部").branch_id


def test_logging_a_visit_with_a_problem_and_a_photo(app, live_server, page: Page, tmp_path):
    branch_id = setup_branch(app)
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(f.image_bytes("JPEG", (800, 600)))
    sign_in(page, live_server)

    page.get_by_role("link", name="记走访").click()
    expect(page.get_by_role("heading", name="记走访")).to_be_visible()
    page.get_by_label("做了什么").fill("指导支部召开组织生活会，了解企业用工需求。")
    page.get_by_label("人员清").check()
    page.locator("[name='problems-0-description']").fill("急需电工 5 名")
    page.get_by_role("button", name="再加一个问题").click()
    page.locator("[name='problems-1-description']").fill("希望了解技改补贴")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="保存走访").click()

    expect(page.get_by_text("走访已记录")).to_be_visible()
    expect(page.get_by_role("img", name="走访照片 1")).to_be_visible()
    visits = rows(app, Visit)
    assert [(v.branch_id, v.clarified_people) for v in visits] == [(branch_id, True)]
    assert sorted(p.description for p in rows(app, Problem)) == [
        "希望了解技改补贴",
        "急需电工 5 名",
    ]
    with app.app_context():
        assert len(db.session.get(Visit, visits[0].id).photos) == 1


def test_a_visit_saved_offline_is_synced_once_when_back_online(
    app, live_server, page: Page, tmp_path
):
    setup_branch(app)
    photo = tmp_path / "offline.png"
    photo.write_bytes(f.image_bytes("PNG", (300, 200)))
    sign_in(page, live_server)
    open_visit_form_through_the_worker(page)

    page.context.set_offline(True)
    page.get_by_label("做了什么").fill("离线记录：厂区没有信号，先存在手机上。")
    page.locator("[name='problems-0-description']").fill("宿舍用电安全隐患")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("待同步 1")).to_be_visible()  # home, served by the worker offline
    assert rows(app, Visit) == []

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("待同步")).to_be_hidden(timeout=10_000)
    page.reload()  # another chance to send it twice
    page.wait_for_timeout(500)
    visits = rows(app, Visit)
    assert [v.summary for v in visits] == ["离线记录：厂区没有信号，先存在手机上。"]
    assert [p.description for p in rows(app, Problem)] == ["宿舍用电安全隐患"]
    with app.app_context():
        assert len(db.session.get(Visit, visits[0].id).photos) == 1


def test_a_visit_refused_during_sync_is_shown_and_kept(app, live_server, page: Page):
    setup_branch(app)
    sign_in(page, live_server)
    open_visit_form_through_the_worker(page)

    page.context.set_offline(True)
    page.get_by_label("做了什么").fill("手机时钟错了一天")
    page.locator("[name=visited_at]").fill("2099-01-01T09:00")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("待同步 1")).to_be_visible()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("走访时间不能晚于现在")).to_be_visible(timeout=10_000)
    page.reload()
    expect(page.get_by_text("待同步 1")).to_be_visible()  # kept, never dropped
    expect(page.get_by_role("button", name="放弃这条")).to_be_visible()
    assert rows(app, Visit) == []


@pytest.mark.slow
def test_a_visit_waits_for_the_instructor_who_made_it(app, live_server, page: Page):
    setup_branch(app)
    with app.app_context():
        f.AssignmentFactory(instructor__account__username="zdy002")
    sign_in(page, live_server)
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.get_by_role("link", name="记走访").click()
    page.context.set_offline(True)
    page.get_by_label("做了什么").fill("张伟离线记下的走访")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("待同步 1")).to_be_visible()
    page.route("**/visits/new", lambda route: route.abort())  # still no way through for posts
    page.context.set_offline(False)

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="退出").click()
    page.get_by_label("用户名").fill("zdy002")
    assert "还有 1 条记录没有同步" in asked[0]
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("另有 1 条是其他账号")).to_be_visible()
    page.wait_for_timeout(500)
    page.unroute("**/visits/new")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    assert rows(app, Visit) == []  # not sent under zdy002's session

    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible()
    sign_in(page, live_server)
    # The outbox sends once the page has read it: wait for the visit rather than for the badge,
    # which is not drawn yet when the page has just loaded.
    for _ in range(50):
        if rows(app, Visit):
            break
        page.wait_for_timeout(200)
    assert [v.summary for v in rows(app, Visit)] == ["张伟离线记下的走访"]
    expect(page.get_by_text("待同步")).to_be_hidden(timeout=10_000)


def test_recording_a_dialogue_meeting_on_a_phone(app, live_server, page: Page):
    branch_id = setup_branch(app)
    with app.app_context():
        branch = db.session.get(f.Branch, branch_id)
        f.MemberFactory(branch=branch, name="钟华", role=f.MemberRole.SECRETARY)
        f.MemberFactory(branch=branch, name="李明")
    sign_in(page, live_server)
    page.get_by_role("link", name="赣州华兴电子党支部").click()
    page.get_by_role("link", name="记三会").first.click()
    expect(page.get_by_role("heading", name="记三会")).to_be_visible()
    page.get_by_label("会议类别").select_option(label="党员和职工（代表）民主恳谈会")
    page.get_by_label("钟华（书记）").check()
    page.get_by_label("李明（党员）").check()
    page.get_by_label("其他参会人员").fill("业主刘强、职工代表 3 人")
    page.get_by_label("议题").fill("夏季高温作业安排")
    page.get_by_label("结果").fill("调整作息，增发防暑物资")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_role("heading", name="民主恳谈会")).to_be_visible()
    with app.app_context():
        meeting = db.session.execute(sa.select(Meeting)).scalar_one()
        assert (meeting.kind.value, sorted(m.name for m in meeting.attendees)) == (
            "dialogue",
            ["李明", "钟华"],
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_visit_waits_while_the_server_answers_503_then_is_sent_once(app, live_server,
                                                                       page: Page):  # fmt: skip
    """The database is down: the server answers 503 (as tests/core/test_app.py shows it does);
    the phone keeps the visit, then sends it once the server is back."""
    setup_branch(app)
    sign_in(page, live_server)
    open_visit_form_through_the_worker(page)

    def unavailable(route):
        if route.request.method == "POST":
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": "系统暂时无法访问，请稍后再试。"}')  # fmt: skip
        else:
            route.continue_()

    page.context.route("**/visits/new", unavailable)
    page.get_by_label("做了什么").fill("服务器维护时记下的走访")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("待同步 1")).to_be_visible()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a try while still down
    page.wait_for_timeout(500)
    expect(page.get_by_text("待同步 1")).to_be_visible()  # kept, with no error on it
    assert rows(app, Visit) == []

    page.context.unroute("**/visits/new", unavailable)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("待同步")).to_be_hidden(timeout=10_000)
    page.reload()
    page.wait_for_timeout(500)
    assert [v.summary for v in rows(app, Visit)] == ["服务器维护时记下的走访"]
