"""The same fact reads the same everywhere, against the right baseline: who is in post, how a
month not over yet is compared, which way a change points, what a search finds, which day
"today" is."""

import io
from datetime import UTC, date, datetime, timedelta

import time_machine
from openpyxl import load_workbook

from crm import clock
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.extensions import db
from crm.transfer import tasks as transfer_tasks
from crm.visits.models import VisitKind
from tests import factories as f


def local(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, datetime.min.time(), clock.LOCAL_TIME) + timedelta(hours=hour)


def test_an_instructor_who_left_is_not_counted_in_post_anywhere(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        staying = f.InstructorFactory(account__name="留任")
        leaving = f.InstructorFactory(account__name="离任")
        branch = f.BranchFactory()
        assignments.assign(leaving, branch, on=date(2025, 1, 1))
        db.session.commit()
        ids = {"leaving": leaving.id, "staying": staying.id, "branch": branch.id}
    auth.login("reviewer")
    before = client.get("/instructors/").text
    assert "在岗共 2 人" in before
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.logout()
    auth.login("admin")
    handed = client.post(f"/instructors/{ids['leaving']}/handover", data={
        "on": clock.today().isoformat(), "reason": "离职", "mark_left": "y",
        "moves-0-branch_id": str(ids["branch"]), "moves-0-to": str(ids["staying"]),
    })  # fmt: skip
    assert handed.status_code == 303, handed.text
    page = client.get("/instructors/").text
    assert "在岗共 1 人" in page
    assert "离任" not in page  # not listed under 少于 5 either
    departed = client.get("/instructors/?flag=left").text
    assert "已离岗共 1 人" in departed
    assert "离任" in departed
    export = client.get("/transfer/export/instructors.xlsx")
    names = [row[0] for row in load_workbook(_bytes(export)).active.iter_rows(values_only=True)]
    assert "离任" not in names
    overview = client.get("/review/").text
    assert "<span>指导员</span><strong>1</strong>" in overview


def _bytes(response) -> io.BytesIO:
    return io.BytesIO(response.data)


def test_a_month_not_over_is_compared_with_the_same_days_and_changes_point_the_right_way(
    app, client, auth
):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        held = f.AssignmentFactory(started_on=date(2025, 1, 1))
        f.AssignmentFactory(instructor=held.instructor, started_on=date(2026, 10, 15))
        # November: visits on the 1st and 2nd and on ten later days; December: one so far.
        for day in [1, 2, *range(10, 20)]:
            f.VisitFactory(instructor=held.instructor, branch=held.branch,
                           visited_at=local(date(2026, 11, day)), kind=VisitKind.REMOTE)  # fmt: skip
        f.VisitFactory(instructor=held.instructor, branch=held.branch,
                       visited_at=local(date(2026, 12, 1)), kind=VisitKind.REMOTE)  # fmt: skip
    with time_machine.travel(local(date(2026, 12, 2), 15), tick=False):
        auth.login("reviewer")
        page = client.get("/review/").text
    assert "与2026 年 11 月 1—2 日" in page  # not the whole of November
    assert "本月尚未结束" in page
    # Visits 1 against 2 on the same days: down by one, and fewer visits is worse.
    assert '<small class="change worse" title="变差">▼ -1</small>' in page
    # Never visited on site: one branch overdue on 2 November, both on 2 December (the other
    # was taken on 15 October). More overdue is worse.
    assert '<small class="change worse" title="变差">▲ +1</small>' in page
    assert "12月（至2日）" in page  # the trend chart says its last month is partial


def test_searches_take_percent_and_underscore_literally(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.BranchFactory(name="100%满意党支部")
        f.BranchFactory(name="1000满意党支部")
        organization = f.OrganizationFactory(name="赣州_星光_科技有限公司")
        f.OrganizationFactory(name="赣州星光科技有限公司")
        held = f.AssignmentFactory(branch__name="_星光_联合党支部")
        f.AssignmentFactory(branch__name="星光联合党支部")
        assert organization.id
        assert held.id
    auth.login("admin")
    branches = client.get("/branches/?q=100%25").text
    assert "100%满意党支部" in branches
    assert "1000满意党支部" not in branches
    organizations = client.get("/organizations/?q=_星光_").text
    assert "赣州_星光_科技有限公司" in organizations
    assert "赣州星光科技有限公司" not in organizations
    held_page = client.get("/assignments/?q=_星光_").text
    assert "_星光_联合党支部" in held_page
    assert ">星光联合党支部" not in held_page


def test_the_caseload_export_finds_what_the_page_finds(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.InstructorFactory(account__name="张伟", account__username="zdy001")
        f.InstructorFactory(account__name="王磊", account__username="zdy002")
    auth.login("admin")
    for q in ("zw", "ZW", "张", "zdy001"):
        page = client.get(f"/instructors/?q={q}").text
        sheet = load_workbook(_bytes(client.get(f"/transfer/export/instructors.xlsx?q={q}"))).active
        exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert exported == ["张伟"], q
        assert "张伟" in page, q
        assert "王磊" not in page, q


def test_today_is_ganzhous_date_on_the_assignment_forms(app, client, auth, world):
    # 17:30 UTC on 1 December is 01:30 on 2 December in 赣州.
    with time_machine.travel(datetime(2026, 12, 1, 17, 30, tzinfo=UTC), tick=False):
        auth.login("admin")
        new = client.get(f"/instructors/{world.instructor_a}").text
        ending = client.get(f"/assignments/{world.assignment_a}/end").text
    assert 'value="2026-12-02"' in new
    assert 'value="2026-12-02"' in ending


def test_instructors_imported_today_are_in_post_on_the_caseload_and_the_overview(
    app, client, auth, tmp_path
):
    """The first minute of a new office: it imports its instructors, then looks at both pages."""
    from crm.audit.services import acting_as
    from tests.transfer.conftest import workbook

    with app.app_context(), acting_as("test"):
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        path = workbook(tmp_path / "i.xlsx", [
            ["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
            ["陈晓", "zdy200", "13807971234", "章贡区", "2023-03-01", "在岗"],
            ["刘洋", "zdy201", "13807971235", "南康区", "2024-05-01", ""],
            ["王芳", "zdy202", "13807971236", "章贡区", "2022-01-01", "离岗"],
        ])  # fmt: skip
        assert transfer_tasks.import_file("instructors", path).committed
    auth.login("reviewer")
    assert "在岗共 2 人" in client.get("/instructors/").text
    assert "<span>指导员</span><strong>2</strong>" in client.get("/review/").text
    assert "王芳" in client.get("/instructors/?flag=left").text
