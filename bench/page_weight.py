"""What the visit form's first load costs a phone: the page and everything it loads.

Budget (issue 3): at most 150 KiB transferred (HTML, CSS, JS, compressed), of which at most
50 KiB JavaScript; Chinese in system fonts, no web font. Sizes are given as served (this
app does not compress; the proxy of docs/deploy.md does) and gzipped at level 6.
Run: .venv/bin/python bench/page_weight.py
"""

import gzip
import os
import re
import tempfile
from pathlib import Path

from common import demo_database, use_project_path

use_project_path()

BUDGET_TOTAL, BUDGET_JS = 150 * 1024, 50 * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(demo_database(Path(folder)))
        from crm import create_app

        client = create_app().test_client()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": "zdy001", "password": "Ganzhou@2026",
                                    "csrf_token": token})  # fmt: skip
        home = client.get("/branches/").text
        form_url = re.search(r'href="(/branches/\d+/visits/new)"', home).group(1)
        html = client.get(form_url).data
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode())
        files = [("HTML " + form_url, html)] + [(url, client.get(url).data) for url in assets]
        rows = [(name, len(body), len(gzip.compress(body, 6))) for name, body in files]
        for name, raw, packed in rows:
            print(f"{name:40} {raw / 1024:7.1f} KiB  gzip {packed / 1024:6.1f} KiB")
        total = sum(packed for _, _, packed in rows)
        js = sum(packed for name, _, packed in rows if name.endswith(".js"))
        fonts = [n for n, body in files if n.endswith((".woff", ".woff2", ".ttf", ".otf"))
                 or b"@font-face" in body]  # fmt: skip
        print(f"total gzip {total / 1024:.1f} KiB (budget 150), JavaScript {js / 1024:.1f} KiB "
              f"(budget 50), web fonts: {fonts or 'none'}")  # fmt: skip
        if total > BUDGET_TOTAL or js > BUDGET_JS or fonts:
            raise SystemExit("over budget")


if __name__ == "__main__":
    main()
