"""The demo, loaded once for every test of this folder (each reads it; one reloads it)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from tests.conftest import settings


@contextmanager
def analyzing_alongside(url: str) -> Iterator[None]:
    if not url.startswith("postgresql"):
        yield
        return
    engine, done = sa.create_engine(url, isolation_level="AUTOCOMMIT"), threading.Event()

    def analyze() -> None:
        with engine.connect() as connection:
            while not done.wait(1):
                connection.execute(sa.text("ANALYZE"))

    thread = threading.Thread(target=analyze)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        engine.dispose()


@pytest.fixture(scope="session")
def app(demo_migrated, tmp_path_factory):
    """One demo load a pass, in a database of its own (the tests below read it, the last ones
    reload it); the other tests, which empty their database after each, may run between.

    On PostgreSQL an ANALYZE runs every second beside the load, as autovacuum may: when it
    read the tables mid-load (the load's rows not yet visible to it) one of the load's own
    queries went from milliseconds to hours, and a CI run hung.
    """
    folder = tmp_path_factory.mktemp("demo-files")
    folders = {"MEDIA_DIR": str(folder / "media"), "REPORTS_DIR": str(folder / "reports")}
    app = create_app(settings(demo_migrated, **folders))
    with analyzing_alongside(demo_migrated):
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()
