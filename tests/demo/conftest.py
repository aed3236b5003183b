"""The demo, loaded once for every test of this folder (each reads it; one reloads it)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from crm import create_app
from tests.conftest import empty_tables, settings


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


@pytest.fixture(scope="package")
def app(migrated):
    """One demo load for the folder: the tests below read it, the last ones reload it.

    On PostgreSQL an ANALYZE runs every second beside the load, as autovacuum may: when it
    read the tables mid-load (the load's rows not yet visible to it) one of the load's own
    queries went from milliseconds to hours, and a CI run hung.
    """
    app = create_app(settings(migrated))
    with analyzing_alongside(migrated):
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        empty_tables()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()
