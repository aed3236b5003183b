"""The databases of earlier releases, as their operators hold them: each release's backup in
releases/ (made by tests/upgrade/build_release.py with that release's own code), and what the
upgrade tests read from them."""

import json
import tarfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import flask_migrate
import sqlalchemy as sa

FOLDER = Path(__file__).resolve().parent / "releases"

Rows = dict[str, dict[tuple, dict[str, Any]]]  # table → primary key → column → value


@dataclass(frozen=True)
class Release:
    name: str  # the commit
    archive: Path
    revision: str
    counts: dict[str, int]

    @property
    def audit_key(self) -> str | None:
        key = self.archive.with_suffix("").with_suffix(".audit_key")
        return key.read_text().strip() if key.exists() else None

    def database(self, target: Path) -> Path:
        """The release's SQLite database, taken out of its backup."""
        with tarfile.open(self.archive, "r:gz") as archive:
            archive.extract("database.sqlite3", target, filter="data")
        return target / "database.sqlite3"

    def __str__(self) -> str:
        return self.name


def releases() -> list[Release]:
    found = []
    for archive in sorted(FOLDER.glob("*.tar.gz")):
        with tarfile.open(archive, "r:gz") as opened:
            manifest = json.load(opened.extractfile("manifest.json"))
        name = archive.name.removesuffix(".tar.gz")
        found.append(Release(name, archive, manifest["revision"], manifest["counts"]))
    return found


def read_rows(engine: sa.Engine) -> Rows:
    """Every row of every table, by primary key, each value in a form both databases give alike."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    rows: Rows = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            rows[table.name] = {
                tuple(row[k] for k in key): {c: _plain(v) for c, v in row.items()}
                for row in connection.execute(sa.select(table)).mappings()
            }
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    if hasattr(value, "value") and not isinstance(value, str):  # an enum member
        return value.value
    return value


def load_into_postgres(app, release: Release, fixture: Path) -> None:
    """The release's records in a PostgreSQL database: its schema made by the migrations up to
    the release's revision, then every row copied from the release's SQLite database."""
    with app.app_context():
        flask_migrate.upgrade(revision=release.revision)
        target = app.extensions["sqlalchemy"].engine
        source = sa.create_engine(f"sqlite:///{fixture}")
        old, new = sa.MetaData(), sa.MetaData()
        old.reflect(source)
        new.reflect(target)
        with source.connect() as reading, target.begin() as writing:
            writing.info["migrating"] = True  # crm.core.kept: no data_version at that release
            writing.execute(sa.text("SET session_replication_role = replica"))  # no FK order
            for name in set(new.tables) - set(old.tables):
                # A table a later edit of an earlier migration makes (7e8375a27405's
                # superseded_value): the release's own database did not have it.
                writing.execute(sa.text(f'DROP TABLE "{name}"'))
            for table in old.sorted_tables:
                rows = [dict(r) for r in reading.execute(sa.select(table)).mappings()]
                if table.name in ("alembic_version",) or not rows:
                    continue
                writing.execute(sa.delete(new.tables[table.name]))  # reference data, as theirs
                writing.execute(sa.insert(new.tables[table.name]), rows)
            for table in old.sorted_tables:
                table = new.tables[table.name]
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    writing.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                        f" coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    ).execution_options(), {})  # fmt: skip
        source.dispose()
        target.dispose()


@dataclass(frozen=True)
class Difference:
    table: str
    column: str | None  # None: the whole row (or table) is gone
    key: tuple | None
    before: Any = None
    after: Any = None


def differences(before: Rows, after: Rows) -> list[Difference]:
    """What is in `before` and not, or not alike, in `after`: rows gone, columns gone, values
    changed. Rows and columns `after` has beyond `before` are new, and not differences."""
    found = []
    for table, rows in before.items():
        if table not in after:
            found.append(Difference(table, None, None))
            continue
        for key, row in rows.items():
            now = after[table].get(key)
            if now is None:
                found.append(Difference(table, None, key))
                continue
            for column, value in row.items():
                if column not in now:
                    found.append(Difference(table, column, None))
                elif now[column] != value:
                    found.append(Difference(table, column, key, value, now[column]))
    return list(dict.fromkeys(found))


def had_run(release: Release, revision: str) -> bool:
    """Whether the release's database had already run migration `revision`."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(FOLDER.parents[2] / "migrations"))
    script = ScriptDirectory.from_config(config)
    return revision in {s.revision for s in script.iterate_revisions(release.revision, "base")}


def schema_objects(engine: sa.Engine) -> set[tuple[str, ...]]:
    """What guards the data besides columns, which `flask db check` does not compare: every
    trigger, check constraint and index, by name (SQLite loses a table's triggers when batch
    mode rebuilds the table)."""
    found: set[tuple[str, ...]] = set()
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            found |= {("index", table, i["name"]) for i in inspector.get_indexes(table)}
            found |= {("check", table, c["name"]) for c in inspector.get_check_constraints(table)}
            found |= {("unique", table, u["name"]) for u in inspector.get_unique_constraints(table)}
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
            )
        else:
            rows = connection.exec_driver_sql(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE NOT t.tgisinternal AND n.nspname = 'public'"
            )
        found |= {("trigger", table, name) for table, name in rows}
    return found
