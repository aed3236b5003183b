import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from tests import html_check, privacy_scan
from tests.postgres import throwaway_postgres

pytest_plugins = [
    "tests.statements",  # which tests the PostgreSQL pass runs
    "tests.slow_first",  # in what order
]

PASSWORD = "Test@2026pw"
TEST_HASHING = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
# Reference data the migrations load; every test starts from it and nothing else.
KEPT_TABLES = {"district", "alembic_version", "data_version"}


# Each test app's files, below one folder a worker removes when it ends.
FILES = Path(tempfile.mkdtemp(prefix="crm-test-files-"))
atexit.register(shutil.rmtree, FILES, ignore_errors=True)


def settings(database_url: str, **overrides) -> dict:
    """A test app's settings. Its files (photos, PDFs, backups, uploads, audit checkpoints) go
    to a folder of its own unless the test names others: never to the checkout's instance/,
    where they would outlive the run and be read by other tests' instances."""
    files = Path(tempfile.mkdtemp(dir=FILES))
    return {
        "MEDIA_DIR": str(files / "media"),
        "REPORTS_DIR": str(files / "reports"),
        "BACKUP_DIR": str(files / "backups"),
        "UPLOADS_DIR": str(files / "uploads"),
        "AUDIT_CHECKPOINTS": str(files / "audit-checkpoints.jsonl"),
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,  # tests sign in often; the limit's own test turns it on
        # Signing in with a password alone; tests/accounts/test_second_factor.py signs in
        # with the default (admins, security admins and auditors give a TOTP code).
        "TOTP_REQUIRED_ROLES": (),
        "AUDIT_KEY": "test-audit-key",  # a deployment's is outside the database (crm.core.keys)
        # argon2 at its cheapest: a sign-in cost 0.1-0.2 s at the production parameters, and the
        # suite signs in about 700 times; the tests of hashing set the production ones.
        "PASSWORD_HASHING": TEST_HASHING,
        # Month batches in the test's own process; the test of worker processes asks for two.
        "REPORT_WORKERS": 0,
        **overrides,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """SQLite in a temporary folder, or a throwaway PostgreSQL when CRM_TEST_DATABASE says so."""
    if os.environ.get("CRM_TEST_DATABASE") == "postgresql":
        with throwaway_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.sqlite3'}"


@pytest.fixture(scope="session")
def migrated(database_url) -> str:
    """The test database, brought to the newest schema by the real migrations, once."""
    app = create_app(settings(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def demo_migrated(database_url, tmp_path_factory) -> str:
    """A second database beside the test database, for the demo (tests/demo/): loaded once a
    pass, it stays while every other test empties the first."""
    if database_url.startswith("postgresql"):
        engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE crm_demo"))
        engine.dispose()
        url = database_url.rsplit("/", 1)[0] + "/crm_demo"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    app = create_app(settings(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(migrated, tmp_path):
    app = create_app(settings(migrated, MEDIA_DIR=str(tmp_path / "media"),
                              REPORTS_DIR=str(tmp_path / "reports"),
                              AUDIT_CHECKPOINTS=str(tmp_path / "audit-checkpoints.jsonl")))  # fmt: skip
    leaks = privacy_scan.install(app)
    html_faults = html_check.install(app)
    yield app
    with app.app_context():
        empty_tables()
        db.engine.dispose()
    assert leaks == [], "whole phone numbers shown to users without the right to them"
    assert sorted(set(html_faults)) == [], "pages with duplicate ids or unlabelled fields"


def empty_tables() -> None:
    from tests.world import tables as filled

    tables = list(reversed(filled()))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def two_districts(app) -> tuple[str, str]:
    """Only 章贡区 and 南康区 for the test: a month's batch of reports then renders 4 PDFs, not
    22. The other districts, reference data the migrations load, are put back afterwards."""
    from crm.organizations.models import District

    kept = ("章贡区", "南康区")
    table = District.__table__
    others = table.c.name.not_in(kept)
    with app.app_context():
        removed = [
            dict(row) for row in db.session.execute(sa.select(table).where(others)).mappings()
        ]
        db.session.execute(table.delete().where(others))
        db.session.commit()
    yield kept
    with app.app_context():
        db.session.execute(table.insert(), removed)
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside a `with count_queries() as statements:` block."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            if not re.match(
                r"\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", statement, re.I
            ):
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that touch the database `db` (run again on PostgreSQL by `make test`), and
    those under tests/browser/ `browser`."""
    for item in items:
        if {"migrated", "demo_migrated"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if "browser" in item.path.parent.parts[-1:]:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with `--dist loadgroup`, each test marked `xdist_group` must carry
    its group in its node id, or the group is silently spread over the workers."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [
        i.nodeid
        for i in session.items
        if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
    ]
    if lost:
        raise pytest.UsageError(
            f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more): a pytest it "
            "does not know yet (pytest-dev/pytest-xdist#1386)? pyproject.toml pins pytest."
        )


@pytest.fixture
def world(app):
    """One account of each role and one object of each kind, as plain ids and usernames.

    Instructor `zdy-a` (章贡区) guides branch `a`; `zdy-b` (南康区) guides branch `b`;
    `reviewer-zg` reviews 章贡区 only. Built once a minute (tests/world.py), then copied in.
    """
    from tests import world

    with app.app_context():
        return world.in_place()


def with_version(client, url: str, data: dict) -> dict:
    """An edit form's data with the version its page shows, as a browser sends it back."""
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="version"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="version"', page
    )
    return {**data, "version": found.group(1) if found else ""}
