import re

import sqlalchemy as sa

from crm import clock
from crm.accounts import services as accounts
from crm.accounts.models import Role
from crm.extensions import db
from crm.instructors.models import Instructor
from tests import factories as f


def test_admin_adds_an_instructor_who_can_then_sign_in(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    response = client.post("/instructors/new", data={
        "name": "陈晓", "username": "zdy200", "password": "Gz-2026-start", "phone": "138 0797 1234",
        "district_id": 3, "hired_on": "2026-09-01", "status": "active",
    })  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        instructor = db.session.execute(sa.select(Instructor)).scalar_one()
        assert (instructor.name, instructor.phone) == ("陈晓", "13807971234")
        assert accounts.authenticate("zdy200", "Gz-2026-start").has_role(Role.INSTRUCTOR)


def test_a_bad_phone_and_a_taken_username_are_shown_beside_their_fields(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    data = {
        "name": "陈晓", "username": "admin", "password": "Gz-2026-start", "phone": "12345",
        "district_id": 3, "hired_on": "2026-09-01", "status": "active",
    }  # fmt: skip
    response = client.post("/instructors/new", data=data)
    assert response.status_code == 422
    assert "请填写 11 位手机号码" in response.text
    data["phone"] = "13807971234"
    response = client.post("/instructors/new", data=data)
    assert response.status_code == 422
    assert "用户名“admin”已被使用" in response.text
    assert 'value="陈晓"' in response.text


def test_the_caseload_table_flags_too_few_and_too_many(app, client, auth):
    app.config.update(ASSIGNMENT_MIN=1, ASSIGNMENT_MAX=2)
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        f.InstructorFactory(account__name="空闲指导员")
        busy = f.InstructorFactory(account__name="繁忙指导员")
        for _ in range(3):
            f.AssignmentFactory(instructor=busy)
    auth.login("reviewer")
    page = client.get("/instructors/").text
    assert "少于 1" in page
    assert "超过 2" in page
    under = client.get("/instructors/?flag=under").text
    assert "空闲指导员" in under
    assert "繁忙指导员" not in under


def test_the_figures_are_the_same_on_a_later_page_and_in_any_order(app, client, auth):
    """Sorted by name only the rows shown are counted; sorted by visits, all of them."""
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        for n in range(101):  # a page holds 100
            f.InstructorFactory(account__name=f"指导员{n:03d}")
        last = f.InstructorFactory(account__name="指导员999")
        branch = f.AssignmentFactory(instructor=last).branch
        for _ in range(2):
            f.VisitFactory(instructor=last, branch=branch, visited_at=clock.now())
    auth.login("admin")

    def visits_of(page: str) -> str:
        row = page[page.index("指导员999") :]
        return re.findall(r'<td class="num">(\d+)', row)[1]  # assigned, then visits

    assert "指导员999" not in client.get("/instructors/").text
    assert visits_of(client.get("/instructors/?page=2").text) == "2"
    assert visits_of(client.get("/instructors/?sort=visits&order=desc").text) == "2"
