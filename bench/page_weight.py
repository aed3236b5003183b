"""What a phone downloads: the home page and the visit form, the offline set kept at sign-in,
and how soon each page shows on a slow link.

Budgets (issues 3 and 15):
- the home page and the visit form: at most 150 KiB each transferred (HTML, CSS, JS, gzip), of
  which at most 50 KiB JavaScript; Chinese in system fonts, no web font;
- what the service worker keeps at the first sign-in, for an instructor with 10 branches: at
  most 300 KiB gzip;
- after sign-in on a new phone, "离线可用" within seconds on the 1.6 Mbps link (every request, the
  service worker's too, through one simulated link: 150 ms each way to start, then its gzip size
  at 1.6 Mbps, one response at a time);
- largest contentful paint at most 2.5 s for each, at 1.6 Mbps down, 750 kbps up, 150 ms round
  trip and 4x CPU slowdown, HTTP cache off (Debian's chromium through Playwright; werkzeug serves
  uncompressed, so the figure is an upper bound for nginx with gzip).
Sizes are gzip level 6, as nginx (deploy/nginx.conf) sends them.
Run: .venv/bin/python bench/page_weight.py
"""

import gzip
import os
import re
import tempfile
import threading
import time
from pathlib import Path

from common import demo_database, use_project_path

use_project_path()

KIB = 1024
BUDGET_PAGE, BUDGET_JS, BUDGET_OFFLINE, BUDGET_LCP_MS = 150 * KIB, 50 * KIB, 300 * KIB, 2500
PASSWORD = "Ganzhou@2026"
SLOW_LINK = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
             "uploadThroughput": 750_000 / 8}  # fmt: skip
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def packed(body: bytes) -> int:
    return len(gzip.compress(body, 6))


def busiest_instructor() -> str:
    """The username of an instructor who holds 10 branches (the most the rules allow)."""
    from sqlalchemy import func, select

    from crm.accounts.models import Account
    from crm.assignments.models import Assignment
    from crm.extensions import db
    from crm.instructors.models import Instructor

    return db.session.execute(
        select(Account.username)
        .join(Instructor, Instructor.account_id == Account.id)
        .join(Assignment, Assignment.instructor_id == Instructor.id)
        .where(Assignment.ended_on.is_(None))
        .group_by(Account.username)
        .order_by(func.count().desc(), Account.username)
        .limit(1)
    ).scalar_one()


def sign_in(client, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})


def page_weights(client, urls: list[str]) -> list[str]:
    failures = []
    for url in urls:
        html = client.get(url).data
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode())
        files = [("HTML", html)] + [(asset, client.get(asset).data) for asset in assets]
        total = sum(packed(body) for _, body in files)
        js = sum(packed(body) for name, body in files if ".js" in name)
        fonts = [
            n for n, body in files if b"@font-face" in body or re.search(r"\.(woff2?|ttf|otf)", n)
        ]
        parts = ", ".join(f"{name.split('?')[0].rsplit('/', 1)[-1]} {len(body) / KIB:.1f} KiB "
                          f"(gz {packed(body) / KIB:.1f})" for name, body in files)  # fmt: skip
        print(f"{url}: {parts}; total gz {total / KIB:.1f} KiB, JS gz {js / KIB:.1f} KiB, "
              f"web fonts: {fonts or 'none'}")  # fmt: skip
        if total > BUDGET_PAGE or js > BUDGET_JS or fonts:
            failures.append(f"{url} over budget")
    return failures


def offline_set_weight(client) -> list[str]:
    wanted = client.get("/offline/pages.json").get_json()
    sizes = [
        packed(client.get(url, headers={"Accept": "text/html"}).data) for url in wanted["pages"]
    ]
    sizes += [packed(client.get(url).data) for url in wanted["assets"]]
    total = sum(sizes)
    print(
        f"offline set: {len(wanted['pages'])} pages + {len(wanted['assets'])} static files, "
        f"gz {total / KIB:.1f} KiB (budget 300), largest page gz {max(sizes) / KIB:.1f} KiB"
    )
    return ["offline set over budget"] if total > BUDGET_OFFLINE else []


def largest_paints(app, username: str, urls: list[str]) -> list[str]:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    failures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True, locale="zh-CN", device_scale_factor=3,
                                      service_workers="block")  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/branches/")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        for url in urls:
            page.goto(base + url, wait_until="load")
            lcp = page.evaluate("""() => new Promise(resolve => {
              new PerformanceObserver(list => { const e = list.getEntries(); resolve(e[e.length - 1].startTime); })
                .observe({ type: 'largest-contentful-paint', buffered: true });
              setTimeout(() => resolve(null), 5000);
            })""")
            print(f"{url}: largest contentful paint {lcp:.0f} ms (budget {BUDGET_LCP_MS})")
            if lcp is None or lcp > BUDGET_LCP_MS:
                failures.append(f"{url} LCP over budget")
        browser.close()
    server.shutdown()
    return failures


class SlowLink:
    """The app behind a shared 1.6 Mbps link with a 150 ms round trip, as nginx's gzip sends it."""

    def __init__(self, app):
        self.app, self.line = app, threading.Lock()

    def __call__(self, environ, start_response):
        body = b"".join(self.app(environ, start_response))
        time.sleep(SLOW_LINK["latency"] / 1000)
        with self.line:  # one response on the wire at a time
            time.sleep(packed(body) / SLOW_LINK["downloadThroughput"])
        return [body]


def offline_ready(app, username: str) -> list[str]:
    """Seconds from submitting the sign-in form to "离线可用" on a new phone, on the slow link."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, SlowLink(app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                   has_touch=True, locale="zh-CN").new_page()  # fmt: skip
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        started = time.perf_counter()
        page.click("button[type=submit]")
        page.get_by_text("离线可用").wait_for(timeout=60_000)
        seconds = time.perf_counter() - started
        browser.close()
    server.shutdown()
    print(f"sign-in to 离线可用 on the slow link: {seconds:.1f} s")
    return [] if seconds <= 10 else ["offline set slower than 10 s"]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(demo_database(Path(folder)))
        from crm import create_app

        app = create_app()
        with app.app_context():
            username = busiest_instructor()
        client = app.test_client()
        sign_in(client, username)
        home = client.get("/branches/").text
        form_url = re.search(r'href="(/branches/\d+/visits/new)"', home).group(1)
        print(f"instructor {username}, {home.count('branch-card')} branches")
        failures = page_weights(client, ["/branches/", form_url])
        failures += offline_set_weight(client)
        failures += offline_ready(app, username)
        failures += largest_paints(app, username, ["/branches/", form_url])
        if failures:
            raise SystemExit("; ".join(failures))


if __name__ == "__main__":
    main()
