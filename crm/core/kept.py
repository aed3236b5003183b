"""Figures computed from the records, kept in the process between requests until the records
change: the overview's, the caseload table's and the instructor's due list cost a few
milliseconds when nothing was written since they were last counted.

How a change is seen: every commit that wrote to a table figures may be counted from sets a
new random token in the one-row table `data_version`, in the same transaction, so a token
always names one state of the records. The hook is the engine's, not the ORM's: flushes, bulk
statements (`session.execute(update(...))`) and SQL text all pass through it, from any
process, and a restore brings a token and its records back together. A reader reads the token
first and keeps what it then computes under it: what it counted is never older than the
token (on PostgreSQL's read committed it may be a little newer, which a reader of that
token could have seen anyway).

Not kept: results read in a transaction that has written and not committed (they may be
rolled back), and anything of a request's own (its user, the time of day); keys hold their
arguments and today's date, so a result is never served on a later day. Values are shared
between requests: they are plain data (no ORM objects, which belong to one session) and
callers do not change them.

Tables that figures are never counted from are left out, so that signing in or auditing a
page view does not throw the figures away: the audit chain, the sign-in records, the
backups' and reports' bookkeeping, and the overview's day tables, which hold the same
counts the records give (crm.review.tally deletes a day when its records change). A table
not listed counts as a change: a new table is safe before anyone thinks of it.
"""

import functools
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from crm import clock
from crm.extensions import db

P = ParamSpec("P")
T = TypeVar("T")

TABLE = "data_version"
NOT_COUNTED = frozenset(
    {
        TABLE,
        "audit_entry",
        "sign_in_failure",
        "password_history",
        "backup_record",
        "report",
        "report_batch",
        "scheduled_report",
        "day_tally",
        "stock_tally",
        "alembic_version",
    }
)
ENTRIES = 2048  # per process; a token's entries are dropped when the next token is seen
WRITTEN = "records_written"  # Connection.info: this transaction wrote to a counted table
_WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)',
    re.IGNORECASE,
)
# A write whose table is not read here: any table, so the token changes (a CTE before an
# UPDATE, TRUNCATE, COPY).
_OTHER_WRITE = re.compile(
    r"\s*(?:TRUNCATE|COPY)\b|\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL
)
MIGRATING = "migrating"  # Connection.info, set by migrations/env.py: data_version may not exist yet


class DataVersion(db.Model):
    """The one row whose token changes with every commit that changes the records."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(sa.BigInteger)


def new_token() -> int:
    return secrets.randbits(62)


def renew() -> None:
    """A new token, committed: after a restore, whose records came back with the token they
    had when the backup was made (a process may keep results under it from before)."""
    db.session.execute(sa.update(DataVersion).values(token=new_token()))
    db.session.commit()


@event.listens_for(Engine, "after_cursor_execute")
def _note_writes(connection, cursor, statement: str, *args: Any) -> None:
    if connection.info.get(WRITTEN):
        return
    if (found := _WRITE.match(statement)) is not None:
        if found.group(1).lower() not in NOT_COUNTED:
            connection.info[WRITTEN] = True
    elif _OTHER_WRITE.match(statement):
        connection.info[WRITTEN] = True


@event.listens_for(Engine, "commit")
def _change_token(connection: sa.Connection) -> None:
    """Before the database commits a transaction that wrote, a new token in the same one
    (through the DBAPI cursor: this runs inside SQLAlchemy's commit)."""
    if connection.info.pop(WRITTEN, False) and not connection.info.get(MIGRATING):
        cursor = connection.connection.cursor()
        try:
            cursor.execute(f"UPDATE {TABLE} SET token = {new_token():d}")  # noqa: S608 (an int)
        finally:
            cursor.close()


@event.listens_for(Engine, "rollback")
def _forget_writes(connection: sa.Connection) -> None:
    connection.info.pop(WRITTEN, None)


class _Store:
    """The kept results of one token, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size, self.token = size, None
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, token: int, key: Hashable) -> tuple[bool, Any]:
        with self.lock:
            if token != self.token or key not in self.entries:
                return False, None
            self.entries.move_to_end(key)
            return True, self.entries[key]

    def put(self, token: int, key: Hashable, value: Any) -> None:
        with self.lock:
            if token != self.token:
                self.entries.clear()
                self.token = token
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _store() -> _Store:
    return current_app.extensions.setdefault("kept_figures", _Store(ENTRIES))


def _token() -> int | None:
    """The records' token, or None when what this transaction reads may not be kept."""
    session = db.session
    if not current_app.config["KEEP_FIGURES"]:
        return None
    if session.new or session.dirty or session.deleted:
        return None
    connection = session.connection()
    if connection.info.get(WRITTEN):
        return None
    return connection.execute(sa.select(DataVersion.token)).scalar()


def until_changed(function: Callable[P, T]) -> Callable[P, T]:
    """Keep the function's results (plain data, from hashable arguments) until the records
    change, or the day does."""
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def kept(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _token()
        if token is None:
            return function(*args, **kwargs)
        key = (name, args, tuple(sorted(kwargs.items())), clock.today())
        store = _store()
        found, value = store.get(token, key)
        if not found:
            value = function(*args, **kwargs)
            store.put(token, key, value)
        return value

    return kept
