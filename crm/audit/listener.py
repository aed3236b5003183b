"""Write an audit entry for every insert, update and delete of an Audited model.

The hook sits on the session itself, so no service, view or command can change an
audited row without leaving its entry in the same transaction.
"""

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session, UOWTransaction

from crm.audit import chain
from crm.audit.services import entry_values
from crm.core.masking import mask_phone
from crm.db import Audited, Base

MASKED = "******"
IGNORED_FIELDS = frozenset({"created_at", "updated_at", "last_login_at", "version"})


def install() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        # First among the flush hooks: the chain's lock is then always taken before any other
        # a hook takes (the review tallies'), in every transaction, so the two cannot deadlock.
        event.listen(Session, "after_flush", _after_flush, insert=True)
        event.listen(Mapper, "mapper_configured", _keep_old_values)
    for mapper in Base.registry.mappers:  # those configured before the hook was there
        _keep_old_values(mapper, mapper.class_)


def _keep_old_values(mapper: Mapper, cls: type) -> None:
    """Make every column of an audited model load its old value before it is replaced.

    Without this, a change to an expired attribute (any object after a commit) has no old
    value in its history, and the log would say "None → new".
    """
    if not issubclass(cls, Audited):
        return
    for attr in mapper.column_attrs:
        instrumented = getattr(cls, attr.key)
        if not event.contains(instrumented, "set", _old_value_wanted):
            event.listen(instrumented, "set", _old_value_wanted, active_history=True)


def _old_value_wanted(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    """Does nothing itself: registering it with active_history=True is what loads old values."""


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    rows = [
        *(_row("create", obj) for obj in session.new if isinstance(obj, Audited)),
        *(_update_row(obj) for obj in session.dirty if isinstance(obj, Audited)),
        *(_row("delete", obj) for obj in session.deleted if isinstance(obj, Audited)),
    ]
    rows = [row for row in rows if row is not None]
    if rows:
        chain.append(session.connection(), rows)


def _row(action: str, obj: Audited, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    state = inspect(obj)
    identity = state.identity or state.mapper.primary_key_from_instance(obj)
    object_id = identity[0] if len(identity) == 1 else "/".join(map(str, identity))
    return entry_values(
        f"{state.mapper.local_table.name}.{action}",
        object_type=state.mapper.local_table.name,
        object_id=object_id,
        summary=str(obj),
        changes=changes,
    )


def _update_row(obj: Audited) -> dict[str, Any] | None:
    changes = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in IGNORED_FIELDS:
            continue
        history = inspect(obj).attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if attr.key in obj.__audit_masked__:
            changes[attr.key] = [MASKED, MASKED]
        elif attr.key in obj.__audit_phones__:
            changes[attr.key] = [mask_phone(old), mask_phone(new)]
        else:
            changes[attr.key] = [_plain(old), _plain(new)]
    return _row("update", obj, changes) if changes else None


def _plain(value: Any) -> Any:
    """A JSON-ready form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value
