"""For every kind of object, someone who may not see it gets 404 and none of its data.

Instructor `zdy-b` (南康区) and a reviewer of 南康区 ask, by GET and POST, for every URL that
names an object of `zdy-a`'s branch in 章贡区: the branch, its organization, assignment,
visit, photo, problem, members, meeting, cards, pairing, spot check and report PDF.
"""

import pytest

from crm.accounts.models import Role
from crm.core.access import PUBLIC, SIGNED_IN, declared_access
from crm.extensions import db
from tests import factories as f
from tests.core.test_access import build, every_rule, url_ids
from tests.core.test_security import row_counts

NOT_OBJECTS = {"kind", "name", "action", "holder", "number"}  # a list, an action, a year


def names_of_a(world) -> list[str]:
    """Texts that only zdy-a's objects carry: none may appear in an outsider's answer."""
    from crm.branches.models import Branch
    from crm.members.models import Member

    branch = db.session.get(Branch, world.branch_a)
    member = db.session.get(Member, world.member_a)
    return [branch.name, member.name, branch.secretary_phone]


@pytest.fixture
def outsiders(app, world):
    with app.app_context():
        f.AccountFactory(username="reviewer-nk", roles=[Role.REVIEWER],
                         scope_district=f.district("南康区"))  # fmt: skip
        return {"zdy-b": Role.INSTRUCTOR, "reviewer-nk": Role.REVIEWER}, names_of_a(world)


@pytest.mark.parametrize("username", ["zdy-b", "reviewer-nk"])
def test_every_object_of_another_answers_404_with_none_of_its_data(app, client, auth, world,
                                                                  outsiders, username):  # fmt: skip
    roles, secrets = outsiders
    ids = url_ids(world)
    auth.login(username)
    with app.app_context():
        before = row_counts()
        db.session.rollback()
    reached: set[str] = set()
    for rule, method in every_rule(app):
        if not set(rule.arguments) - NOT_OBJECTS:
            continue
        access = declared_access(app.view_functions[rule.endpoint])
        allowed = access in (PUBLIC, SIGNED_IN) or roles[username] in access
        response = client.open(build(rule, ids), method=method)
        expected = 404 if allowed else 403
        assert response.status_code == expected, (username, method, rule.rule)
        leaked = [text for text in secrets if text and text in response.get_data(as_text=True)]
        assert leaked == [], (username, method, rule.rule)
        if allowed:
            reached |= set(rule.arguments) - NOT_OBJECTS
    with app.app_context():
        assert row_counts() == before
    # Every kind the issue names was reached (a 404 from its own view), not refused wholesale.
    assert reached >= {"branch_id", "visit_id", "photo_id", "problem_id", "member_id",
                       "meeting_id", "card_id", "pairing_id", "report_id"}  # fmt: skip


def test_exports_hold_only_what_the_reviewer_may_see(app, client, auth, world, outsiders):
    import io

    from openpyxl import load_workbook

    _, secrets = outsiders
    auth.login("reviewer-nk")
    for name in ("instructors", "organizations", "branches", "assignments", "pairings"):
        response = client.get(f"/transfer/export/{name}.xlsx")
        assert response.status_code == 200, name
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
        text = " ".join(str(v) for row in sheet.values for v in row if v is not None)
        assert [s for s in secrets if s in text] == [], name
