"""Making, checking and restoring a backup: tasks, each committing its own record (a command or
the scheduler starts them).

A backup is one file, `crm-backup-YYYYMMDD-HHMMSS.tar.gz`, holding:
- `database.sqlite3` (SQLite's `VACUUM INTO`: one read transaction, so a consistent copy while
  the app keeps writing) or `database.dump` (`pg_dump -Fc` on a snapshot exported from our own
  REPEATABLE READ transaction, so the row counts taken in it match the dump exactly);
- `media/` and `reports/`: the stored photos and PDFs. They are copied after the database: a
  photo is written before its record commits, so every file the copied database names exists;
- `manifest.json`: when, which database and schema revision, the row count of every table and
  the files' count and bytes. The copy is checked (SQLite's integrity check; `pg_restore --list`)
  and its counts recorded before the file is kept.
"""

import errno
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from crm import clock
from crm.audit import anchors, chain
from crm.audit import services as audit
from crm.backup.models import BackupRecord, BackupStatus, SupersededValue
from crm.core import kept
from crm.db import utcnow
from crm.extensions import db
from crm.rules import RuleError

FORMAT = 1
NAME_FORMAT = "crm-backup-%Y%m%d-%H%M%S"
KEPT_BY_MIGRATIONS = {"district", "alembic_version", "data_version"}  # an empty instance's rows


class BackupError(RuleError):
    """A backup or restore refused or failed; the message is for the operator, in Chinese."""


@dataclass(frozen=True)
class Made:
    record_id: int | None  # None: made before an upgrade, recorded after it (record_made)
    path: Path
    size: int
    counts: dict[str, int]


def backup_dir() -> Path:
    return Path(current_app.config["BACKUP_DIR"])


def pg_bin(name: str) -> str:
    """A PostgreSQL client program of the server's version when it is installed, else PATH's."""
    folder = Path(current_app.config["PG_BIN"])
    return str(folder / name) if (folder / name).exists() else name


# --- making ---------------------------------------------------------------------------------


def create(out_dir: Path | None = None, *, scheduled_for: date | None = None) -> Made | None:
    """Make, check and record a backup; None when the nightly one for that day is taken."""
    out_dir = _folder(out_dir)
    record_id = _begin(scheduled_for)
    if record_id is None:
        return None
    try:
        made = _make(out_dir, record_id)
    except Exception as error:
        db.session.rollback()
        _finish(record_id, status=BackupStatus.FAILED, error=str(error)[:500])
        raise
    _finish(
        record_id,
        status=BackupStatus.DONE,
        path=str(made.path),
        size=made.size,
        sha256=_sha256(made.path),
        counts=made.counts,
    )
    return made


def _folder(out_dir: Path | None) -> Path:
    folder = Path(out_dir or backup_dir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"备份文件夹 {folder} 不可用：{error.strerror or error}") from error
    return folder


def _begin(scheduled_for: date | None) -> int | None:
    try:
        record = BackupRecord(scheduled_for=scheduled_for)
        db.session.add(record)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return record.id


def _finish(record_id: int, why: str = "", **values: Any) -> None:
    record = db.session.get(BackupRecord, record_id)
    for key, value in values.items():
        setattr(record, key, value)
    record.finished_at = utcnow()
    if record.status is BackupStatus.DONE:
        audit.record(
            "backup.create",
            object_type="backup_record",
            object_id=record.id,
            summary=f"{why}备份 {Path(record.path).name}，{record.size:,} 字节",
        )
    db.session.commit()


def create_before_upgrade(out_dir: Path | None = None) -> Made:
    """Back up a database of any earlier release before it is migrated: the same archive, made
    without this release's tables (no record, no audit checkpoint, which need them); the caller
    records it with record_made() once the schema is this release's."""
    out_dir = _folder(out_dir)
    return _make(out_dir, None, label="before-upgrade")


def record_made(made: Made, *, why: str) -> None:
    """Record a backup made without a record (before an upgrade), with its audit entry."""
    record = BackupRecord(status=BackupStatus.DONE)
    db.session.add(record)
    db.session.flush()
    _finish(
        record.id,
        path=str(made.path),
        size=made.size,
        sha256=_sha256(made.path),
        counts=made.counts,
        why=why,
    )


def audit_superseded() -> int:
    """The audit entry of each migration's replaced values (SupersededValue), once: migrations
    keep the old values but cannot write the audit log, whose MACs need the app's key."""
    column = (SupersededValue.revision, SupersededValue.table_name, SupersededValue.column_name)
    waiting = SupersededValue.audited_at.is_(None)
    groups = db.session.execute(
        sa.select(*column, sa.func.count()).where(waiting).group_by(*column).order_by(*column)
    ).all()
    for revision, table, name, count in groups:
        audit.record(
            "db.superseded",
            object_type=table,
            summary=f"升级（迁移 {revision}）改写了 {count:,} 条记录的 {table}.{name}，原值保存在 superseded_value",
        )
    db.session.execute(sa.update(SupersededValue).where(waiting).values(audited_at=utcnow()))
    db.session.commit()
    return len(groups)


def _make(out_dir: Path, record_id: int | None, *, label: str = "") -> Made:
    """Make the archive. Whatever fails on the way (a full disk, a database that cannot be
    read) is a BackupError saying what, and leaves no partial archive behind."""
    stamp = f"{utcnow():{NAME_FORMAT}}-{record_id or label}"
    partial = out_dir / f"{stamp}.partial"
    try:
        return _make_in(out_dir, stamp, partial, record_id)
    except BackupError:
        raise
    except (OSError, sqlite3.Error, sa.exc.SQLAlchemyError, tarfile.TarError) as error:
        raise BackupError(f"备份未完成：{_plain(error)}") from error
    finally:
        with suppress(OSError):  # a read-only disk: the error above says why
            partial.unlink(missing_ok=True)


def _plain(error: BaseException) -> str:
    """An error's own words, without SQLAlchemy's statement and background link."""
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0][:300] if text else type(error).__name__


def _make_in(out_dir: Path, stamp: str, partial: Path, record_id: int | None) -> Made:
    with tempfile.TemporaryDirectory(prefix=".crm-backup-", dir=out_dir) as work_dir:
        work = Path(work_dir)
        if record_id is not None:
            # The audit chain's head, signed, outside the database and into the backup with it.
            anchors.write_checkpoint(db.session)
        database, revision, counts = _copy_database(work)
        if anchors.checkpoint_file().exists():
            shutil.copy2(anchors.checkpoint_file(), work / "audit-checkpoints.jsonl")
        files = {
            name: _copy_files(Path(current_app.config[setting]), work / name)
            for name, setting in (("media", "MEDIA_DIR"), ("reports", "REPORTS_DIR"))
        }
        manifest = {
            "format": FORMAT,
            "made_at": utcnow().isoformat(),
            "record_id": record_id,
            "database": database,
            "revision": revision,
            "counts": counts,
            "files": files,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        target = out_dir / f"{stamp}.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
            for item in sorted(work.iterdir()):
                archive.add(item, arcname=item.name)
        os.replace(partial, target)  # a half-written backup never has the final name
    read_manifest(target)  # it opens and says what it holds
    return Made(record_id, target, target.stat().st_size, counts)


def _copy_database(work: Path) -> tuple[str, str | None, dict[str, int]]:
    if db.engine.dialect.name == "sqlite":
        return _copy_sqlite(work / "database.sqlite3")
    return _copy_postgres(work / "database.dump")


def _copy_sqlite(target: Path) -> tuple[str, str | None, dict[str, int]]:
    source = db.engine.url.database
    with closing(_sqlite(source)) as connection:
        connection.execute("VACUUM INTO ?", (str(target),))
    engine = sa.create_engine(f"sqlite:///{target}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as copy:
            verdict = copy.exec_driver_sql("PRAGMA integrity_check").scalar()
            if verdict != "ok":
                raise BackupError(f"备份的数据库未通过完整性检查：{verdict}")
            counts, revision = _count_rows(copy), _revision(copy)
    finally:
        engine.dispose()
    return "sqlite", revision, counts


def _copy_postgres(target: Path) -> tuple[str, str | None, dict[str, int]]:
    engine = db.engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as connection, connection.begin():
        snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        counts, revision = _count_rows(connection), _revision(connection)
        _run(
            pg_bin("pg_dump"),
            "--format=custom",
            f"--snapshot={snapshot}",
            "--no-owner",
            "--file",
            target,
            _libpq_url(),
        )
    _run(pg_bin("pg_restore"), "--list", target)  # the dump reads back
    return "postgresql", revision, counts


def _copy_files(source: Path, target: Path) -> dict[str, int]:
    """Copy a folder of stored files; files that vanish meanwhile (the sweep) are skipped."""
    count = size = 0
    for path in sorted(source.rglob("*")) if source.exists() else ():
        if not path.is_file():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, destination)
        except FileNotFoundError:
            continue
        count, size = count + 1, size + destination.stat().st_size
    return {"count": count, "bytes": size}


def _tables(connection: sa.Connection) -> list[str]:
    """The tables the database holds, whichever release made them: a backup taken before an
    upgrade, or restored from an earlier release, has not this release's tables."""
    return sorted(sa.inspect(connection).get_table_names())


def _count_rows(connection: sa.Connection) -> dict[str, int]:
    return {
        name: connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(name))
        ).scalar_one()
        for name in _tables(connection)
    }


def _revision(connection: sa.Connection) -> str | None:
    version = sa.table("alembic_version", sa.column("version_num"))
    return connection.execute(sa.select(version.c.version_num)).scalar()


# --- reading and restoring ------------------------------------------------------------------


# What reading a damaged or cut-off archive raises (gzip's and zlib's own errors among them).
UNREADABLE = (OSError, EOFError, zlib.error, tarfile.TarError, KeyError, ValueError)


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except UNREADABLE:
        manifest = None
    if not manifest or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} 不是本系统的备份文件，或已损坏。")
    return manifest


def _unpack(path: Path, work: Path) -> None:
    try:
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(work, filter="data")
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise BackupError(f"{path} 已损坏，无法读出（{_plain(error)}）；未恢复。") from error
        raise BackupError(
            f"{work} 所在的磁盘空间不足，解不开备份（约需数据库大小的空间）；备份本身未必有问题。未恢复。"
        ) from error
    except UNREADABLE as error:
        raise BackupError(f"{path} 已损坏，无法读出（{_plain(error)}）；未恢复。") from error


def restore(path: Path, *, check_key: bool = True) -> dict[str, Any]:
    """Restore a backup of this or any earlier release into this instance, which must hold no
    records and no stored files. Returns the manifest. All or nothing: the restored database's
    row counts are checked against the manifest before it replaces the instance's (SQLite) or
    it is dropped again (PostgreSQL), and the photos and PDFs are copied only then. The audit
    log must be signed under this instance's key (check_key: the backup's newest signed entry
    is checked), else its MACs and the sealed second-factor secrets read as forged. The caller
    then migrates the database to this release and calls after_restore()."""
    manifest = read_manifest(path)
    dialect = db.engine.dialect.name
    if manifest["database"] != dialect:
        raise BackupError(f"这份备份来自 {manifest['database']}，不能恢复到 {dialect}。")
    if manifest["revision"] and not _known(manifest["revision"]):
        raise BackupError(
            f"这份备份来自较新的版本（数据库结构 {manifest['revision']}），本版本不认识；"
            "请用做备份的版本或更新的版本恢复。未恢复。"
        )
    _refuse_unless_empty()
    manifest["notes"] = []
    # Unpacked on the disk it is restored to (the database's own folder for SQLite), not the
    # system's temporary folder, which may be too small for it.
    with tempfile.TemporaryDirectory(prefix=".crm-restore-", dir=_unpack_folder()) as work_dir:
        work = Path(work_dir)
        _unpack(path, work)
        if not (work / ("database.sqlite3" if dialect == "sqlite" else "database.dump")).exists():
            raise BackupError(f"{path} 里没有数据库文件，不是完整的备份；未恢复。")
        db.session.remove()
        if dialect == "sqlite":
            _restore_sqlite(work / "database.sqlite3", manifest["counts"], check_key)
        else:
            _restore_postgres(work / "database.dump", manifest["counts"], check_key)
        for name, setting in (("media", "MEDIA_DIR"), ("reports", "REPORTS_DIR")):
            if (work / name).exists():
                shutil.copytree(work / name, current_app.config[setting], dirs_exist_ok=True)
        checkpoints = anchors.checkpoint_file()
        if (work / "audit-checkpoints.jsonl").exists():
            if checkpoints.exists() and checkpoints.stat().st_size:
                manifest["notes"].append(
                    f"本实例已有审计检查点文件 {checkpoints}，未用备份里的检查点替换它；"
                    "若其中记到比备份更晚的条目，flask audit verify 会报告日志末尾被截去。"
                )
            else:
                checkpoints.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(work / "audit-checkpoints.jsonl", checkpoints)
                manifest["notes"].append(f"备份里的审计检查点已放到 {checkpoints}。")
    return manifest


def _known(revision: str) -> bool:
    """Whether this release's migrations know the schema revision (a backup of a later
    release does not migrate down)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = current_app.extensions["migrate"].migrate.get_config()
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def _unpack_folder() -> Path:
    if db.engine.dialect.name == "sqlite":
        folder = Path(db.engine.url.database).resolve().parent
    else:
        folder = backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def undo_restore(manifest: dict[str, Any]) -> None:
    """After a restored database failed to migrate: the instance empty again, as it was
    (restore() refuses any other): its database, photos, PDFs and the checkpoints it took."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        target = Path(db.engine.url.database)
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        _drop_everything()
    for setting in ("MEDIA_DIR", "REPORTS_DIR"):
        shutil.rmtree(current_app.config[setting], ignore_errors=True)
    if any("已放到" in note for note in manifest.get("notes", ())):
        anchors.checkpoint_file().unlink(missing_ok=True)


def _check_restored(connection: sa.Connection, expected: dict[str, int], check_key: bool) -> None:
    try:
        if connection.dialect.name == "sqlite":
            verdict = connection.exec_driver_sql("PRAGMA quick_check").scalar()
            if verdict != "ok":
                raise BackupError(f"备份中的数据库已损坏（{verdict}）；未恢复。")
        counts = _count_rows(connection)
    except sa.exc.DBAPIError as error:
        raise BackupError(
            f"备份中的数据库已损坏或不是数据库（{_plain(error)}）；未恢复。"
        ) from error
    wrong = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    wrong |= {t: (None, n) for t, n in counts.items() if t not in expected}  # a table unlisted
    if wrong:
        raise BackupError(f"恢复出的行数与备份清单不符（表：备份时，恢复后）：{wrong}；未恢复。")
    if check_key and not _signed_here(connection):
        raise BackupError(
            "这份备份的审计日志不是用本实例的密钥签名的：请把备份时的 audit_key 放到本实例"
            "（CRM_AUDIT_KEY_FILE 或 CRM_AUDIT_KEY）后再恢复。密钥确已丢失时加 --without-audit-key："
            "此后审计日志只能核对哈希链，已绑定的动态口令须重新绑定。未恢复。"
        )


def _signed_here(connection: sa.Connection) -> bool:
    """Whether the backup's newest signed audit entry has this instance's MAC (a release
    before the MACs signed none: nothing to check)."""
    inspector = sa.inspect(connection)
    if "audit_entry" not in inspector.get_table_names():
        return True
    if "mac" not in {c["name"] for c in inspector.get_columns("audit_entry")}:
        return True
    newest = connection.execute(
        sa.text("SELECT hash, mac FROM audit_entry WHERE mac IS NOT NULL ORDER BY id DESC LIMIT 1")
    ).first()
    return newest is None or hmac.compare_digest(newest.mac, chain.sign(newest.hash))


def after_restore(manifest: dict[str, Any], path: Path) -> None:
    """Once the restored database is this release's: a new token for kept figures (the records
    came back with the one they had when the backup was made), and the backups it records as
    they are now: its own record (the archive was being made when the database was copied)
    done, as this file, and any other still running then never finished."""
    kept.renew()
    for record in db.session.scalars(
        sa.select(BackupRecord).where(BackupRecord.status == BackupStatus.RUNNING)
    ):
        if record.id == manifest.get("record_id"):
            record.status, record.path = BackupStatus.DONE, str(path)
            record.size, record.sha256 = path.stat().st_size, _sha256(path)
            record.counts = manifest["counts"]
            record.finished_at = datetime.fromisoformat(manifest["made_at"])
        else:
            record.status, record.error = BackupStatus.FAILED, "备份进行中时数据库被复制，未完成"
            record.finished_at = utcnow()
    db.session.commit()


def filled_tables() -> list[str]:
    """The tables that hold records (those an empty instance's migrations fill aside)."""
    present = set(sa.inspect(db.engine).get_table_names())
    filled = [
        name
        for name in sorted(present - KEPT_BY_MIGRATIONS)
        if db.session.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first()
    ]
    db.session.rollback()
    return filled


def _refuse_unless_empty() -> None:
    filled = filled_tables()
    if filled:
        raise BackupError(
            f"只能恢复到没有数据的实例：数据库里已有数据（{', '.join(filled[:5])} 等）。"
        )
    for setting in ("MEDIA_DIR", "REPORTS_DIR"):
        folder = Path(current_app.config[setting])
        if folder.exists() and any(p.is_file() for p in folder.rglob("*")):
            raise BackupError(f"只能恢复到没有数据的实例：{folder} 里已有文件。")


def _restore_sqlite(copy: Path, counts: dict[str, int], check_key: bool) -> None:
    """The copy is checked where it was unpacked; only then does it replace the database."""
    engine = sa.create_engine(f"sqlite:///{copy}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            _check_restored(connection, counts, check_key)
    except sa.exc.DBAPIError as error:  # not even opened as a database
        raise BackupError(
            f"备份中的数据库已损坏或不是数据库（{_plain(error)}）；未恢复。"
        ) from error
    finally:
        engine.dispose()
    target = Path(db.engine.url.database)
    db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The copy was unpacked beside the database: a rename, no second copy on the disk.
    try:
        os.replace(copy, target)
    except OSError as error:
        raise BackupError(f"无法把恢复的数据库放到 {target}：{_plain(error)}；未恢复。") from error


def _restore_postgres(dump: Path, counts: dict[str, int], check_key: bool) -> None:
    """The instance is empty (checked): drop what its migrations made, then load the dump in
    one transaction, and check it (dropped again if it does not match: the instance is left
    empty, as it was, to be migrated or restored into again).
    The schema itself stays, with the grants and default privileges the operator gave it
    (deploy/postgres.sql): dropping and recreating it would take them, and the app's role
    could read nothing afterwards."""
    _drop_everything()
    _run(
        pg_bin("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        _libpq_url(),
        dump,
    )
    try:
        with db.engine.connect() as connection:
            _check_restored(connection, counts, check_key)
    except BackupError:
        _drop_everything()
        raise


def _drop_everything() -> None:
    with db.engine.begin() as connection:
        for statement in _drops(connection):
            connection.execute(sa.text(statement))
    db.engine.dispose()


def _drops(connection: sa.Connection) -> list[str]:
    """DROP statements for every table, view, sequence, type and function in schema public."""
    objects = connection.execute(
        sa.text("""
            SELECT 'TABLE', format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'
            UNION ALL SELECT 'VIEW', format('%I', viewname) FROM pg_views WHERE schemaname = 'public'
            UNION ALL SELECT 'SEQUENCE', format('%I', sequencename)
                FROM pg_sequences WHERE schemaname = 'public'
            UNION ALL SELECT 'TYPE', format('%I', t.typname) FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')
                AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
            UNION ALL SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
        """)
    ).all()
    return [f"DROP {kind} IF EXISTS {name} CASCADE" for kind, name in objects]


# --- the app's role on PostgreSQL ------------------------------------------------------------

# What the web servers' and the scheduler's role may do (docs/deploy.md): read and write the
# records, only read and append to the audit log.
RECORD_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
AUDIT_TABLE, AUDIT_PRIVILEGES = "audit_entry", ("SELECT", "INSERT")


def privileges() -> list[str]:
    """Give CRM_DATABASE_APP_ROLE its privileges on every table and sequence of the schema as it
    is now (after a migration added tables, or a restore made them anew), take the audit log's
    UPDATE and DELETE away, and return what the role still cannot do (empty when all is right).
    Nothing on SQLite, or when no app role is set (one role does everything)."""
    role = current_app.config.get("DATABASE_APP_ROLE")
    if db.engine.dialect.name != "postgresql" or not role:
        return []
    quoted = db.engine.dialect.identifier_preparer.quote(role)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        connection.execute(
            sa.text(
                f"GRANT {', '.join(RECORD_PRIVILEGES)} ON ALL TABLES IN SCHEMA public TO {quoted}"
            )
        )
        connection.execute(
            sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        )
        if AUDIT_TABLE in sa.inspect(connection).get_table_names():
            connection.execute(
                sa.text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {quoted}")
            )
    return app_role_problems(role)


def unnamed_app_roles() -> list[str]:
    """PostgreSQL with no CRM_DATABASE_APP_ROLE: the roles the schema's default privileges
    name (deploy/postgres.sql's crm_app), which then get no REVOKE on the audit log."""
    if db.engine.dialect.name != "postgresql" or current_app.config.get("DATABASE_APP_ROLE"):
        return []
    with db.engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("""
                    SELECT DISTINCT grantee::regrole::text
                    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace,
                         aclexplode(d.defaclacl)
                    WHERE n.nspname = 'public' AND grantee <> 0 AND grantee <> d.defaclrole
                    ORDER BY 1
                """)
            ).scalars()
        )


def app_role_problems(role: str) -> list[str]:
    """What `role` cannot do that the app needs, or can do to the audit log that it must not,
    as PostgreSQL's own privilege functions answer for that role."""
    problems = []
    with db.engine.connect() as connection:
        if not connection.execute(
            sa.text("SELECT has_schema_privilege(:r, 'public', 'USAGE')"), {"r": role}
        ).scalar():
            return [f"{role} 不能使用 schema public"]
        for table in sa.inspect(connection).get_table_names():
            wanted = AUDIT_PRIVILEGES if table == AUDIT_TABLE else RECORD_PRIVILEGES
            for privilege in RECORD_PRIVILEGES:
                has = connection.execute(
                    sa.text("SELECT has_table_privilege(:r, :t, :p)"),
                    {"r": role, "t": f"public.{table}", "p": privilege},
                ).scalar()
                if has != (privilege in wanted):
                    problems.append(f"{role} {'不能' if not has else '仍能'} {privilege} {table}")
    return problems


# --- keeping a set number of days -----------------------------------------------------------


def prune(keep_days: int, today: date | None = None) -> int:
    """Delete the nightly backups of nights before the last `keep_days` (today's included);
    backups made by hand are the operator's to delete, and the newest is always kept."""
    oldest_kept = (today or clock.today()) - timedelta(days=keep_days - 1)
    nightly = db.session.scalars(
        sa.select(BackupRecord)
        .where(BackupRecord.status == BackupStatus.DONE, BackupRecord.scheduled_for < oldest_kept)
        .order_by(BackupRecord.scheduled_for)
    ).all()
    newest = db.session.scalar(
        sa.select(sa.func.max(BackupRecord.id)).where(BackupRecord.status == BackupStatus.DONE)
    )
    removed = 0
    for record in nightly:
        if record.id == newest:
            continue
        Path(record.path).unlink(missing_ok=True)
        record.status = BackupStatus.PRUNED
        removed += 1
    db.session.commit()
    return removed


# --- helpers --------------------------------------------------------------------------------


def _sqlite(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def _libpq_url() -> str:
    """The database URL as libpq (pg_dump, pg_restore) reads it, without its password, which
    goes in PGPASSWORD: a command line is visible to every user of the machine."""
    return db.engine.url.set(drivername="postgresql", password=None).render_as_string()


def _run(*command: str | Path) -> None:
    env = dict(os.environ)
    if password := db.engine.url.password:
        env["PGPASSWORD"] = password
    # An argument list, no shell: the programs are pg_dump and pg_restore from PG_BIN.
    result = subprocess.run(  # noqa: S603
        [str(part) for part in command],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(str(command[0])).name} 失败：{result.stderr.strip()[:300]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
