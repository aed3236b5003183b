"""The declarative base, column types and mixins shared by every feature's models."""

import enum
import fcntl
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any, Self

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

from crm import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    SQLite keeps no time zone, so every database stores the same naive UTC value.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aggregate (max, min) skips the column type: SQLite hands back naive UTC or even text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class local_day(sa.sql.expression.FunctionElement[date]):  # noqa: N801 (used like func.x)
    """The day in 赣州 of a timestamp column stored as naive UTC, in SQL: compiled for each
    database, so a query can group or compare by local day wherever it runs."""

    type = sa.Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    zone = clock.LOCAL_TIME.key
    return f"CAST(timezone('{zone}', timezone('UTC', {compiler.process(column, **kw)})) AS DATE)"


@compiles(local_day)
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    # SQLite has no time zones; China keeps one fixed offset all year.
    (column,) = element.clauses
    hours = clock.LOCAL_TIME.utcoffset(datetime(2000, 1, 1)).total_seconds() / 3600
    return f"date({compiler.process(column, **kw)}, '{hours:+.0f} hours')"


class LabeledEnum(enum.StrEnum):
    """A string enum whose members carry the Chinese label shown to users.

    Declared as `ADMIN = "admin", "管理员"`; the code is stored, the label is shown.
    """

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, value: str | None) -> Self | None:
        """The member whose code is `value`, or None (a query argument may hold anything)."""
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class Base(DeclarativeBase):
    # Given as a registry: Flask-SQLAlchemy subclasses this base, and SQLAlchemy refuses a
    # per-class type_annotation_map on a subclass.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            # Enums are stored by value as plain strings: no database enum types to migrate.
            enum.Enum: sa.Enum(
                enum.Enum,
                native_enum=False,
                length=32,
                values_callable=lambda members: [member.value for member in members],
            ),
        },
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """A record two people may edit at once. Each save raises `version`: an edit form carries
    the version it showed, and a save from an older one is refused with a message (see
    crm.core.forms.submit); two saves racing each other are told apart by the UPDATE's
    `WHERE version = …` (SQLAlchemy's version counter). Never a silent overwrite."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805  (declared_attr passes the class)
        return {"version_id_col": cls.__table__.c.version}


class Withdrawable:
    """A record withdrawn (撤回) rather than deleted: kept and shown, marked, with who withdrew
    it and why, and out of every count. Each count asks `standing`; the trace of the change is
    a crm.corrections Correction."""

    withdrawn_on: Mapped[date | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    @hybrid_property
    def standing(self) -> bool:
        """Not withdrawn: it counts, and it is shown as it stands."""
        return self.withdrawn_on is None

    @standing.inplace.expression
    @classmethod
    def _standing(cls) -> sa.ColumnElement[bool]:
        return cls.withdrawn_on.is_(None)


class Audited:
    """Marks a model whose every insert, update and delete goes to the audit log.

    `__audit_masked__` names columns whose change is logged without the values;
    `__audit_phones__` names phone numbers, logged masked (138****1234): the log is kept for
    years and read by the auditor, who has no need of the numbers.
    """

    __audit_masked__: frozenset[str] = frozenset()
    __audit_phones__: frozenset[str] = frozenset()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# SQLite transactions in a request read first (deferred) and write inside writing(), which
# ends the read transaction and opens the next with BEGIN IMMEDIATE: a deferred transaction
# that later writes ignores busy_timeout and fails with "database is locked", and taking the
# write lock at the request's first query would make every POST wait for every other.
# Outside requests (commands, jobs) every transaction takes the lock at once.
WRITE_FLAG = "sqlite_write_lock"
WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class ReadTransactionWriteError(RuntimeError):
    """A request wrote to SQLite outside writing(): under load that fails as "database is locked"."""


_reads_first: ContextVar[bool] = ContextVar("reads_first", default=False)


@contextmanager
def reads_first() -> Iterator[None]:
    """Outside a request, work as a request does: read in deferred transactions and write
    inside writing(). For long readers beside others (the report workers), which would
    otherwise hold SQLite's write lock for as long as they read."""
    token = _reads_first.set(True)
    try:
        yield
    finally:
        _reads_first.reset(token)


def _request_like() -> bool:
    return has_request_context() or _reads_first.get()


def _wants_write_lock() -> bool:
    return not _request_like() or bool(g.get(WRITE_FLAG))


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    immediate = _wants_write_lock()
    connection.info["sqlite_immediate"] = immediate
    if immediate:
        _queue_for_writing(connection)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Writers queue on a file lock beside the database before BEGIN IMMEDIATE. SQLite's own wait
# (busy_timeout) polls with sleeps of up to 100 ms and favours no one: with eight processes
# writing, some posts waited seconds (p99 1 s). A blocked flock() wakes the moment the lock
# is free. The lock is the file's, so it holds across processes, threads and connections, and
# a process that dies releases it. SQLite's lock stays the real guard; this only orders.
LOCK_SUFFIX = ".writelock"


def _queue_for_writing(connection: sa.Connection) -> None:
    path = connection.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    kept = connection.connection.info  # lives as long as the DBAPI connection
    lock_file = kept.get("sqlite_lock_file")
    if lock_file is None:
        lock_file = kept["sqlite_lock_file"] = open(f"{path}{LOCK_SUFFIX}", "a")  # noqa: SIM115
    fcntl.flock(lock_file, fcntl.LOCK_EX)
    connection.info["sqlite_queue"] = lock_file


def _leave_queue(connection: sa.Connection) -> None:
    lock_file = connection.info.pop("sqlite_queue", None)
    if lock_file is not None:
        fcntl.flock(lock_file, fcntl.LOCK_UN)


@event.listens_for(Engine, "commit")
def _after_write_commit(connection: sa.Connection) -> None:
    _leave_queue(connection)


@event.listens_for(Engine, "rollback")
def _after_write_rollback(connection: sa.Connection) -> None:
    _leave_queue(connection)


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes_in_read_transactions(connection, cursor, statement, *args) -> None:
    if (
        connection.dialect.name == "sqlite"
        and connection.info.get("sqlite_immediate") is False
        and WRITES.match(statement)
    ):
        raise ReadTransactionWriteError(f"write outside crm.db.writing(): {statement[:60]}")


@contextmanager
def write_lock() -> Iterator[None]:
    """Within a request, let the block's transaction take SQLite's write lock when it begins.

    The caller ends the current (read) transaction first; see crm.extensions.writing().
    """
    if not _request_like():
        yield  # outside requests every transaction takes the lock anyway
        return
    previous = g.get(WRITE_FLAG, False)
    setattr(g, WRITE_FLAG, True)
    try:
        yield
    finally:
        setattr(g, WRITE_FLAG, previous)


def replace_rows(session: Any, model: type, rows: list[dict[str, Any]], lock_key: int) -> None:
    """Put `rows` in place of every row of a table of counted figures, in the caller's
    transaction. Counting comes before (without any lock); only the swap is serialized (an
    advisory lock on PostgreSQL, the write lock on SQLite), so two schedulers refreshing at
    once leave one complete set, and readers see the old set until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
    session.execute(sa.delete(model))
    for first in range(0, len(rows), 5000):
        session.execute(sa.insert(model), rows[first : first + 5000])


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write UTCDateTime into migrations as a plain DateTime, so they never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
