"""Web hardening: headers, cookies, the sign-in rate limit, and no state change on GET."""

import re

import pytest
import sqlalchemy as sa

from crm import ROOT
from crm.audit.models import AuditEntry
from crm.extensions import db
from tests.core.test_access import ROLES, build, every_rule, url_ids


def test_every_response_carries_the_security_headers(app, client, world, auth):
    auth.login("zdy-a")
    for path in ("/", "/login", f"/branches/{world.branch_a}", "/static/css/app.css",
                 "/no-such-page", "/healthz"):  # fmt: skip
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
        assert directives["object-src"] == ["'none'"], path
        assert directives["base-uri"] == ["'none'"], path
        assert directives["frame-ancestors"] == ["'none'"], path
        assert directives["script-src"] == ["'self'"], path  # no 'unsafe-inline'
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in response.headers, path


def test_over_tls_hsts_is_sent_and_the_session_cookie_is_secure(app, client, world):
    response = client.post("/login", data={"username": "zdy-a", "password": "Test@2026pw"},
                           base_url="https://crm.example")  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_over_plain_http_the_cookie_is_httponly_and_samesite(app, client, world):
    response = client.post("/login", data={"username": "zdy-a", "password": "Test@2026pw"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_behind_the_configured_proxy_tls_and_the_client_address_come_from_it(migrated):
    from crm import create_app
    from tests.conftest import settings

    app = create_app(settings(migrated, PROXY_COUNT=1))
    response = app.test_client().get("/login", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.8.7"})  # fmt: skip
    assert "Strict-Transport-Security" in response.headers
    untrusted = create_app(settings(migrated)).test_client().get(
        "/login", headers={"X-Forwarded-Proto": "https"})  # fmt: skip
    assert "Strict-Transport-Security" not in untrusted.headers


def test_forwarded_headers_are_believed_from_the_proxy_only(migrated, world):
    """Issue 17.10: with CRM_PROXY_COUNT=1 the headers were believed from any peer, so a client
    could forge its address in the audit log and slip past the per-address sign-in limit."""
    from crm import create_app
    from tests.conftest import settings

    app = create_app(settings(migrated, PROXY_COUNT=1, TRUSTED_PROXIES=["10.0.0.10"],
                              RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute"))  # fmt: skip
    client = app.test_client()
    forged = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    direct = {"REMOTE_ADDR": "203.0.113.9"}
    answers = [
        client.post("/login", data={"username": "nobody", "password": "x" * 8},
                    headers={**forged, "X-Forwarded-For": f"198.51.100.{n}"},
                    environ_base=direct).status_code
        for n in range(3)
    ]  # fmt: skip
    assert answers == [422, 422, 429]  # a new forged address each time changed nothing
    assert "Strict-Transport-Security" not in client.get("/login", headers=forged,
                                                         environ_base=direct).headers  # fmt: skip
    via_proxy = client.get("/login", headers=forged, environ_base={"REMOTE_ADDR": "10.0.0.10"})
    assert "Strict-Transport-Security" in via_proxy.headers
    with app.app_context():
        addresses = set(db.session.scalars(sa.select(AuditEntry.ip).where(
            AuditEntry.action == "login.failure")))  # fmt: skip
        db.engine.dispose()
    assert addresses == {"203.0.113.9"}


def test_no_template_has_inline_script_or_event_handlers():
    """The policy would block them: every page's behaviour lives in static/js/app.js."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_sign_in_is_rate_limited_per_address(migrated, world):
    from crm import create_app
    from tests.conftest import settings

    app = create_app(settings(migrated, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"))
    client = app.test_client()
    codes = [
        client.post("/login", data={"username": "nobody", "password": "x" * 8}).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]
    refused = client.post("/login", data={"username": "zdy-a", "password": "Test@2026pw"})
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.text
    assert client.get("/login").status_code == 200  # reading the form is not limited
    other_address = client.post("/login", data={"username": "zdy-a", "password": "Test@2026pw"},
                                environ_base={"REMOTE_ADDR": "10.0.0.2"})  # fmt: skip
    assert other_address.status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_a_request_over_the_size_limit_gets_a_chinese_page(app, client, world, auth):
    auth.login("zdy-a")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = client.post(f"/branches/{world.branch_a}/visits/new",
                           data={"summary": "长" * 20_000})  # fmt: skip
    assert response.status_code == 413
    assert "文件太大" in response.text


# Tables a GET may add to: the audit log records reads that must be recorded (exports,
# downloads), and the review tallies are a cache of counts, rebuilt from the records.
WRITTEN_BY_READS = {"audit_entry", "day_tally", "stock_tally"}


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables if table.name not in WRITTEN_BY_READS
    }  # fmt: skip


@pytest.mark.parametrize("username", list(ROLES))
def test_no_get_request_changes_any_record(app, client, auth, world, username):
    ids = url_ids(world)
    auth.login(username)
    with app.app_context():
        before = row_counts()
        accounts_before = [tuple(row) for row in db.session.execute(sa.text(
            "SELECT id, session_version, failed_logins, password_hash FROM account ORDER BY id"))]  # fmt: skip
        db.session.rollback()
    for rule, method in every_rule(app):
        if method == "GET":
            assert client.get(build(rule, ids)).status_code < 500, rule.rule
    with app.app_context():
        assert row_counts() == before
        assert [tuple(row) for row in db.session.execute(sa.text(
            "SELECT id, session_version, failed_logins, password_hash FROM account ORDER BY id"))] == accounts_before  # fmt: skip


def test_every_state_changing_request_needs_the_csrf_token(migrated, world):
    """With CSRF on, as in production: a signed-in user's POST without the token is refused
    (400) on every route, before any view runs."""
    from crm import create_app
    from tests.conftest import settings

    app = create_app(settings(migrated, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    assert client.post("/login", data={"username": "admin",
                                       "password": "Test@2026pw"}).status_code == 400  # fmt: skip
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").text).group(1)  # fmt: skip
    signed_in = client.post("/login", data={"username": "admin", "password": "Test@2026pw",
                                            "csrf_token": token})  # fmt: skip
    assert signed_in.status_code == 302
    ids = url_ids(world)
    with app.app_context():
        before = row_counts()
        db.session.rollback()
    for rule, method in every_rule(app):
        if method == "POST":
            response = client.post(build(rule, ids), data={"anything": "1"})
            assert response.status_code == 400, rule.rule
            assert "页面已过期" in response.text, rule.rule
    with app.app_context():
        assert row_counts() == before
        db.engine.dispose()
