from datetime import date

from crm.accounts.models import Role
from crm.assignments import services
from crm.assignments.models import Assignment
from crm.extensions import db
from tests import factories as f


def test_admin_assigns_from_the_instructor_page(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        instructor = f.InstructorFactory()
        branch = f.BranchFactory()
        ids = instructor.id, branch.id
    auth.login("admin")
    page = client.get(f"/instructors/{ids[0]}")
    assert "分配党组织" in page.text
    assert "（待分配）" in page.text

    response = client.post(
        f"/assignments/new?instructor_id={ids[0]}",
        data={"instructor_id": ids[0], "branch_id": ids[1], "started_on": "2026-03-02"},
    )
    assert response.status_code == 302
    with app.app_context():
        held = services.current_assignment(ids[1])
        assert (held.instructor_id, held.started_on) == (ids[0], date(2026, 3, 2))


def test_the_eleventh_from_the_web_shows_why_and_keeps_the_values(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        instructor = f.InstructorFactory()
        for _ in range(10):
            f.AssignmentFactory(instructor=instructor)
        spare = f.BranchFactory()
        ids = instructor.id, spare.id
    auth.login("admin")

    response = client.post(
        f"/assignments/new?instructor_id={ids[0]}",
        data={"instructor_id": ids[0], "branch_id": ids[1], "started_on": "2026-03-02"},
    )
    assert response.status_code == 422
    assert "达到上限" in response.text
    assert 'value="2026-03-02"' in response.text
    assert f'<option selected value="{ids[1]}">' in response.text
    with app.app_context():
        assert db.session.query(Assignment).filter_by(branch_id=ids[1]).count() == 0


def test_a_bad_date_is_named_beside_its_field(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        branch = f.BranchFactory()
        instructor = f.InstructorFactory()
        ids = instructor.id, branch.id
    auth.login("admin")
    response = client.post(
        f"/assignments/new?branch_id={ids[1]}",
        data={"instructor_id": ids[0], "branch_id": ids[1], "started_on": "明天"},
    )
    assert response.status_code == 422
    assert "不是有效的日期值" in response.text
    assert 'value="明天"' in response.text


def test_the_unassigned_queue_lists_guided_branches_nobody_holds(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        waiting = f.BranchFactory(name="等待分配党支部")
        f.BranchFactory(name="不列入指导党支部", under_guidance=False)
        f.AssignmentFactory(branch__name="已有指导员党支部")
        waiting_id = waiting.id
    auth.login("admin")
    page = client.get("/assignments/unassigned")
    assert "等待分配党支部" in page.text
    assert "不列入指导党支部" not in page.text
    assert "已有指导员党支部" not in page.text
    assert f"/assignments/new?branch_id={waiting_id}" in page.text


def test_ending_an_assignment_from_the_web(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        held = f.AssignmentFactory(started_on=date(2024, 1, 1))
        held_id, branch_id = held.id, held.branch_id
    auth.login("admin")
    response = client.post(f"/assignments/{held_id}/end",
                           data={"ended_on": "2023-12-31", "reason": "调岗"})  # fmt: skip
    assert response.status_code == 422
    assert "不能早于开始日期" in response.text
    response = client.post(f"/assignments/{held_id}/end",
                           data={"ended_on": "2026-01-31", "reason": "调岗"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert services.current_assignment(branch_id) is None
