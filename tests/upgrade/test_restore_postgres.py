"""PostgreSQL as docs/deploy.md sets it up (deploy/postgres.sql run as written: crm_owner owns
the schema and migrates, crm_app is what the servers connect as): a backup of each earlier
release restores into an empty instance of this one, and afterwards crm_app reads and writes
the records and still cannot change the audit log."""

import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.backup import tasks
from tests.conftest import settings
from tests.postgres import BIN, throwaway_postgres
from tests.upgrade.releases import load_into_postgres
from tests.upgrade.test_upgrade import instance, served_after_restore

pytestmark = [pytest.mark.db, pytest.mark.postgresql]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployed(database_url):
    """A server of its own with the documented roles and database `crm`, owned by crm_owner
    (in the PostgreSQL pass: the SQLite pass has no use for it)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's roles: run in the PostgreSQL pass")
    with throwaway_postgres(database="scratch") as url:
        server = sa.make_url(url)
        subprocess.run(
            [BIN / "psql" if (BIN / "psql").exists() else "psql", "-X", "-q",
             "-v", "ON_ERROR_STOP=1", "-v", "app_password='app-pw'",
             "-v", "owner_password='owner-pw'", "-h", server.host, "-p", str(server.port),
             "-U", "postgres", "-d", "scratch", "-f", ROOT / "deploy/postgres.sql"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield server


def as_role(server: sa.URL, role: str, database: str = "crm") -> str:
    return server.set(username=role, database=database).render_as_string(hide_password=False)


def test_a_backup_of_an_earlier_release_restores_under_the_documented_roles(
    deployed, release, tmp_path
):
    # The release's database and its backup, as that release's `backup create` made it (the
    # same archive: pg_dump --format=custom --no-owner of a snapshot, its counts, its files).
    old = f"old_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(as_role(deployed, "postgres", "scratch"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{old}"'))
    admin.dispose()
    old_app = instance(as_role(deployed, "postgres", old), tmp_path / "old", release)
    load_into_postgres(old_app, release, release.database(tmp_path / "release"))
    with old_app.app_context():
        backup = tasks.create_before_upgrade(tmp_path / "backups").path

    # An empty instance of this release, migrated by its owner, then the restore.
    owner = instance(as_role(deployed, "crm_owner"), tmp_path / "new", release,
                     DATABASE_APP_ROLE="crm_app")  # fmt: skip
    runner = owner.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    restored = runner.invoke(args=["backup", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0

    # The servers' role reads and writes, and may only read and append to the audit log.
    app = create_app(settings(as_role(deployed, "crm_app"), AUDIT_KEY=owner.config["AUDIT_KEY"],
                              MEDIA_DIR=str(tmp_path / "new/media")))  # fmt: skip
    served_after_restore(app, release)
    engine = sa.create_engine(as_role(deployed, "crm_app"))
    with engine.begin() as connection:
        assert connection.execute(sa.text("UPDATE visit SET summary = summary")).rowcount > 0
    for statement in ("DELETE FROM audit_entry", "UPDATE audit_entry SET summary = ''"):
        with engine.begin() as connection, pytest.raises(sa.exc.ProgrammingError, match="denied"):
            connection.execute(sa.text(statement))
    engine.dispose()
    with owner.app_context():
        assert tasks.app_role_problems("crm_app") == []
        owner.extensions["sqlalchemy"].engine.dispose()


def test_without_the_app_role_set_the_upgrade_says_what_it_did_not_do(deployed, tmp_path):
    """deploy/postgres.sql's default privileges name crm_app; with CRM_DATABASE_APP_ROLE unset
    the audit log keeps crm_app's UPDATE and DELETE, and the operator is told so."""
    owner = instance(as_role(deployed, "crm_owner"), tmp_path)
    upgraded = owner.test_cli_runner().invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "授予了 crm_app，但未设置 CRM_DATABASE_APP_ROLE" in upgraded.output
    with owner.app_context():
        assert "crm_app 仍能 DELETE audit_entry" in tasks.app_role_problems("crm_app")
        owner.extensions["sqlalchemy"].engine.dispose()
