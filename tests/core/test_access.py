"""Every URL rule, for every role: declared, enforced, and answered without a server error."""

import re

import pytest
from flask import Blueprint

from crm import clock, create_app
from crm.accounts.models import Role
from crm.core.access import PUBLIC, SIGNED_IN, UndeclaredAccessError, declared_access
from tests.conftest import settings

ROLES = {
    "admin": Role.ADMIN,
    "reviewer": Role.REVIEWER,
    "reviewer-zg": Role.REVIEWER,
    "security": Role.SECURITY_ADMIN,
    "auditor": Role.AUDITOR,
    "zdy-a": Role.INSTRUCTOR,
}


def url_ids(world) -> dict[str, int]:
    """An id for every URL parameter: objects that instructor zdy-a and 章贡区 may see."""
    return {
        "branch_id": world.branch_a,
        "instructor_id": world.instructor_a,
        "organization_id": world.organization_a,
        "assignment_id": world.assignment_a,
        "visit_id": world.visit_a,
        "problem_id": world.problem_a,
        "photo_id": world.photo_a,
        "token": world.pending_token,
        "member_id": world.member_a,
        "meeting_id": world.meeting_a,
        "card_id": world.card_a,
        "entry_id": world.entry_a,
        "pairing_id": world.pairing,
        "kind": "organizations",
        "account_id": world.account_a,
        "check_id": world.check_a,
        "action": "unlock",
        "holder": "member",
        "holder_id": world.member_a,
        "report_id": world.report_a,
        "link_id": world.link_a,
        "goal_id": world.goal_a,
        "note_id": world.note_a,
        "name": "branches",
        "number": clock.today().year - 1,  # a year assessed
    }


def every_rule(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule, method


def build(rule, ids) -> str:
    missing = [name for name in rule.arguments if name not in ids]
    assert not missing, f"{rule.rule}: give url_ids() an id for {missing}"
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def test_every_view_declares_who_may_use_it(app):
    undeclared = [
        rule.endpoint for rule, _ in every_rule(app)
        if declared_access(app.view_functions[rule.endpoint]) is None
    ]  # fmt: skip
    assert undeclared == []


def test_the_app_refuses_to_start_with_an_undeclared_view(migrated, monkeypatch):
    stray = Blueprint("stray", __name__)
    stray.add_url_rule("/stray", "open", lambda: "no declaration")
    original = Blueprint.register

    def register(self, app, options):
        original(self, app, options)
        if self.name == "core":
            original(stray, app, {})

    monkeypatch.setattr(Blueprint, "register", register)
    with pytest.raises(UndeclaredAccessError, match=r"stray\.open"):
        create_app(settings(migrated))


def test_signed_out_visitors_are_sent_to_sign_in(app, client, world):
    ids = url_ids(world)
    for rule, method in every_rule(app):
        access = declared_access(app.view_functions[rule.endpoint])
        response = client.open(build(rule, ids), method=method)
        if access == PUBLIC:
            assert response.status_code < 500, rule.rule
        else:
            assert response.status_code == 302, (method, rule.rule)
            assert "/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_reaches_what_it_may_and_nothing_else(app, client, auth, world, username):
    ids = url_ids(world)
    auth.login(username)
    for rule, method in every_rule(app):
        if rule.endpoint == "accounts.logout":
            continue  # would end the session the rest of the walk needs
        access = declared_access(app.view_functions[rule.endpoint])
        response = client.open(build(rule, ids), method=method)
        allowed = access in (PUBLIC, SIGNED_IN) or ROLES[username] in access
        if allowed:
            assert response.status_code not in (401, 403), (username, method, rule.rule)
            assert response.status_code < 500, (username, method, rule.rule)
        else:
            assert response.status_code == 403, (username, method, rule.rule)
