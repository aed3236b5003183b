"""Who is acting, and recording what they did."""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from crm.audit.models import AuditEntry
from crm.db import utcnow
from crm.extensions import db


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    ip: str | None


_process_actor: contextvars.ContextVar[str] = contextvars.ContextVar(
    "process_actor", default="system"
)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Name the process (a CLI command, a job) that the log credits outside a request."""
    token = _process_actor.set(name)
    try:
        yield
    finally:
        _process_actor.reset(token)


def current_actor() -> Actor:
    """The signed-in account of this request, else the process named by acting_as()."""
    if not has_request_context():
        return Actor(None, _process_actor.get(), None)
    if current_user.is_authenticated:
        return Actor(current_user.id, current_user.username, request.remote_addr)
    return Actor(None, "anonymous", request.remote_addr)


def entry_values(
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    actor = actor or current_actor()
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "ip": actor.ip,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "summary": summary[:200],
        "changes": changes,
    }


def record(action: str, **fields: Any) -> AuditEntry:
    """Add an entry for an action that is not a row change (a sign-in, a download)."""
    entry = AuditEntry(**entry_values(action, **fields))
    db.session.add(entry)
    return entry
