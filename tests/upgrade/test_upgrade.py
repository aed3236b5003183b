"""Upgrading a live city: every earlier release's database (its backup in releases/, made by its
own code) is upgraded to this release on SQLite and PostgreSQL, as `flask db upgrade` does it
(a backup first), and compared with what it held, column by column. Whatever a migration means
to change is listed below with the check that it changed as meant; anything else that differs
fails the test. At each release, its fixture is added (docs/upgrade.md)."""

import json
import re
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from tests.conftest import settings
from tests.upgrade.releases import (
    Release,
    differences,
    had_run,
    load_into_postgres,
    read_rows,
    releases,
    schema_objects,
)

pytestmark = [pytest.mark.db, pytest.mark.postgresql]  # each database migrates in its own way

RELEASES = releases()

# What the migrations mean to change in rows that were there, and why. Each is checked below.
CHANGES_AT_EVERY_WRITE = {("data_version", "token")}  # crm.core.kept: a new token per commit
DROPPED = {
    ("pairing", "status"): "b72d377b2a34: a pairing's status is derived from its end date",
}
REPLACED = {  # the old values kept in superseded_value
    ("problem", "closed_on"),  # b72d377b2a34: an open problem has no closed date
    # 7e8375a27405 brings the branch in step with its member list
    ("branch", "secretary_name"),
    ("branch", "secretary_phone"),
    ("branch", "member_count"),
}


def test_every_release_has_its_fixture():
    """Each release CHANGELOG.md names by its commit has its backup here (made at the release:
    docs/upgrade.md), holding visits and goal cards."""
    changelog = (Path(__file__).resolve().parents[2] / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \S+ — \S+ \(([0-9a-f]{7,})\)", changelog, re.M)
    assert len(released) >= 3
    assert set(released) <= {r.name for r in RELEASES}
    for release in RELEASES:
        assert release.counts["visit"] > 0, release
        assert release.counts["goal"] > 0, release


@pytest.fixture
def old_database(release, database_url, tmp_path) -> str:
    """A database of `release` with its records: its SQLite file, or on PostgreSQL a new
    database made by the migrations up to the release and filled with the same rows."""
    fixture = release.database(tmp_path / "release")
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{fixture}"
    url = _empty_database(database_url, tmp_path)
    load_into_postgres(create_app(settings(url)), release, fixture)
    return url


def instance(url: str, tmp_path: Path, release: Release | None = None, **overrides):
    folders = {
        "MEDIA_DIR": str(tmp_path / "media"),
        "REPORTS_DIR": str(tmp_path / "reports"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "AUDIT_CHECKPOINTS": str(tmp_path / "audit-checkpoints.jsonl"),
    }
    if release and release.audit_key:
        folders["AUDIT_KEY"] = release.audit_key
    return create_app(settings(url, **{**folders, **overrides}))


def snapshot(url: str):
    engine = sa.create_engine(url)
    try:
        return read_rows(engine)
    finally:
        engine.dispose()


def test_an_upgrade_keeps_every_row_and_value(release, old_database, tmp_path):
    before = snapshot(old_database)
    app = instance(old_database, tmp_path, release)
    runner = app.test_cli_runner()

    upgraded = runner.invoke(args=["db", "upgrade"])

    assert upgraded.exit_code == 0, upgraded.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    after = snapshot(old_database)
    unexpected = [
        d
        for d in differences(before, after)
        if d.table != "alembic_version"
        and (d.table, d.column) not in DROPPED
        and (d.table, d.column) not in REPLACED
        and (d.table, d.column) not in CHANGES_AT_EVERY_WRITE
    ]
    assert unexpected == []
    _check_replaced_values_were_kept(release, before, after)
    _check_pairings_keep_their_end(before, after)
    _check_corrections_made_before_the_log(before, after)
    _check_closed_months_read_as_before(app, release, before)
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # The backup `db upgrade` made first holds the database as it was, and is recorded.
    (backup,) = (tmp_path / "backups").glob("crm-backup-*-before-upgrade.tar.gz")
    assert str(backup) in upgraded.output
    rows = after["backup_record"].values()
    assert [r["path"] for r in rows if r["path"] == str(backup)] == [str(backup)]
    assert any("升级前备份" in (e["summary"] or "") for e in after["audit_entry"].values())


def _check_replaced_values_were_kept(release, before, after):
    kept = {
        (r["table_name"], r["row_id"], r["column_name"]): (r["old_value"], r["new_value"])
        for r in after["superseded_value"].values()
    }
    changed = 0
    for table, column in REPLACED:
        if column not in next(iter(before[table].values()), {}):
            continue
        for (row_id,), row in before[table].items():
            now = after[table][(row_id,)][column]
            if now == row[column]:
                assert (table, row_id, column) not in kept
                continue
            changed += 1
            as_text = [None if v is None else str(v) for v in (row[column], now)]
            assert kept[(table, row_id, column)] == tuple(as_text), (table, row_id, column)
    if not had_run(release, "7e8375a27405"):
        assert changed > 0  # this release's data had values to bring in step: they were kept
    # each migration's replacements have their audit entry, written by `db upgrade`
    assert all(r["audited_at"] is not None for r in after["superseded_value"].values())
    if kept:
        assert any(e["action"] == "db.superseded" for e in after["audit_entry"].values())


def _check_pairings_keep_their_end(before, after):
    for key, row in before["pairing"].items():
        if row.get("status") == "ended":
            assert after["pairing"][key]["ended_on"] is not None, key


def _check_corrections_made_before_the_log(before, after):
    """A visit sent back and then corrected on a release without corrected_at counts as
    corrected (the annual assessment reads it), not as never corrected."""
    for key, comment in after["visit_comment"].items():
        if not comment["returned"]:
            continue
        visit = after["visit"][(comment["visit_id"],)]
        if key in before["visit_comment"] and "corrected_at" not in before["visit_comment"][key]:
            assert (comment["corrected_at"] is not None) == (visit["returned_at"] is None), key
            assert comment["corrected_at"] is None or comment["corrected_at"] >= comment["at"]


def _check_closed_months_read_as_before(app, release, before):
    """Instructors in post and pairings in force at the end of each of the last months read
    as the release counted them: by their dates alone before 0.3, as entered from 0.3 on
    (records entered as history count by their dates: the go-live import)."""
    from datetime import date, timedelta

    from crm.extensions import db
    from crm.instructors.models import Instructor
    from crm.instructors.services import in_post_at
    from crm.pairings.models import Pairing
    from crm.pairings.services import in_force_at

    by_dates_only = not had_run(release, "b72d377b2a34")
    month_end = date.today().replace(day=1) - timedelta(days=1)
    for _ in range(3):
        last = month_end.isoformat()
        entered = f"{last} 16:00:00"  # 赣州's midnight after the month's last day, in UTC
        in_post = sum(
            1
            for i in before["instructor"].values()
            if i["hired_on"] <= last
            and (_left_on(i) is None or _left_on(i) > last)
            and (by_dates_only or i["created_at"] < entered)
        )
        in_force = sum(
            1
            for p in before["pairing"].values()
            if p["started_on"] <= last
            and (p.get("ended_on") is None or p["ended_on"] > last)
            and (by_dates_only or p["created_at"] < entered)
        )
        with app.app_context():
            counted = [
                db.session.scalar(sa.select(sa.func.count()).select_from(model).where(rule))
                for model, rule in (
                    (Instructor, in_post_at(month_end)),
                    (Pairing, in_force_at(month_end)),
                )
            ]
        assert counted == [in_post, in_force], (month_end, by_dates_only)
        month_end = month_end.replace(day=1) - timedelta(days=1)


def _left_on(instructor: dict) -> str | None:
    """The day an instructor left; before left_on was kept, the day a 离岗 status was set."""
    if "left_on" in instructor:
        return instructor["left_on"]
    return instructor["updated_at"][:10] if instructor["status"] == "left" else None


def test_an_upgraded_database_has_every_trigger_constraint_and_index_of_a_new_one(
    release, old_database, database_url, tmp_path
):
    fresh_url = _empty_database(database_url, tmp_path)
    assert (
        instance(fresh_url, tmp_path / "fresh")
        .test_cli_runner()
        .invoke(args=["db", "upgrade"])
        .exit_code
        == 0
    )
    upgraded = instance(old_database, tmp_path, release).test_cli_runner()
    assert upgraded.invoke(args=["db", "upgrade", "--no-backup"]).exit_code == 0
    engines = [sa.create_engine(url) for url in (fresh_url, old_database)]
    try:
        fresh, after = (schema_objects(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert fresh - after == set()  # nothing a new database has is missing
    assert after - fresh == set()  # and nothing is left over


def _empty_database(database_url: str, tmp_path: Path) -> str:
    """A new empty database beside the test database: a file, or a database on its server."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    name = f"upgrade_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(database_url).set(database=name).render_as_string(hide_password=False)


def test_a_value_a_migration_clears_is_kept(tmp_path):
    """A release before 0.3 let an open problem keep a closed date (reopened); b72d377b2a34
    clears it, as 0.3's rule says, and keeps it in superseded_value."""
    (release,) = [r for r in RELEASES if not had_run(r, "b72d377b2a34")][:1]
    fixture = release.database(tmp_path / "release")
    with sqlite3.connect(fixture) as connection:
        problem_id, raised_on = connection.execute(
            "SELECT id, raised_on FROM problem WHERE status NOT IN ('solved', 'unsolvable')"
            " ORDER BY id LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE problem SET closed_on = ? WHERE id = ?", (raised_on, problem_id))
    url = f"sqlite:///{fixture}"
    runner = instance(url, tmp_path, release).test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "--no-backup"]).exit_code == 0
    after = snapshot(url)
    assert after["problem"][(problem_id,)]["closed_on"] is None
    kept = [
        (r["revision"], r["old_value"], r["new_value"])
        for r in after["superseded_value"].values()
        if (r["table_name"], r["row_id"], r["column_name"]) == ("problem", problem_id, "closed_on")
    ]
    assert kept == [("b72d377b2a34", raised_on, None)]


def test_a_downgrade_back_to_the_release_keeps_every_row(release, old_database, tmp_path):
    """Not the way back for a live city (docs/upgrade.md: restore the backup), but a downgrade
    to the release's own revision must not lose a row of it: it runs as one transaction, and
    what it cannot give back (the values 7e8375a27405 replaced) stays in superseded_value."""
    before = snapshot(old_database)
    runner = instance(old_database, tmp_path, release).test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "--no-backup"]).exit_code == 0

    down = runner.invoke(args=["db", "downgrade", release.revision])

    assert down.exit_code == 0, down.output
    unexpected = [
        d
        for d in differences(before, snapshot(old_database))
        if (d.table, d.column) not in REPLACED | CHANGES_AT_EVERY_WRITE
    ]
    assert unexpected == []


def test_an_upgrade_refuses_to_start_without_its_backup(release, old_database, tmp_path):
    in_the_way = tmp_path / "not-a-folder"
    in_the_way.write_text("")
    app = instance(old_database, tmp_path, release, BACKUP_DIR=str(in_the_way))
    before = snapshot(old_database)

    refused = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert refused.exit_code == 1
    assert f"备份失败，未升级：备份文件夹 {in_the_way} 不可用" in refused.output
    assert snapshot(old_database) == before  # not migrated
    skipped = app.test_cli_runner().invoke(args=["db", "upgrade", "--no-backup"])
    assert skipped.exit_code == 0, skipped.output


def test_a_failed_upgrade_leaves_the_database_as_it_was(release, tmp_path):
    """SQLite: a row pointing at nothing (foreign keys are off while migrating) fails the check
    before the commit; the whole upgrade is one transaction, so nothing of it stays."""
    fixture = release.database(tmp_path / "release")
    with sqlite3.connect(fixture) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("UPDATE goal SET card_id = 999999 WHERE id = (SELECT min(id) FROM goal)")
    url = f"sqlite:///{fixture}"
    before = snapshot(url)

    failed = (
        instance(url, tmp_path, release)
        .test_cli_runner()
        .invoke(args=["db", "upgrade", "--no-backup"])
    )

    assert failed.exit_code == 1
    assert snapshot(url) == before


def test_a_backup_of_an_earlier_release_restores_and_serves(release, tmp_path):
    """Into an empty instance of this release (SQLite; PostgreSQL under the documented roles
    in test_restore_postgres.py): restored, migrated, and the app reads and writes."""
    target = instance(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path, release)
    runner = target.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    restored = runner.invoke(args=["backup", "restore", str(release.archive)])

    assert restored.exit_code == 0, restored.output
    assert "已迁移到本版本" in restored.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    served_after_restore(target, release)
    media = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(media) == _files_in(release, "media")
    after = snapshot(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    # What db upgrade does after migrating, the restore does too: replaced values audited.
    assert all(r["audited_at"] is not None for r in after["superseded_value"].values())
    if after["superseded_value"]:
        assert any(e["action"] == "db.superseded" for e in after["audit_entry"].values())
    # The archive's own record, running when its database was copied, is this file, done.
    assert {r["status"] for r in after["backup_record"].values()} <= {"done", "failed", "pruned"}
    assert [r["path"] for r in after["backup_record"].values() if r["status"] == "done"] == [
        str(release.archive)
    ]


def test_a_backup_signed_under_another_key_is_refused_unless_the_key_is_lost(tmp_path):
    """The audit log's MACs and the sealed second-factor secrets need the key the backup was
    made under; restored under another, the log would read as forged."""
    (release,) = [r for r in RELEASES if r.audit_key][-1:]
    target = instance(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path, AUDIT_KEY="another-key")
    runner = target.test_cli_runner()

    refused = runner.invoke(args=["backup", "restore", str(release.archive)])

    assert refused.exit_code == 1
    assert "不是用本实例的密钥签名的" in refused.output
    assert not (tmp_path / "new.sqlite3").exists() or not snapshot(
        f"sqlite:///{tmp_path / 'new.sqlite3'}"
    ).get("visit")
    forced = runner.invoke(args=["backup", "restore", str(release.archive), "--without-audit-key"])
    assert forced.exit_code == 0, forced.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 1
    lines = verified.output.splitlines()
    assert len(lines) < 60  # the faults named up to a bound, then counted
    assert any(line.startswith("……另有") for line in lines)


@pytest.mark.parametrize("damage", ["cut short", "bytes changed"])
def test_a_damaged_backup_is_said_to_be_damaged(damage, tmp_path):
    (release,) = RELEASES[:1]
    body = bytearray(release.archive.read_bytes())
    if damage == "cut short":
        body = body[: len(body) // 2]
    else:
        body[len(body) // 2 : len(body) // 2 + 64] = bytes(64)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(body))
    target = instance(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path, release)
    runner = target.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    refused = runner.invoke(args=["backup", "restore", str(damaged)])

    assert refused.exit_code == 1
    assert "已损坏" in refused.output
    assert "Traceback" not in refused.output
    assert not snapshot(f"sqlite:///{tmp_path / 'new.sqlite3'}")["visit"]


def test_a_backup_that_runs_out_of_disk_says_so_and_leaves_nothing(release, tmp_path):
    """A full disk during the backup db upgrade makes first: refused with the reason, no
    partial archive left on the full disk, nothing migrated."""
    with small_disk(tmp_path / "small", "size=64k") as small:
        url = f"sqlite:///{release.database(tmp_path / 'release')}"
        before = snapshot(url)
        refused = (
            instance(url, tmp_path, release, BACKUP_DIR=str(small))
            .test_cli_runner()
            .invoke(args=["db", "upgrade"])
        )
        assert refused.exit_code == 1
        assert "备份失败，未升级：备份未完成" in refused.output
        assert "Traceback" not in refused.output
        assert list(small.iterdir()) == []
        assert snapshot(url) == before


def _files_in(release: Release, folder: str) -> int:
    import tarfile

    with tarfile.open(release.archive, "r:gz") as archive:
        return sum(
            1 for m in archive.getmembers() if m.isfile() and m.name.startswith(f"{folder}/")
        )


def served_after_restore(app, release: Release) -> None:
    """An instructor of the restored records signs in (a write: the audit log, the session),
    sees their home page and a branch of theirs."""
    with app.app_context():
        from crm.extensions import db

        username, branch_id = db.session.execute(
            sa.text(
                "SELECT a.username, s.branch_id FROM account a"
                " JOIN instructor i ON i.account_id = a.id"
                " JOIN assignment s ON s.instructor_id = i.id AND s.ended_on IS NULL"
                " WHERE a.active ORDER BY a.id LIMIT 1"
            )
        ).one()
        db.session.remove()
    client = app.test_client()
    signed_in = client.post(
        "/login", data={"username": username, "password": app.config["DEMO_PASSWORD"]}
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert home.request.path not in ("/login", "/account/password"), home.request.path
    assert client.get(f"/branches/{branch_id}").status_code == 200


@contextmanager
def small_disk(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `folder` with mount's `options` (a size, ro), unmounted after; the
    test is skipped where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a disk here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def _repacked(release: Release, tmp_path: Path, change) -> Path:
    """The release's backup with its contents changed by `change(folder)`, packed again."""
    import tarfile

    folder = tmp_path / "unpacked"
    with tarfile.open(release.archive) as archive:
        archive.extractall(folder, filter="data")
    change(folder)
    repacked = tmp_path / "changed.tar.gz"
    with tarfile.open(repacked, "w:gz") as archive:
        for item in sorted(folder.iterdir()):
            archive.add(item, arcname=item.name)
    return repacked


def _empty_instance_runner(tmp_path: Path, release: Release):
    target = instance(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path, release)
    runner = target.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    return runner


def _still_empty(tmp_path: Path) -> bool:
    database = tmp_path / "new.sqlite3"
    rows = snapshot(f"sqlite:///{database}") if database.exists() else {}
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    return not rows.get("visit") and not rows.get("account") and not files


def test_a_restore_that_cannot_be_migrated_is_undone(tmp_path):
    """A backup whose rows break a foreign key (which the old release let through) restores,
    fails to migrate, and is taken out again: the instance is empty, and a good backup then
    restores into it."""
    (release,) = RELEASES[:1]

    def orphan(folder):
        with sqlite3.connect(folder / "database.sqlite3") as connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            connection.execute(
                "UPDATE goal SET card_id = 999999 WHERE id = (SELECT min(id) FROM goal)"
            )

    runner = _empty_instance_runner(tmp_path, release)
    failed = runner.invoke(args=["backup", "restore", str(_repacked(release, tmp_path, orphan))])

    assert failed.exit_code == 1
    assert "已撤销恢复：本实例仍是空的" in failed.output
    assert _still_empty(tmp_path)
    again = runner.invoke(args=["backup", "restore", str(release.archive)])
    assert again.exit_code == 0, again.output


def test_a_backup_of_a_later_release_is_refused(tmp_path):
    (release,) = RELEASES[:1]

    def later(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["revision"] = "ffffffffffff"
        (folder / "manifest.json").write_text(json.dumps(manifest))

    runner = _empty_instance_runner(tmp_path, release)
    refused = runner.invoke(args=["backup", "restore", str(_repacked(release, tmp_path, later))])

    assert refused.exit_code == 1
    assert "这份备份来自较新的版本" in refused.output
    assert _still_empty(tmp_path)


@pytest.mark.parametrize("damage", ["database damaged", "not a database", "no database"])
def test_a_backup_whose_database_is_damaged_is_refused(damage, tmp_path):
    (release,) = RELEASES[:1]

    def spoil(folder):
        database = folder / "database.sqlite3"
        if damage == "no database":
            database.unlink()
        elif damage == "not a database":
            database.write_bytes(bytes(range(256)) * 64)
        else:
            body = bytearray(database.read_bytes())
            body[8192 : 8192 + 16384] = bytes(16384)
            database.write_bytes(bytes(body))

    runner = _empty_instance_runner(tmp_path, release)
    refused = runner.invoke(args=["backup", "restore", str(_repacked(release, tmp_path, spoil))])

    assert refused.exit_code == 1
    assert "未恢复" in refused.output
    assert "Traceback" not in refused.output
    assert _still_empty(tmp_path)


def test_a_backup_onto_a_read_only_disk_says_so(tmp_path):
    (release,) = RELEASES[:1]
    with small_disk(tmp_path / "ro", "ro,size=64k") as read_only:
        url = f"sqlite:///{release.database(tmp_path / 'release')}"
        runner = instance(url, tmp_path, release, BACKUP_DIR=str(read_only)).test_cli_runner()
        refused = runner.invoke(args=["db", "upgrade"])
        assert refused.exit_code == 1
        assert "备份失败，未升级" in refused.output
        assert "Traceback" not in refused.output
