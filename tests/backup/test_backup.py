"""Backups: made while visits are being posted, restored into an empty instance, holding every
visit acknowledged before the backup began; the nightly job keeps a set number of days."""

import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.backup import tasks
from crm.backup.models import BackupRecord, BackupStatus
from crm.core.kept import DataVersion
from crm.extensions import db
from crm.visits.models import Visit
from tests import factories as f
from tests.conftest import PASSWORD, settings
from tests.visits.conftest import visit_form

pytestmark = pytest.mark.postgresql  # backup and restore are made differently for each database


class Writer(threading.Thread):
    """Posts visits as the instructor's phone does, one after another, noting each one the
    server acknowledged and when."""

    def __init__(self, app, branch_id: int):
        super().__init__(daemon=True)
        self.client, self.branch_id = app.test_client(), branch_id
        self.acknowledged: list[tuple[str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        self.client.post("/login", data={"username": "zdy", "password": PASSWORD})
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            answer = self.client.post(f"/branches/{self.branch_id}/visits/new",
                                      data=visit_form(client_key=key))  # fmt: skip
            if answer.status_code in (302, 303):
                self.acknowledged.append((key, time.monotonic()))


def empty_instance(url: str, tmp_path: Path):
    """A second instance: its own database and folders, migrated and empty."""
    other = create_app(settings(url, MEDIA_DIR=str(tmp_path / "restored-media"),
                                REPORTS_DIR=str(tmp_path / "restored-reports")))  # fmt: skip
    return other


def restored_url(app, tmp_path: Path) -> str:
    """An empty database beside the test database: a new file, or a new PostgreSQL database."""
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        name = f"restored_{uuid.uuid4().hex[:8]}"
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return url.set(database=name).render_as_string(hide_password=False)


def restored_from(backup: Path, app, tmp_path: Path):
    """A new empty instance, migrated, with the backup restored into it by the command."""
    target = empty_instance(restored_url(app, tmp_path), tmp_path)
    runner = target.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    restored = runner.invoke(args=["backup", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    return target


def test_a_backup_taken_during_writes_restores_every_acknowledged_visit(app, runner, tmp_path):
    with app.app_context():
        assignment = f.AssignmentFactory(instructor__account__username="zdy")
        branch_id = assignment.branch_id
    writer = Writer(app, branch_id)
    writer.start()
    while len(writer.acknowledged) < 20:  # the stream is flowing
        time.sleep(0.05)
    began = time.monotonic()
    result = runner.invoke(args=["backup", "create", "--out", str(tmp_path / "backups")])
    after = len(writer.acknowledged)
    time.sleep(0.3)  # writes go on after the backup too
    writer.stop.set()
    writer.join()
    assert result.exit_code == 0, result.output
    assert "已校验" in result.output
    assert len(writer.acknowledged) > after  # the app kept serving
    before = {key for key, at in writer.acknowledged if at < began}
    assert len(before) >= 20

    (backup,) = (tmp_path / "backups").glob("crm-backup-*.tar.gz")
    target = restored_from(backup, app, tmp_path)
    target_runner = target.test_cli_runner()
    with target.app_context():
        keys = set(db.session.scalars(sa.select(Visit.client_key)))
        assert before <= keys
        verified = target_runner.invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output
        db.engine.dispose()


def test_restore_refuses_an_instance_that_has_data(app, runner, tmp_path):
    with app.app_context():
        f.BranchFactory()
    made = runner.invoke(args=["backup", "create", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    (backup,) = tmp_path.glob("crm-backup-*.tar.gz")
    refused = runner.invoke(args=["backup", "restore", str(backup)])
    assert refused.exit_code == 1
    assert "只能恢复到没有数据的实例" in refused.output


def test_a_file_that_is_not_a_backup_is_refused(runner, tmp_path):
    stray = tmp_path / "not-a-backup.tar.gz"
    stray.write_bytes(b"nothing")
    refused = runner.invoke(args=["backup", "restore", str(stray)])
    assert refused.exit_code == 1
    assert "不是本系统的备份文件" in refused.output


def test_a_restored_instance_takes_a_new_token_for_kept_figures(app, runner, tmp_path, world):
    """The backup holds the token its records had; a process that kept figures under it before
    must not serve them for the restored records (crm.core.kept)."""
    with app.app_context():
        backed_up = db.session.execute(sa.select(DataVersion.token)).scalar_one()
    assert runner.invoke(args=["backup", "create", "--out", str(tmp_path / "b")]).exit_code == 0
    (backup,) = (tmp_path / "b").glob("*.tar.gz")
    target = restored_from(backup, app, tmp_path)
    with target.app_context():
        assert db.session.execute(sa.select(DataVersion.token)).scalar_one() != backed_up
        assert db.session.get(Visit, world.visit_a) is not None  # the records did come back
        db.engine.dispose()
    with app.app_context():  # the backup itself changed nothing the figures read
        assert db.session.execute(sa.select(DataVersion.token)).scalar_one() == backed_up


def test_photos_and_pdfs_travel_with_the_backup(app, runner, tmp_path, world):
    with app.app_context():
        media = sorted(p.relative_to(app.config["MEDIA_DIR"])
                       for p in Path(app.config["MEDIA_DIR"]).rglob("*") if p.is_file())  # fmt: skip
    assert media
    assert runner.invoke(args=["backup", "create", "--out", str(tmp_path / "b")]).exit_code == 0
    (backup,) = (tmp_path / "b").glob("*.tar.gz")
    manifest = tasks.read_manifest(backup)
    assert manifest["files"]["media"]["count"] == len(media)
    assert manifest["files"]["reports"]["count"] == 1


def test_the_nightly_backup_runs_once_a_day_and_keeps_a_set_number_of_days(app, tmp_path):
    from crm.jobs.cli import backup_nightly

    with app.app_context():
        app.config.update(BACKUP_DIR=str(tmp_path), BACKUP_KEEP_DAYS=2)
        today = date(2026, 11, 27)
        for day in range(20, 28):
            assert backup_nightly(date(2026, 11, day)) is not None
        assert backup_nightly(today) is None  # a second scheduler, the same night
        tasks.prune(2, today=today)  # (each night's job has pruned already)
        records = db.session.scalars(sa.select(BackupRecord).order_by(BackupRecord.id)).all()
        kept = [r.scheduled_for.day for r in records if r.status is BackupStatus.DONE]
        files = sorted(tmp_path.glob("crm-backup-*.tar.gz"))
    assert kept == [26, 27]
    assert len(files) == 2


@pytest.mark.parametrize("wrong", ["a count", "a table unlisted"])
def test_a_restore_that_does_not_match_its_manifest_restores_nothing(
    app, runner, tmp_path, world, wrong
):
    """All or nothing: a backup whose rows differ from what its manifest says is refused, and
    the instance keeps no record and no file of it."""
    import json
    import tarfile

    assert runner.invoke(args=["backup", "create", "--out", str(tmp_path / "b")]).exit_code == 0
    (made,) = (tmp_path / "b").glob("*.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(made) as archive:
        archive.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text())
    if wrong == "a count":
        manifest["counts"]["visit"] += 1  # one visit more than the copy holds
    else:
        del manifest["counts"]["visit"]  # the copy holds a table the manifest does not name
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as archive:
        for item in sorted(unpacked.iterdir()):
            archive.add(item, arcname=item.name)

    target = empty_instance(restored_url(app, tmp_path), tmp_path)
    target_runner = target.test_cli_runner()
    assert target_runner.invoke(args=["db", "upgrade"]).exit_code == 0
    refused = target_runner.invoke(args=["backup", "restore", str(damaged)])

    assert refused.exit_code == 1
    assert "恢复出的行数与备份清单不符" in refused.output
    assert "未恢复" in refused.output
    with target.app_context():
        tables = sa.inspect(db.engine).get_table_names()
        if "visit" in tables:  # SQLite: the instance's own database, untouched
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
        else:  # PostgreSQL: the restored tables dropped again, the schema empty
            assert tables == []
        db.engine.dispose()
    for folder in ("restored-media", "restored-reports"):
        assert not [p for p in (tmp_path / folder).rglob("*") if p.is_file()]
