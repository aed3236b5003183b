"""The columns a reviewer sorts by sort (issue 19.7): branches, problems, spot checks and
pairings, not only caseloads; the order is checked against the rows sorted here."""

import re
from datetime import timedelta

import pytest

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from tests import factories as f

pytestmark = pytest.mark.postgresql  # sorted text: the database's collation decides


def test_branches_sort_by_members_both_ways_and_the_header_says_so(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        made = {f"{n}号支部": members for n, members in enumerate((7, 31, 3, 12, 12), start=1)}
        for name, members in made.items():
            f.BranchFactory(name=name, member_count=members)
        db.session.commit()
    auth.login("admin")
    page = client.get("/branches/?sort=members&order=desc").text
    shown = re.findall(r'/branches/\d+">(\d号支部)</a>', page)
    assert [made[name] for name in shown] == sorted(made.values(), reverse=True)
    assert 'aria-sort="descending"' in page
    assert re.search(
        r'href="/branches/\?[^"]*sort=members[^"]*order=asc', page.replace("&amp;", "&")
    )
    up = re.findall(r'/branches/\d+">(\d号支部)</a>', client.get("/branches/?sort=members").text)
    assert [made[name] for name in up] == sorted(made.values())


def test_pairings_are_newest_first_unless_sorted_otherwise(app, client, auth):
    today = clock.today()
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        started = [today - timedelta(days=d) for d in (300, 10, 90)]
        for day in started:
            f.PairingFactory(started_on=day)
        db.session.commit()
    auth.login("admin")
    days = lambda page: re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", page)  # noqa: E731
    expected = [f"{d:%Y-%m-%d}" for d in sorted(started, reverse=True)]
    assert days(client.get("/pairings/").text) == expected
    assert days(client.get("/pairings/?sort=started&order=asc").text) == expected[::-1]


def test_problems_sort_by_the_day_they_were_raised(app, client, auth):
    today = clock.today()
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        raised = [today - timedelta(days=d) for d in (5, 40, 20)]
        for n, day in enumerate(raised):
            f.ProblemFactory(raised_on=day, due_on=today + timedelta(days=30 - n),
                             description=f"问题{n}")  # fmt: skip
        db.session.commit()
    auth.login("admin")
    page = client.get("/problems/?sort=raised").text
    rows = page.split("<tbody>")[1].split("</tr>")[:-1]
    shown = [re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", row)[0] for row in rows]
    assert shown == [f"{d:%Y-%m-%d}" for d in sorted(raised)]  # the first date is 登记
    assert "登记日期 ↑" in page


def test_spot_checks_sort_by_instructor(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        names = ["王五", "张三", "李四"]
        checks = [f.SpotCheckFactory(visit__instructor__account__name=name) for name in names]
        db.session.commit()
        quarter = checks[0].quarter
    auth.login("reviewer")
    page = client.get(f"/review/checks?quarter={quarter}&sort=instructor").text
    shown = [n for n in re.findall(r"<td>([^<]{2})</td>", page) if n in names]
    assert shown == sorted(names)
