"""Who is acting, and recording what they did."""

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Response, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, delete, select

from crm.audit import chain
from crm.audit.models import AuditEntry
from crm.clock import local_midnight
from crm.core.forms import committed
from crm.db import utcnow
from crm.extensions import db
from crm.http import named_file


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


def record(action: str, **fields: Any) -> None:
    """Append an entry for an action that is not a row change (a sign-in, a download), in the
    session's transaction: it is kept when the transaction commits."""
    chain.append(db.session.connection(), [entry_values(action, **fields)])


def downloaded(
    body: Response | bytes,
    filename: str,
    mimetype: str | None = None,
    *,
    action: str = "download",
    object_type: str | None = None,
    object_id: Any = None,
    summary: str = "",
    inline: bool = False,
) -> Response:
    """Every file the app hands out (a PDF, a workbook, an export) passes here: in the audit
    log first (who took what), then answered under its name, out of shared caches."""
    committed(
        lambda: record(
            action, object_type=object_type, object_id=object_id, summary=summary or filename
        )
    )
    return named_file(body, filename, mimetype, inline=inline)


class PurgeRefusedError(ValueError):
    pass


def purge(before: datetime, now: datetime | None = None) -> int:
    """Delete the entries older than `before`, which must be the retention period ago or more.

    The purge is itself an entry, naming the last hash removed: where the chain resumes.
    """
    now = now or utcnow()
    oldest_allowed = now - timedelta(days=chain.RETENTION_DAYS)
    if before > oldest_allowed:
        raise PurgeRefusedError(
            f"审计日志至少保留 {chain.RETENTION_DAYS} 天："
            f"只能删除 {oldest_allowed.date()} 以前的记录"
        )
    chain.lock(db.session.connection())
    last = db.session.execute(
        select(AuditEntry.id, AuditEntry.hash)
        .where(AuditEntry.at < before)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    removed = db.session.execute(delete(AuditEntry).where(AuditEntry.id <= last.id)).rowcount
    record(
        chain.PURGE_ACTION,
        object_type="audit_entry",
        summary=f"删除 {before.date()} 以前的 {removed} 条记录",
        changes={"resumes_after": [last.id, last.hash]},
    )
    return removed


# --- reading (the auditor's page and export) ----------------------------------------------------

FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")


def filters_from(args: Mapping[str, str]) -> dict[str, str]:
    return {key: str(args.get(key, "")).strip()[:64] for key in FILTERS}


def search(filters: dict[str, str], *, newest_first: bool = True) -> Select:
    """The entries matching the auditor's filters: the actor's username, the action or its
    beginning (`login`, `branch.update`), the object, and the days (赣州 time) from and to."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc() if newest_first else AuditEntry.id)
    if filters["actor"]:
        statement = statement.where(AuditEntry.actor_name == filters["actor"])
    if filters["action"]:
        statement = statement.where(
            AuditEntry.action.startswith(filters["action"], autoescape=True)
        )
    if filters["object_type"]:
        statement = statement.where(AuditEntry.object_type == filters["object_type"])
    if filters["object_id"]:
        statement = statement.where(AuditEntry.object_id == filters["object_id"])
    if since := _local_midnight(filters["since"]):
        statement = statement.where(AuditEntry.at >= since)
    if until := _local_midnight(filters["until"]):
        statement = statement.where(AuditEntry.at < until + timedelta(days=1))
    return statement


def filters_text(filters: dict[str, str]) -> str:
    return "，".join(f"{key}={value}" for key, value in filters.items() if value) or "全部"


def changes_text(changes: dict[str, Any] | None) -> str:
    return "；".join(f"{field}：{old} → {new}" for field, (old, new) in (changes or {}).items())


def _local_midnight(text: str) -> datetime | None:
    """Midnight in 赣州 of a YYYY-MM-DD day, or None when the text is not one."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return local_midnight(day)
