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
    # The same fact on one page twice: the tile's count is the rows marked overdue.
    tile = re.search(r"<span>超期未走访</span><strong>(\d+)</strong>", page).group(1)
    assert int(tile) == sum("超期" in mark for mark in marks.values()) == 2
    alerts = client.get("/review/alerts?rule=overdue_visits").text  # and on the alerts page
    assert (
        re.search(r'超期未走访的党组织 <span class="count">(\d+)</span>', alerts).group(1) == tile
    )
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


def test_a_follow_up_note_keeps_the_reviewer_where_they_were_and_shows_on_both_pages(
    app, client, auth
):
    """Issue 19.3: after 记录 the list jumped back to page 1, and the note was seen nowhere
    but on its alert row."""
    today = clock.today()
    with app.app_context():
        app.config["PAGE_SIZE"] = 2
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        me = f.InstructorFactory()
        held = [f.AssignmentFactory(instructor=me, branch__name=f"{n}号党支部",
                                    started_on=today - timedelta(400)) for n in range(1, 4)]  # fmt: skip
        db.session.commit()
        first, last, instructor = held[0].branch_id, held[-1].branch_id, me.id
    auth.login("reviewer")
    where = "/review/alerts?rule=overdue_visits&page=2"
    assert f'id="alert-{last}"' in client.get(where).text  # the third branch is on page 2
    answer = client.post("/review/alerts/notes", data={
        "rule": "overdue_visits", "object_id": last, "note": "已电话督促，本周内走访",
        "back": f"{where}#alert-{last}"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{where}#alert-{last}"
    for page in (f"/branches/{last}", f"/instructors/{instructor}"):
        text = client.get(page).text
        assert "督办记录" in text
        assert "已电话督促，本周内走访" in text, page
    assert "已电话督促" not in client.get(f"/branches/{first}").text

    elsewhere = client.post("/review/alerts/notes", data={
        "rule": "overdue_visits", "object_id": last, "note": "再次督促",
        "back": "https://example.invalid/review/alerts"})  # fmt: skip
    assert elsewhere.headers["Location"] == "/review/alerts?rule=overdue_visits"
