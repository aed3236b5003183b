"""Long lists are paged, with page numbers and a page size (issue 19.7: the spot-check list was
230 rows on one page), and acting on a row keeps the reviewer on its page."""

import re

from crm.accounts.models import Role
from crm.extensions import db
from tests import factories as f


def rows(page: str) -> list[str]:
    return re.findall(r"/review/visits/(\d+)\">审阅", page)


def test_the_spot_check_list_is_paged_and_sized(app, client, auth):
    with app.app_context():
        app.config["PAGE_SIZE"] = 10
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        checks = [f.SpotCheckFactory() for _ in range(25)]
        db.session.commit()
        quarter = checks[0].quarter
    auth.login("reviewer")
    first = client.get(f"/review/checks?quarter={quarter}").text
    assert len(rows(first)) == 10
    year, number = int(quarter[:4]), int(quarter[-1])
    assert f"{year} 年第{'一二三四'[number - 1]}季度" in first  # not 2026Q4
    assert f">{quarter}<" not in first
    assert client.get("/review/checks?quarter=2026Q9").status_code == 200  # the current one
    assert "第 1 / 3 页，共 25 条" in first
    assert 'aria-label="第 3 页"' in first
    assert re.search(r"每页\s*<a[^>]*>20</a>\s*<a[^>]*>50</a>\s*<a[^>]*>100</a>", first)
    third = client.get(f"/review/checks?quarter={quarter}&page=3").text
    assert len(rows(third)) == 5
    assert len(rows(client.get(f"/review/checks?quarter={quarter}&per_page=20").text)) == 20
    all_shown = set()
    for n in (1, 2, 3):
        all_shown |= set(rows(client.get(f"/review/checks?quarter={quarter}&page={n}").text))
    assert len(all_shown) == 25  # every check on exactly one page

    second = client.get(f"/review/checks?quarter={quarter}&page=2").text
    check_id = re.search(r'action="/review/checks/(\d+)"', second).group(1)
    back = f"/review/checks?quarter={quarter}&page=2"
    answer = client.post(f"/review/checks/{check_id}",
                         data={"outcome": "confirmed", "note": "", "back": back})  # fmt: skip
    assert answer.headers["Location"] == back
