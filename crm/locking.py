"""Who writes when: SQLite's write queue and its guard against writes in read transactions,
and PostgreSQL's advisory locks, for the few things only one process may do at a time.

SQLite transactions in a request read first (deferred) and write inside writing(), which
ends the read transaction and opens the next with BEGIN IMMEDIATE: a deferred transaction
that later writes ignores busy_timeout and fails with "database is locked", and taking the
write lock at the request's first query would make every POST wait for every other.
Outside requests (commands, jobs) every transaction takes the lock at once.
"""

import enum
import fcntl
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine


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
        raise ReadTransactionWriteError(f"write outside crm.extensions.writing(): {statement[:60]}")


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


class Lock(enum.IntEnum):
    """PostgreSQL's advisory locks, each held to the end of its transaction: every number the
    application takes, in one place, so no two uses share one by accident. (SQLite has one
    writer at a time already.)"""

    AUDIT_CHAIN = 18_600_186  # appends to the audit chain, so it never forks
    TALLY = 20_261_127  # counting and storing the overview's settled days
    CASELOAD_SWAP = 20_261_128  # caseload.refresh()'s swap of its stored figures
    ALERTS_SWAP = 20_261_129  # alerts.refresh()'s swap of its stored flags
    RECENT_SWAP = 20_261_130  # tally.refresh_recent()'s swap of today's and yesterday's


def advisory_lock(executor: sa.Connection | Any, lock: Lock) -> None:
    """Take `lock` until the end of the transaction of `executor` (a connection or a
    session), on PostgreSQL; a no-op elsewhere."""
    dialect = (
        executor.dialect if isinstance(executor, sa.Connection) else executor.get_bind().dialect
    )
    if dialect.name == "postgresql":
        executor.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(lock)})


def replace_rows(session: Any, model: type, rows: list[dict[str, Any]], lock: Lock) -> None:
    """Put `rows` in place of every row of a table of counted figures, in the caller's
    transaction. Counting comes before (without any lock); only the swap is serialized (an
    advisory lock on PostgreSQL, the write lock on SQLite), so two schedulers refreshing at
    once leave one complete set, and readers see the old set until the commit."""
    advisory_lock(session, lock)
    session.execute(sa.delete(model))
    for first in range(0, len(rows), 5000):
        session.execute(sa.insert(model), rows[first : first + 5000])
