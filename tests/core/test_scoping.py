"""Nobody sees a record they have no right to: a wrong id answers 404, lists leave it out."""

import pytest


@pytest.mark.parametrize(
    ("username", "url", "status"),
    [
        ("zdy-a", "/branches/{branch_a}", 200),
        ("zdy-a", "/branches/{branch_b}", 404),
        ("zdy-a", "/branches/{agency_branch}", 404),
        ("zdy-a", "/organizations/{organization_a}", 200),
        ("zdy-a", "/organizations/{organization_b}", 404),
        ("zdy-a", "/instructors/{instructor_a}", 200),
        ("zdy-a", "/instructors/{instructor_b}", 404),
        ("reviewer-zg", "/branches/{branch_a}", 200),
        ("reviewer-zg", "/branches/{branch_b}", 404),
        ("reviewer-zg", "/organizations/{organization_b}", 404),
        ("reviewer-zg", "/instructors/{instructor_b}", 404),
        ("reviewer", "/branches/{branch_b}", 200),
        ("reviewer", "/instructors/{instructor_b}", 200),
        ("admin", "/branches/{branch_b}", 200),
        ("zdy-a", "/branches/999999", 404),
    ],
)
def test_detail_pages_answer_404_outside_ones_scope(client, auth, world, username, url, status):
    auth.login(username)
    response = client.get(url.format(**vars(world)))
    assert response.status_code == status
    if status == 404:
        assert "页面不存在" in response.text


def test_an_instructor_lists_only_their_own_branches(app, client, auth, world):
    with app.app_context():
        from crm.branches.models import Branch
        from crm.extensions import db

        mine, theirs = (db.session.get(Branch, i).name for i in (world.branch_a, world.branch_b))
    auth.login("zdy-a")
    page = client.get("/branches/").text
    assert mine in page
    assert theirs not in page


def test_a_district_reviewer_lists_only_their_district(client, auth, world):
    auth.login("reviewer-zg")
    caseloads = client.get("/instructors/").text
    assert f"/instructors/{world.instructor_a}" in caseloads
    assert f"/instructors/{world.instructor_b}" not in caseloads
    branches = client.get("/branches/?district_id=2").text  # 南康区, asked for directly
    assert f"/branches/{world.branch_b}" not in branches


def test_phone_numbers_are_masked_for_everyone_but_admins(app, client, auth, world):
    with app.app_context():
        from crm.extensions import db
        from crm.instructors.models import Instructor

        phone = db.session.get(Instructor, world.instructor_a).phone
    masked = f"{phone[:3]}****{phone[-4:]}"
    for username in ("reviewer", "reviewer-zg", "zdy-a"):
        auth.login(username)
        page = client.get(f"/instructors/{world.instructor_a}").text
        assert masked in page, username
        assert phone not in page, username
        auth.logout()
    auth.login("admin")
    assert phone in client.get(f"/instructors/{world.instructor_a}").text
