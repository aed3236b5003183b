"""The audit log as a hash chain: each entry's hash covers its fields and the hash before it.

Entries are appended here and only here, one transaction at a time (SQLite's write lock; an
advisory lock on PostgreSQL, held to the end of the transaction), so the chain never forks.
Changing, removing or reordering an entry breaks every link after it, which `verify()` finds.
Each entry also carries a MAC of its hash under a key outside the database, so recomputing the
whole chain after an edit shows too; checkpoints of the chain's head, written outside the
database (crm.audit.anchors), show a tail cut off. Purging the oldest entries (past the
retention period only) records where the chain resumes, so a cut at the head is told apart
from a purge.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.audit.models import AuditEntry
from crm.core import keys
from crm.locking import Lock, advisory_lock

GENESIS = "0" * 64
RETENTION_DAYS = 186  # the least the law allows (网络安全法 第二十一条: 不少于六个月)
HASHED = (
    "at",
    "actor_id",
    "actor_name",
    "ip",
    "action",
    "object_type",
    "object_id",
    "summary",
    "changes",
)
PURGE_ACTION = "audit.purge"


def digest(previous: str, values: dict[str, Any]) -> str:
    """The hash of an entry: its fields in a fixed form, after the hash of the entry before."""
    fields = {key: values.get(key) for key in HASHED}
    at = fields["at"]
    fields["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    text = json.dumps(
        [previous, fields], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def append(connection: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert entries at the end of the chain, in the order given."""
    lock(connection)
    previous = _last_hash(connection)
    chained = []
    for row in rows:
        entry_hash = digest(previous, row)
        chained.append({**row, "prev_hash": previous, "hash": entry_hash, "mac": sign(entry_hash)})
        previous = entry_hash
    connection.execute(sa.insert(AuditEntry), chained)


def sign(entry_hash: str) -> str:
    """The MAC of an entry's hash under the key outside the database."""
    return keys.mac("audit-chain", entry_hash)


def lock(connection: sa.Connection) -> None:
    """Hold the end of the chain to the end of the transaction (SQLite's write lock does it there)."""
    advisory_lock(connection, Lock.AUDIT_CHAIN)


def _last_hash(connection: sa.Connection) -> str:
    last = connection.execute(
        sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar()
    return last or GENESIS


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    breaks: list[Break]
    unsigned: int = 0  # entries from before the MAC existed
    last_id: int | None = None
    last_hash: str | None = None
    hashes: dict[int, str] | None = None  # id → hash of the entries the anchors name

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify(
    session: Session, wanted: set[int] = frozenset(), signed_from: int | None = None
) -> Verdict:
    """Recompute the chain from the first entry kept and check every MAC; list every entry
    where tampering shows. `wanted`: ids whose hashes the caller will compare with anchors;
    `signed_from`: the first id a checkpoint saw signed (every later one must be)."""
    anchors = _purge_anchors(session)
    breaks: list[Break] = []
    previous: str | None = None
    checked = unsigned = 0
    signed_seen = False
    last_id = None
    hashes: dict[int, str] = {}
    for entry in _in_order(session):
        checked += 1
        if previous is None and entry.prev_hash not in {GENESIS, *anchors}:
            breaks.append(Break(entry.id, "日志开头缺失：第一条记录之前的记录被删除"))
        elif previous is not None and entry.prev_hash != previous:
            breaks.append(Break(entry.id, "链接断开：前一条记录被删除、插入或改动"))
        if digest(entry.prev_hash, _values(entry)) != entry.hash:
            breaks.append(Break(entry.id, "内容与哈希不符：本条记录被改动"))
        must_sign = signed_seen or (signed_from is not None and entry.id >= signed_from)
        if entry.mac is None and not must_sign:
            unsigned += 1
        elif entry.mac is None or not hmac.compare_digest(entry.mac, sign(entry.hash)):
            breaks.append(Break(entry.id, "密钥校验不符：记录或其后的哈希链被改写重算"))
        signed_seen = signed_seen or entry.mac is not None
        if entry.id in wanted:
            hashes[entry.id] = entry.hash
        previous, last_id = entry.hash, entry.id
    return Verdict(checked, breaks, unsigned, last_id, previous, hashes)


def _in_order(session: Session) -> Iterator[AuditEntry]:
    statement = sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000)
    for entry in session.execute(statement).scalars():
        yield entry
        session.expunge(entry)


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {key: getattr(entry, key) for key in HASHED}


def _purge_anchors(session: Session) -> set[str]:
    changes = session.execute(
        sa.select(AuditEntry.changes).where(AuditEntry.action == PURGE_ACTION)
    ).scalars()
    return {c["resumes_after"][1] for c in changes if c and "resumes_after" in c}
