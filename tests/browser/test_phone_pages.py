"""Every page an instructor opens on a phone: thumb-sized targets, no sideways scrolling even at
200 % text, sign-out apart from the rest, and no serious accessibility fault (axe-core)."""

import json

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


def test_every_target_on_every_phone_page_is_thumb_sized(app, live_server, page: Page):
    paths = busy_instructor(app)
    page.goto(f"{live_server}/login")
    small = {"/login": page.evaluate(TARGETS, MIN_TARGET)}
    sign_in(page, live_server)
    for path in paths:
        page.goto(live_server + path)
        small[path] = page.evaluate(TARGETS, MIN_TARGET)
    assert {path: found for path, found in small.items() if found} == {}


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


def test_no_table_on_a_phone_page_is_cut_off_at_390px(app, live_server, page: Page):
    """At the phone's own text size every column is in sight: nothing to scroll sideways to."""
    paths = busy_instructor(app)
    sign_in(page, live_server)
    cut = {}
    for path in paths:
        page.goto(live_server + path)
        tables = page.evaluate("""() => [...document.querySelectorAll('table')]
          .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.querySelector('caption')?.innerText || '?')""")
        if tables:
            cut[path] = tables
    assert cut == {}


def test_every_phone_page_fits_390px_at_twice_the_text_size(app, live_server, page: Page):
    paths = busy_instructor(app)
    sign_in(page, live_server)
    wide = {}
    for path in ["/login", *paths]:
        page.goto(live_server + path)
        page.evaluate("document.documentElement.style.fontSize = '32px'")  # 适老化: 200 % text
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}


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


def test_no_serious_accessibility_fault_on_a_phone_page(app, live_server, page: Page, axe_present):
    paths = busy_instructor(app)
    page.goto(f"{live_server}/login")
    found = {"/login": axe_violations(page)}
    sign_in(page, live_server)
    for path in paths:
        page.goto(live_server + path)
        found[path] = axe_violations(page)
    assert {path: v for path, v in found.items() if v} == {}, json.dumps(found, ensure_ascii=False)


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
