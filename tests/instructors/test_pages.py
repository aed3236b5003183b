import re
from datetime import date

import sqlalchemy as sa

from crm import clock
from crm.accounts import services as accounts
from crm.accounts.models import Role
from crm.extensions import db
from crm.instructors.models import Instructor
from tests import factories as f


def test_the_admin_adds_an_instructor_and_the_security_admin_opens_the_account(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
    auth.login("admin")
    form = client.get("/instructors/new").text
    assert 'name="password"' not in form  # accounts are the security admin's
    response = client.post("/instructors/new", data={
        "name": "陈晓", "username": "zdy200", "password": "Gz-2026-start", "phone": "138 0797 1234",
        "district_id": 3, "hired_on": "2026-09-01", "status": "active",
    })  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        instructor = db.session.execute(sa.select(Instructor)).scalar_one()
        assert (instructor.name, instructor.phone) == ("陈晓", "13807971234")
        assert not instructor.account.active
        assert instructor.account.awaiting_opening
        assert accounts.authenticate("zdy200", "Gz-2026-start") is None
        account_id = instructor.account_id
    auth.logout()
    auth.login("security")
    listed = client.get("/accounts/?state=awaiting").text
    assert "zdy200" in listed
    assert "待开通" in listed
    client.post(f"/accounts/{account_id}/password",
                data={"password": "Temp-2026-gz01", "confirm": "Temp-2026-gz01"})  # fmt: skip
    client.post(f"/accounts/{account_id}/enable")
    auth.logout()
    signed = client.post("/login", data={"username": "zdy200", "password": "Temp-2026-gz01"})
    assert signed.status_code in (302, 303)
    assert "/account/password" in client.get("/branches/").headers["Location"]  # temporary
    changed = client.post("/account/password", data={
        "current": "Temp-2026-gz01", "password": "Mine-2026-chen", "confirm": "Mine-2026-chen"})  # fmt: skip
    assert changed.status_code == 303
    assert client.get("/branches/").status_code == 200


def test_leaving_asks_the_security_admin_and_never_enables_an_account(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        instructor = f.InstructorFactory(account__username="zdy009", hired_on=date(2024, 3, 1))
        instructor_id, account_id = instructor.id, instructor.account_id
    auth.login("security")
    client.post(f"/accounts/{account_id}/disable")  # disabled for a reason of its own
    auth.logout()
    auth.login("admin")
    data = {"name": instructor_name(app, instructor_id), "phone": "13807971234",
            "district_id": 3, "hired_on": "2024-03-01", "status": "active", "version": 1}  # fmt: skip
    page = client.get(f"/instructors/{instructor_id}/edit").text
    data["version"] = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    assert client.post(f"/instructors/{instructor_id}/edit", data=data).status_code == 302
    assert not account_state(app, account_id)[0]  # saving 在岗 did not enable it
    auth.logout()
    auth.login("security")
    client.post(f"/accounts/{account_id}/enable")
    auth.logout()
    auth.login("admin")
    page = client.get(f"/instructors/{instructor_id}/edit").text
    data["version"] = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    data["status"] = "left"
    assert client.post(f"/instructors/{instructor_id}/edit", data=data).status_code == 302
    active, asked = account_state(app, account_id)
    assert active  # the admin does not disable it either: it asks
    assert asked
    auth.logout()
    auth.login("security")
    notice = client.get("/accounts/").text
    assert "有 1 个账号的指导员已离岗" in notice
    assert "zdy009" in client.get("/accounts/?state=disable_requested").text
    client.post(f"/accounts/{account_id}/disable")
    assert account_state(app, account_id) == (False, False)


def instructor_name(app, instructor_id):
    with app.app_context():
        return db.session.get(Instructor, instructor_id).name


def account_state(app, account_id):
    with app.app_context():
        account = db.session.get(f.Account, account_id)
        return account.active, account.disable_requested_at is not None


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
        for n in range(101):  # a page holds 100 at the largest page size
            f.InstructorFactory(account__name=f"指导员{n:03d}")
        last = f.InstructorFactory(account__name="指导员999")
        branch = f.AssignmentFactory(instructor=last).branch
        for _ in range(2):
            f.VisitFactory(instructor=last, branch=branch, visited_at=clock.now())
    auth.login("admin")

    def visits_of(page: str) -> str:
        row = page[page.index("指导员999") :]
        return re.findall(r'<td class="num">(\d+)', row)[1]  # assigned, then visits

    assert "指导员999" not in client.get("/instructors/?per_page=100").text
    assert visits_of(client.get("/instructors/?page=2&per_page=100").text) == "2"
    assert visits_of(client.get("/instructors/?sort=visits&order=desc").text) == "2"
