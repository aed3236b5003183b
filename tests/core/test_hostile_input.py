"""Hostile input into every form (Hypothesis): never a 500, never the markup back unescaped,
nothing written when the form is refused."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.core.access import PUBLIC, SIGNED_IN, declared_access
from crm.extensions import db
from tests.core.test_access import ROLES, build, every_rule, url_ids
from tests.core.test_security import row_counts

# Markup that must come back escaped, if it comes back at all.
MARKUP = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>"]
ODD = ["javascript:alert(1)", "{{7*7}}{% raw %}", "' OR '1'='1", "1; DROP TABLE branch;--",
       "%_\\", "\x00", "a\x00b", "１２３４５", "　全角　空格　", "😀👍🏻", "-1", "99999999999999999999",
       "0", "2026-02-30", "9999-12-31", "", " ", "\u202e反向"]  # fmt: skip
HOSTILE = st.one_of(
    st.sampled_from([*MARKUP, *ODD]),
    st.text(max_size=40),
    st.text(min_size=5_000, max_size=6_000, alphabet="长<>&\"'"),
)
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
SKIPPED = {"accounts.logout", "accounts.change_password", "accounts.login", "accounts.second_step"}


def form_routes(app, client, ids, role):
    """Each POST route this role may use, with the fields of its form (read off its page)."""
    routes = []
    for rule, method in every_rule(app):
        access = declared_access(app.view_functions[rule.endpoint])
        if method != "POST" or rule.endpoint in SKIPPED:
            continue
        if not (access in (PUBLIC, SIGNED_IN) or role in access):
            continue
        url = build(rule, ids)
        page = client.get(url) if "GET" in rule.methods else None
        names = set(FIELD.findall(page.text)) - {"csrf_token"} if page is not None else set()
        routes.append((url, sorted(names or {"note", "reason", "name"})))
    return routes


@pytest.mark.parametrize("username", ["admin", "zdy-a", "reviewer-zg", "security"])
def test_hostile_values_in_every_form(app, client, auth, world, username):
    auth.login(username)
    routes = form_routes(app, client, url_ids(world), ROLES[username])
    assert routes

    @settings(max_examples=len(routes) * 4, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=st.data())
    def post_hostile(data):
        url, names = data.draw(st.sampled_from(routes), label="route")
        form = {name: data.draw(HOSTILE, label=name) for name in names}
        with app.app_context():
            before = row_counts()
            db.session.rollback()
        response = client.post(url, data=form)
        assert response.status_code < 500, (url, form)
        body = response.get_data(as_text=True)
        for value in form.values():
            if value in MARKUP:
                assert value not in body, (url, value)
        if response.status_code in (400, 422):
            with app.app_context():
                assert row_counts() == before, (url, form)

    post_hostile()
