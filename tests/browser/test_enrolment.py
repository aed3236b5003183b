"""The second factor's enrolment as the browser shows it (issue 19.1): the QR code is drawn,
not only its alt text, and what a phone's camera reads from it is the enrolment address the
page's key belongs to."""

import io
import re
from urllib.parse import parse_qs, urlparse

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from crm.accounts.models import Role
from tests import factories as f
from tests.conftest import PASSWORD


def test_the_enrolment_qr_code_is_drawn_and_reads_as_the_key(app, live_server, page: Page):
    app.config["TOTP_REQUIRED_ROLES"] = ("admin",)
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="绑定动态口令")).to_be_visible()

    image = page.get_by_alt_text("动态口令二维码")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    box = image.bounding_box()
    assert box["width"] >= 150
    assert box["height"] >= 150
    drawn = Image.open(io.BytesIO(image.screenshot()))
    [code] = zxingcpp.read_barcodes(drawn)
    assert code.format == zxingcpp.BarcodeFormat.QRCode

    shown = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", shown)  # in groups of four
    address = urlparse(code.text)
    assert (address.scheme, address.netloc) == ("otpauth", "totp")
    assert "admin" in address.path
    assert parse_qs(address.query)["secret"] == [shown.replace(" ", "")]
