"""A refused visit form on a phone: sent once, its messages on the first screen, nothing lost."""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.photos import services as photos
from crm.visits.models import Visit
from tests import factories as f
from tests.browser.test_visits import setup_branch, sign_in


def posts_of(page: Page) -> list[str]:
    sent = []
    page.on("request", lambda request: request.method == "POST" and sent.append(request.url))
    return sent


def test_a_refused_form_is_sent_once_and_says_what_is_wrong_first(
    app, live_server, page: Page, tmp_path
):
    setup_branch(app)
    not_a_photo = tmp_path / "现场.jpg"
    not_a_photo.write_bytes(b"%PDF-1.4 not an image" * 1000)
    sign_in(page, live_server)
    page.get_by_role("link", name="记走访").click()
    page.get_by_label("见到的人").fill("书记钟华")
    page.locator("input[type=file]").set_input_files(str(not_a_photo))
    sent = posts_of(page)
    page.get_by_role("button", name="保存走访").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("做了什么：请简要写下这次走访做了什么。")
    expect(summary).to_contain_text("“现场.jpg”不是 JPEG、PNG 或 WebP 图片。")
    assert len(sent) == 1  # the answer to that one sending holds the page
    expect(page.get_by_label("见到的人")).to_have_value("书记钟华")
    described = page.get_by_label("做了什么").get_attribute("aria-describedby")
    assert "请简要写下这次走访做了什么" in page.locator(f"#{described.split()[-1]}").inner_text()

    summary.get_by_role("link", name="做了什么：请简要写下这次走访做了什么。").click()
    expect(page.get_by_label("做了什么")).to_be_focused()
    with app.app_context():
        assert db.session.scalars(sa.select(Visit)).all() == []


def test_a_photo_of_a_refused_form_comes_back_small_and_is_stored_once(
    app, live_server, page: Page, tmp_path
):
    setup_branch(app)
    photo = tmp_path / "大照片.jpg"
    photo.write_bytes(f.noisy_jpeg((2400, 1800)))
    sign_in(page, live_server)
    page.get_by_role("link", name="记走访").click()
    page.locator("input[type=file]").set_input_files(str(photo))
    sent = posts_of(page)
    thumbs = []
    page.on("response", lambda r: "size=thumb" in r.url and thumbs.append(len(r.body())))
    page.get_by_role("button", name="保存走访").click()

    kept = page.get_by_role("img", name="已选照片 1")
    expect(kept).to_be_visible()
    page.wait_for_timeout(200)
    assert thumbs
    assert max(thumbs) <= 30_000  # the preview is a thumbnail, not the photo
    page.get_by_label("做了什么").fill("补上了走访内容")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("走访已记录")).to_be_visible()
    assert len(sent) == 2
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        assert len(visit.photos) == 1
        folder = photos.photo_folder()
        originals = [p for p in folder.iterdir() if not p.name.endswith(photos.THUMB_SUFFIX)]
        assert [p.name for p in originals] == [visit.photos[0].stored_name]  # uploaded once
