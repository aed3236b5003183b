"""Every page an instructor opens on a phone: thumb-sized targets, no sideways scrolling even at
200 % text, sign-out apart from the rest, and no serious accessibility fault (axe-core)."""

import json

import pytest
from playwright.sync_api import Page, expect

from tests import factories as f
from tests.browser.conftest import AXE
from tests.browser.phone_pages import busy_instructor
from tests.browser.test_visits import sign_in

MIN_TARGET = 44  # CSS px, each way (WCAG 2.5.5; the issue's rule)

# What a finger can hit: each control, a checkbox or radio by its label (the whole row).
TARGETS = """(min) => {
  const small = [];
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
    if (el.type === 'hidden' || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    let target = el;
    if (el.type === 'checkbox' || el.type === 'radio') target = el.closest('label') || document.querySelector(`label[for="${el.id}"]`) || el;
    const box = target.getBoundingClientRect();
    if (box.width < min - 0.5 || box.height < min - 0.5)
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 20)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  return small;
}"""


def test_sign_out_stands_apart_from_every_other_control(app, live_server, page: Page):
    busy_instructor(app)
    sign_in(page, live_server)
    gap = page.evaluate("""() => {
      const out = document.querySelector('[data-signout] button').getBoundingClientRect();
      let nearest = Infinity;
      for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select')) {
        if (el.closest('[data-signout]') || !el.getClientRects().length) continue;
        const b = el.getBoundingClientRect();
        const dx = Math.max(b.left - out.right, out.left - b.right, 0);
        const dy = Math.max(b.top - out.bottom, out.top - b.bottom, 0);
        nearest = Math.min(nearest, Math.hypot(dx, dy));
      }
      return nearest;
    }""")
    assert gap >= 8


CUT_TABLES = """() => [...document.querySelectorAll('table')]
  .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.querySelector('caption')?.innerText || '?')"""


def faults_of_this_page(page: Page) -> dict[str, object]:
    """What is wrong with the page as it stands, at the phone's own text size and at 200 %."""
    found = {
        "targets smaller than 44 px": page.evaluate(TARGETS, MIN_TARGET),
        "tables cut off at 390 px": page.evaluate(CUT_TABLES),
        "serious accessibility faults": axe_violations(page),
    }
    page.evaluate("document.documentElement.style.fontSize = '32px'")  # 适老化: 200 % text
    width = page.evaluate("document.documentElement.scrollWidth")
    page.evaluate("document.documentElement.style.fontSize = ''")
    found["wider than 390 px at 200 % text"] = [width] if width > 390 else []
    return {fault: where for fault, where in found.items() if where}


@pytest.mark.slow
def test_every_phone_page_is_thumb_sized_in_sight_at_any_text_size_and_accessible(
    app, live_server, page: Page, axe_present
):
    """One walk of every page an instructor opens, each checked four ways: every target at
    least 44 px each way, every table's columns in sight at 390 px, nothing wider than 390 px
    at 200 % text, and no serious or critical axe-core fault."""
    paths = busy_instructor(app)
    page.goto(f"{live_server}/login")
    faults = {"/login": faults_of_this_page(page)}
    sign_in(page, live_server)
    for path in paths:
        page.goto(live_server + path)
        faults[path] = faults_of_this_page(page)
    assert {path: found for path, found in faults.items() if found} == {}, json.dumps(
        faults, ensure_ascii=False
    )


def axe_violations(page: Page) -> list[str]:
    """Serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
    }""")
    return result


def test_a_refused_form_is_accessible_too(app, live_server, page: Page, axe_present):
    paths = busy_instructor(app)
    sign_in(page, live_server)
    page.goto(live_server + paths[2])
    page.get_by_role("button", name="保存走访").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert axe_violations(page) == []


def test_the_secretarys_page_works_on_a_phone_without_an_account(
    app, live_server, page: Page, axe_present
):
    """The first minute of a secretary who opens the link: no account, 390 px, a thumb."""
    from crm.cards import services as cards
    from crm.extensions import db
    from crm.members.services import secretary_of

    branch_id = int(busy_instructor(app)[1].rsplit("/", 1)[1])
    with app.app_context():
        issuer = f.AccountFactory()
        token, _ = cards.issue_link(secretary_of(branch_id).branch, by=issuer)
        db.session.commit()
    page.goto(f"{live_server}/confirm/{token}")
    expect(page.get_by_role("heading", name="确认先锋储绩")).to_be_visible()
    assert page.evaluate(TARGETS, MIN_TARGET) == []
    assert axe_violations(page) == []
    page.evaluate("document.documentElement.style.fontSize = '32px'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.get_by_role("button", name="确认所选记录").click()
    expect(page.get_by_role("heading", name="已确认 1 条储绩记录")).to_be_visible()


def test_a_secretary_rates_the_instructor_on_a_phone(app, live_server, page: Page, axe_present):
    """The secretary's rating link: no account, 390 px, thumb-sized choices, 200 % text, and
    the one submission it allows."""
    from datetime import date, timedelta

    from crm import clock
    from crm.assessment import ratings, services
    from crm.extensions import db

    year = clock.today().year - 1
    with app.app_context():
        admin = f.AccountFactory()
        f.AssignmentFactory(branch__name="赣南脐橙合作社党支部", started_on=date(year, 1, 1),
                            instructor__account__name="林指导")  # fmt: skip
        scheme = services.scheme_for(year)
        scheme.rating_from, scheme.rating_until = clock.today(), clock.today() + timedelta(days=9)
        scheme.locked_at = clock.now()
        db.session.add(scheme)
        (issued,) = ratings.issue(year, ratings.pairs(year), by=admin)
        token = issued.token
        db.session.commit()
    page.goto(f"{live_server}/assessment/rate/{token}")
    expect(page.get_by_role("heading", name=f"{year}年度党建指导员评议")).to_be_visible()
    expect(page.get_by_text("请对专职党建指导员林指导")).to_be_visible()
    assert page.evaluate(TARGETS, MIN_TARGET) == []
    assert axe_violations(page) == []
    page.evaluate("document.documentElement.style.fontSize = '32px'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.get_by_role("button", name="提交评议").click()  # nothing chosen: refused, focused
    expect(page.locator("[data-error-summary]")).to_be_focused()
    page.get_by_label("基本满意").check()
    page.get_by_label("意见和建议（选填）").fill("希望多来几次")
    page.get_by_role("button", name="提交评议").click()
    expect(page.get_by_role("heading", name="评议已提交")).to_be_visible()
    page.goto(f"{live_server}/assessment/rate/{token}")  # opened again: used
    expect(page.get_by_role("heading", name="链接不能使用")).to_be_visible()
    expect(page.get_by_text("每个链接只能使用一次")).to_be_visible()
