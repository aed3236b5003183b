"""What a list's filter offers is within the user's scope (issue 19.5): reviewer-zg was
offered all 20 districts, every one but 章贡区 giving an empty list."""

import re

import pytest
import sqlalchemy as sa

from crm.branches.models import Branch
from crm.extensions import db
from crm.organizations.models import District

LISTS = ["/branches/", "/organizations/", "/instructors/"]


def district_options(page: str) -> list[str] | None:
    """The districts offered by the page's district filter; None when it has none."""
    found = re.search(r'<select name="district_id"[^>]*>(.*?)</select>', page, re.S)
    if found is None:
        return None
    return [name for value, name in re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>',
                                               found.group(1)) if value]  # fmt: skip


@pytest.mark.parametrize("path", LISTS)
def test_a_city_reviewer_is_offered_every_district(app, client, auth, world, path):
    with app.app_context():
        every = db.session.scalars(sa.select(District.name).order_by(District.position)).all()
    auth.login("reviewer")
    assert district_options(client.get(path).text) == every


@pytest.mark.parametrize("path", LISTS)
def test_a_district_reviewer_is_offered_no_district_but_their_own(app, client, auth, world, path):
    auth.login("reviewer-zg")
    page = client.get(path).text
    assert district_options(page) is None  # one district: nothing to choose
    assert "南康区" not in page  # zdy-b's district, outside the scope


def test_an_instructor_is_offered_the_districts_of_their_branches(app, client, auth, world):
    with app.app_context():
        own = db.session.scalar(
            sa.select(District.name).join(Branch, Branch.district_id == District.id)
            .where(Branch.id == world.branch_a)
        )  # fmt: skip
    auth.login("zdy-a")
    page = client.get("/organizations/").text
    assert district_options(page) in (None, [own])
    assert "南康区" not in page
