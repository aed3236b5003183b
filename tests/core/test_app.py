import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.config import MissingSecretKeyError
from crm.core.access import public
from crm.extensions import db
from tests.conftest import settings

pytestmark = pytest.mark.postgresql  # each database's connection settings and SQLite's write lock


def test_a_deployment_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    with pytest.raises(MissingSecretKeyError, match="CRM_SECRET_KEY"):
        create_app()


def test_settings_come_from_the_environment_with_the_crm_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    monkeypatch.setenv("CRM_ASSIGNMENT_MAX", "12")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")
    assert app.config["ASSIGNMENT_MAX"] == 12


def test_the_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.setenv("CRM_SECRET_KEY", "x")
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/crm.sqlite3"


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite settings")
        pragma = {name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()
                  for name in ("journal_mode", "foreign_keys", "busy_timeout")}  # fmt: skip
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000}


@pytest.mark.postgresql
def test_postgresql_runs_without_its_jit_compiler(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL settings")
        assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"


def test_a_deployments_own_postgresql_options_are_kept_after_ours():
    app = create_app(
        settings(
            "postgresql+psycopg://crm@db.invalid/crm",
            SQLALCHEMY_ENGINE_OPTIONS={
                "pool_size": 20,
                "connect_args": {"options": "-c statement_timeout=30s", "connect_timeout": 5},
            },
        )
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 20
    assert options["connect_args"] == {
        "options": "-c jit=off -c statement_timeout=30s",
        "connect_timeout": 5,
    }


def released_version() -> str:
    """The newest release CHANGELOG.md names: what the footer and /healthz must say."""
    changelog = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
    return re.search(r"^## (\S+) —", changelog.read_text(), re.M).group(1)


def test_health_check_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    expected = {"status": "ok", "version": released_version()}
    assert (response.status_code, response.json) == (200, expected)


def test_every_page_names_the_release(client):
    assert f"两新党建指导员工作台 {released_version()}" in client.get("/login").text


def test_health_check_answers_503_when_the_database_does_not(tmp_path):
    missing = tmp_path / "no-such-folder" / "crm.sqlite3"
    app = create_app(settings(f"sqlite:///{missing}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "version": released_version()}


def test_not_found_page_is_in_chinese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text


def test_forbidden_page_is_in_chinese(app, client, auth):
    from crm.accounts.models import Role
    from tests import factories as f

    with app.app_context():
        f.AccountFactory(username="zdy001", roles=[Role.INSTRUCTOR])
    auth.login("zdy001")
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "没有权限" in response.text


def test_server_error_page_shows_no_stack_trace(migrated):
    app = create_app(settings(migrated, PROPAGATE_EXCEPTIONS=False))

    @public
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert "系统出错了" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_a_request_that_writes_outside_writing_is_stopped_on_sqlite(migrated):
    from crm.extensions import db
    from crm.locking import ReadTransactionWriteError

    app = create_app(settings(migrated))

    @public
    def careless():
        db.session.execute(sa.text("UPDATE district SET position = position WHERE id = 1"))
        return "written"

    app.add_url_rule("/careless", view_func=careless, methods=["POST"])
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write lock")
    with pytest.raises(ReadTransactionWriteError, match="writing"):
        app.test_client().post("/careless")


def test_reading_and_refusing_a_form_need_no_write_lock(app, client, auth, world):
    """While another process holds SQLite's write lock, pages still load and a form with
    errors still comes back: only the writing part of a request waits for the lock."""
    import sqlite3

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write lock")
        path = db.engine.url.database
    auth.login("admin")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert client.get(f"/branches/{world.branch_a}").status_code == 200
        refused = client.post("/organizations/new", data={"name": ""})
        assert refused.status_code == 422
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/crm",
                                 "sqlite:////nonexistent-folder/crm.sqlite3"])  # fmt: skip
def test_with_the_database_down_pages_say_so_with_503(url):
    app = create_app(settings(url, SQLALCHEMY_ENGINE_OPTIONS={}))
    client = app.test_client()
    signing_in = client.post("/login", data={"username": "zdy", "password": "x" * 9})
    assert signing_in.status_code == 503
    assert "暂时无法访问" in signing_in.text
    assert signing_in.headers["Retry-After"] == "30"
    with client.session_transaction() as session:  # someone signed in before it went down
        session.update({"_user_id": "1", "v": 0, "began": time.time(), "seen": time.time()})
    for path in ("/branches/", "/", "/instructors/"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "暂时无法访问" in page.text
    outbox = client.post("/branches/1/visits/new", headers={"Accept": "application/json"})
    assert outbox.status_code == 503  # the phone keeps the visit and tries again
    assert outbox.json["error"].startswith("系统暂时无法访问")
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.json == {"status": "unavailable", "version": released_version()}
