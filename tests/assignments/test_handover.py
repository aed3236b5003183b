from datetime import date

import sqlalchemy as sa

from crm.accounts.models import Role
from crm.assignments import services
from crm.assignments.models import Assignment
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from tests import factories as f


def setup(app, receiver_load: int = 5):
    """A leaving instructor with 3 branches; two colleagues of the same district."""
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        leaving = f.InstructorFactory(account__name="离任者")
        branches = [f.AssignmentFactory(instructor=leaving, started_on=date(2024, 1, 1)).branch_id
                    for _ in range(3)]  # fmt: skip
        light = f.InstructorFactory(account__name="轻松")
        full = f.InstructorFactory(account__name="满员")
        for _ in range(receiver_load):
            f.AssignmentFactory(instructor=light)
        for _ in range(10):
            f.AssignmentFactory(instructor=full)
        f.ProblemFactory(branch=db.session.get(f.Branch, branches[0]), description="待办的招工问题")
        return leaving.id, branches, light.id, full.id


def moves(branches, targets, **extra):
    data = {"on": "2026-06-01", "reason": "离职", **extra}
    for n, (branch, to) in enumerate(zip(branches, targets, strict=True)):
        data[f"moves-{n}-branch_id"] = branch
        data[f"moves-{n}-to"] = to
    return data


def test_handover_moves_all_branches_keeps_history_and_makes_notes(app, client, auth):
    leaving, branches, light, _ = setup(app)
    auth.login("admin")
    response = client.post(f"/instructors/{leaving}/handover",
                           data=moves(branches, [light] * 3, mark_left="y"))  # fmt: skip
    assert response.status_code == 303
    notes = client.get(response.headers["Location"]).text
    assert notes.count('class="card handover-note"') == 3
    assert "待办的招工问题" in notes
    with app.app_context():
        assert services.current_count(light) == 8
        assert services.current_count(leaving) == 0
        ended = (
            db.session.execute(sa.select(Assignment).where(Assignment.instructor_id == leaving))
            .scalars()
            .all()
        )
        assert {(a.ended_on, a.end_reason == "离职，移交给轻松") for a in ended} == {
            (date(2026, 6, 1), True)
        }
        instructor = db.session.get(Instructor, leaving)
        assert (instructor.status, instructor.account.active) == (InstructorStatus.LEFT, False)


def test_handover_past_the_bounds_moves_nothing(app, client, auth):
    leaving, branches, light, full = setup(app)
    auth.login("admin")
    response = client.post(f"/instructors/{leaving}/handover",
                           data=moves(branches, [light, light, full]))  # fmt: skip
    assert response.status_code == 422
    assert "满员 已联系指导 10 个党组织，达到上限" in response.text
    with app.app_context():
        assert services.current_count(leaving) == 3
        assert services.current_count(light) == 5


def test_chosen_branches_only_and_the_leaver_cannot_be_marked_left_too_early(app, client, auth):
    leaving, branches, light, _ = setup(app)
    auth.login("admin")
    response = client.post(f"/instructors/{leaving}/handover",
                           data=moves(branches, [light, 0, 0], mark_left="y"))  # fmt: skip
    assert response.status_code == 422
    assert "还有党组织没有移交，不能设为离岗" in response.text
    response = client.post(f"/instructors/{leaving}/handover", data=moves(branches, [light, 0, 0]))
    assert response.status_code == 303
    with app.app_context():
        assert services.current_count(leaving) == 2
        assert services.current_assignment(branches[0]).instructor_id == light


def test_a_branch_note_is_there_to_read_and_print(app, client, auth, world):
    auth.login("zdy-a")
    page = client.get(f"/branches/{world.branch_a}/handover").text
    assert "最近三次走访" in page
    assert "五清五促尚未摸清" in page
    auth.logout()
    auth.login("zdy-b")
    assert client.get(f"/branches/{world.branch_a}/handover").status_code == 404
