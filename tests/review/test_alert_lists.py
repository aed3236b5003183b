"""The alert rows are searched and sorted as a reviewer works them (issue 19.2): the overdue
branches the most overdue first, with their instructor; by instructor or name on a click; by
a name typed in the box. Counted or stored (a scope over REVIEW_LIVE_LIMIT), the same rows.

The expected orders are worked out here from the dates the test writes: a branch's visit is
due the cadence after the later of the day its instructor took it and its last on-site visit.
"""

import re
from datetime import timedelta

import pytest

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.visits.models import VisitKind
from tests import factories as f

pytestmark = pytest.mark.postgresql  # sorted and searched text, NULLs in a sort

# branch name → (instructor, district, days since taken over, days since last on-site visit)
BRANCHES = {
    "甲公司党支部": ("刘军", "章贡区", 400, 302),
    "乙公司党支部": ("王芳", "南康区", 400, None),
    "丙商会党支部": ("刘军", "章贡区", 90, None),
    "丁百分百党支部": ("王芳", "南康区", 500, 45),
    "戊公司党支部": ("王芳", "南康区", 400, 3),  # visited lately: not overdue
}


def build(app) -> dict[str, int]:
    today = clock.today()
    ids = {}
    with app.app_context():
        people = {
            name: f.InstructorFactory(account__name=name, district=f.district(district))
            for name, district, *_ in BRANCHES.values()
        }
        for branch, (name, district, held, visited) in BRANCHES.items():
            held_by = f.AssignmentFactory(
                instructor=people[name],
                branch__name=branch,
                branch__district=f.district(district),
                started_on=today - timedelta(held),
            )
            if visited is not None:
                f.VisitFactory(instructor=people[name], branch=held_by.branch,
                               visited_at=clock.now() - timedelta(days=visited))  # fmt: skip
            # a phone call on the day does not stop a branch being overdue
            f.VisitFactory(instructor=people[name], branch=held_by.branch,
                           kind=VisitKind.REMOTE, visited_at=clock.now())  # fmt: skip
            ids[branch] = held_by.branch_id
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        db.session.commit()
    return ids


def days_overdue(app, branch: str) -> int:
    _, _, held, visited = BRANCHES[branch]
    since = min(held, visited if visited is not None else held)
    return since - app.config["VISIT_CADENCE_DAYS"]


def listed(client, query: str) -> list[str]:
    page = client.get(f"/review/alerts?rule=overdue_visits&{query}").text
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/branches/\d+">([^<]+)</a>', body)


@pytest.mark.parametrize("stored", [False, True], ids=["counted", "stored"])
def test_overdue_alerts_sort_by_days_overdue_instructor_and_name(app, client, auth, stored):
    build(app)
    auth.login("reviewer")
    app.config["REVIEW_LIVE_LIMIT"] = 0 if stored else 5000
    overdue = [b for b in BRANCHES if days_overdue(app, b) > 0]
    assert len(overdue) == 4

    most_first = sorted(overdue, key=lambda b: -days_overdue(app, b))
    assert listed(client, "") == most_first
    assert listed(client, "sort=due&order=desc") == most_first[::-1]
    by_instructor = listed(client, "sort=instructor")
    assert [BRANCHES[b][0] for b in by_instructor] == sorted(BRANCHES[b][0] for b in overdue)
    assert listed(client, "sort=name&order=desc") == sorted(overdue, reverse=True)

    page = client.get("/review/alerts?rule=overdue_visits").text
    for branch in overdue:
        row = page.split(f">{branch}</a>")[1].split("</tr>")[0]
        assert BRANCHES[branch][0] in row
        assert f"超期 {days_overdue(app, branch)} 天" in row


@pytest.mark.parametrize("stored", [False, True], ids=["counted", "stored"])
def test_overdue_alerts_search_by_branch_or_instructor(app, client, auth, stored):
    build(app)
    auth.login("reviewer")
    app.config["REVIEW_LIVE_LIMIT"] = 0 if stored else 5000
    overdue = {b for b in BRANCHES if days_overdue(app, b) > 0}

    assert set(listed(client, "q=王芳")) == {b for b in overdue if BRANCHES[b][0] == "王芳"}
    assert set(listed(client, "q=公司")) == {b for b in overdue if "公司" in b}
    page = client.get("/review/alerts?rule=overdue_visits&q=公司&sort=name").text
    found = len({b for b in overdue if "公司" in b})
    assert f"找到 {found} 条（共 {len(overdue)} 条）" in page
    # the tab still counts the whole rule; the sort is kept by the search form
    assert f'超期未走访的党组织 <span class="count">{len(overdue)}</span>' in page
    assert '<input type="hidden" name="sort" value="name">' in page
    # "%" and "_" are letters to search for, not wildcards; what matches nothing says so
    assert listed(client, "q=%25") == listed(client, "q=_") == []
    assert "没有符合条件的预警。" in client.get("/review/alerts?rule=overdue_visits&q=%25").text
    assert listed(client, "q=百分百") == ["丁百分百党支部"]


@pytest.mark.parametrize("stored", [False, True], ids=["counted", "stored"])
def test_the_other_rules_sort_and_search_their_own_columns(app, client, auth, stored):
    today = clock.today()
    app.config["REVIEW_LIVE_LIMIT"] = 0 if stored else 5000
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        held = f.AssignmentFactory(branch__name="甲公司党支部", instructor__account__name="刘军")
        other = f.AssignmentFactory(branch__name="乙公司党支部", instructor__account__name="王芳")
        due = {"甲": today - timedelta(days=5), "乙": today - timedelta(days=40)}
        for (key, days), branch in zip(due.items(), (held.branch, other.branch), strict=True):
            f.ProblemFactory(branch=branch, description=f"{key}的问题",
                             raised_on=days - timedelta(days=30), due_on=days)  # fmt: skip
        for days, assignment in ((3, held), (9, other)):
            f.VisitFactory(instructor=assignment.instructor, branch=assignment.branch,
                           backfilled=True, visited_at=clock.now() - timedelta(days=days))  # fmt: skip
        db.session.commit()
    auth.login("reviewer")

    def rows(query: str) -> list[str]:
        page = client.get(f"/review/alerts?{query}").text
        body = page.split("<tbody>")[1].split("</tbody>")[0]
        return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("</tr>")[:-1]]

    problems = rows("rule=overdue_problems")  # the longest past its due date first
    assert [row.split("：")[1][0] for row in problems] == sorted(due, key=due.get)
    assert "超期 40 天" in problems[0]
    by_branch = rows("rule=overdue_problems&sort=branch&order=desc")
    assert max(["甲公司党支部", "乙公司党支部"]) in by_branch[0]
    assert len(rows("rule=overdue_problems&q=甲的问题")) == 1

    visits = rows("rule=flagged_visits")  # the newest first
    assert ["甲公司党支部" in visits[0], "乙公司党支部" in visits[1]] == [True, True]
    assert "乙公司党支部" in rows("rule=flagged_visits&sort=visited&order=asc")[0]
    assert [("王芳" in row) for row in rows("rule=flagged_visits&q=王芳")] == [True]


@pytest.mark.parametrize("stored", [False, True], ids=["counted", "stored"])
def test_a_district_reviewer_searches_only_their_district(app, client, auth, stored):
    """A name typed in the box finds nothing outside the reviewer's district, though it
    matches there: 王芳's branches are in 南康区, the reviewer's in 章贡区."""
    build(app)
    with app.app_context():
        f.AccountFactory(username="zg", roles=[Role.REVIEWER], scope_district=f.district("章贡区"))
    auth.login("zg")
    app.config["REVIEW_LIVE_LIMIT"] = 0 if stored else 5000
    in_zg = {b for b in BRANCHES if days_overdue(app, b) > 0 and BRANCHES[b][1] == "章贡区"}
    assert set(listed(client, "")) == in_zg
    assert listed(client, "q=王芳") == []
    assert set(listed(client, "q=公司")) == {b for b in in_zg if "公司" in b}
    page = client.get("/review/alerts?rule=overdue_visits&q=王芳").text
    assert f"找到 0 条（共 {len(in_zg)} 条）" in page
