"""Overdue is marked where a reviewer looks (issue 19.2): the instructor's page and the branch's
page say which branches are overdue for an on-site visit and by how many days, the most
overdue first, counted here from the visit dates and the cadence."""

import re
from datetime import timedelta

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.visits.models import VisitKind
from tests import factories as f


def test_the_instructor_and_branch_pages_say_how_many_days_overdue(app, client, auth):
    today = clock.today()
    with app.app_context():
        cadence = app.config["VISIT_CADENCE_DAYS"]
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        late = f.AssignmentFactory(branch__name="甲公司党支部", started_on=today - timedelta(400))
        instructor = late.instructor
        kept = f.AssignmentFactory(instructor=instructor, branch__name="乙公司党支部",
                                   started_on=today - timedelta(400))  # fmt: skip
        never = f.AssignmentFactory(instructor=instructor, branch__name="丙公司党支部",
                                    started_on=today - timedelta(cadence + 5))  # fmt: skip
        f.VisitFactory(instructor=instructor, branch=late.branch,
                       visited_at=clock.now() - timedelta(days=302))  # fmt: skip
        # a phone call is no on-site visit: 甲 stays overdue
        f.VisitFactory(instructor=instructor, branch=late.branch, kind=VisitKind.REMOTE,
                       visited_at=clock.now() - timedelta(days=2))  # fmt: skip
        f.VisitFactory(instructor=instructor, branch=kept.branch,
                       visited_at=clock.now() - timedelta(days=10))  # fmt: skip
        ids = (instructor.id, late.branch_id, kept.branch_id, never.branch_id)
        db.session.commit()
    auth.login("reviewer")

    page = client.get(f"/instructors/{ids[0]}").text
    rows = re.findall(
        r"<tr>\s*<td><a href=\"/branches/(\d+)\">[^<]*</a></td>(.*?)</tr>", page, re.S
    )
    marks = {
        int(branch): " ".join(re.sub(r"<[^>]+>", " ", cells).split()) for branch, cells in rows
    }
    assert [int(branch) for branch, _ in rows] == [ids[1], ids[3], ids[2]]  # most overdue first
    assert f"超期 {302 - cadence} 天 上次实地走访 302 天前" in marks[ids[1]]
    assert "超期 5 天 从未实地走访" in marks[ids[3]]
    assert "超期" not in marks[ids[2]]
    assert f"{(today - timedelta(10) + timedelta(cadence)):%Y-%m-%d} 前" in marks[ids[2]]

    branch = client.get(f"/branches/{ids[1]}").text
    assert f"超期 {302 - cadence} 天" in branch
    assert "上次实地走访 302 天前" in branch
    assert "超期" not in client.get(f"/branches/{ids[2]}").text.split("实地走访")[1][:200]


def test_an_overdue_alert_row_names_the_instructor_and_the_days(app, client, auth):
    today = clock.today()
    with app.app_context():
        cadence = app.config["VISIT_CADENCE_DAYS"]
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        late = f.AssignmentFactory(
            instructor__account__name="刘军", started_on=today - timedelta(400)
        )
        f.VisitFactory(instructor=late.instructor, branch=late.branch,
                       visited_at=clock.now() - timedelta(days=120))  # fmt: skip
        db.session.commit()
    auth.login("reviewer")
    page = client.get("/review/alerts?rule=overdue_visits").text
    row = " ".join(re.sub(r"<[^>]+>", " ", page.split("<tbody>")[1].split("</tr>")[0]).split())
    assert "刘军" in row
    assert f"超期 {120 - cadence} 天" in row
    assert "上次实地走访 120 天前" in row
