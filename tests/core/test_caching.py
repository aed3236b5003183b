"""Caching headers that say one thing (issue 17.11): a page or a document holding personal data
is kept by no cache (private, no-store); a photo by the browser only (private, never public);
no answer says public and private at once."""

import pytest

from crm.core.access import PUBLIC, SIGNED_IN, declared_access
from tests.core.test_access import ROLES, build, every_rule, url_ids


@pytest.mark.parametrize("username", ["admin", "zdy-a", "reviewer-zg", "auditor"])
def test_every_answer_caches_as_its_content_allows(app, client, auth, world, username):
    auth.login(username)
    ids = url_ids(world)
    checked = 0
    for rule, method in every_rule(app):
        access = declared_access(app.view_functions[rule.endpoint])
        if method != "GET" or not (access in (PUBLIC, SIGNED_IN) or ROLES[username] in access):
            continue
        response = client.get(build(rule, ids))
        cache = {
            part.strip().split("=")[0]
            for part in response.headers.get("Cache-Control", "").split(",")
        }
        assert not {"public", "private"} <= cache, (rule.rule, response.headers["Cache-Control"])
        if response.mimetype.startswith("image/"):
            assert "private" in cache, rule.rule
            assert "public" not in cache, rule.rule
        elif rule.rule not in ("/sw.js",):
            assert {"private", "no-store"} <= cache, (
                rule.rule,
                response.headers.get("Cache-Control"),
            )
        checked += 1
    assert checked > 10
