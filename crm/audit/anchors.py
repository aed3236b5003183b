"""Anchors of the audit chain outside the database: checkpoints of its head (the last entry's id
and hash, and how many entries there were), each signed with the key outside the database and
appended to a file the database cannot reach: hourly by the scheduler, and into every backup.
The city's monthly report prints the head as it stood at the month's end, so a paper copy
anchors it too. `flask audit verify` checks the chain against the latest checkpoint: a tail cut
off, entries deleted before it, or the chain recomputed each show, with where.
"""

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from crm.audit import chain
from crm.audit.models import AuditEntry
from crm.core import keys
from crm.db import utcnow


@dataclass(frozen=True)
class Checkpoint:
    at: str
    last_id: int
    hash: str
    count: int  # entries kept at the time
    first_signed: int | None  # from this entry on, every entry carries a MAC
    mac: str = ""

    def signed_text(self) -> str:
        fields = {k: v for k, v in asdict(self).items() if k != "mac"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @property
    def genuine(self) -> bool:
        return bool(self.mac) and keys.mac("audit-checkpoint", self.signed_text()) == self.mac


def checkpoint_file() -> Path:
    return Path(
        current_app.config.get("AUDIT_CHECKPOINTS")
        or Path(current_app.instance_path) / "audit-checkpoints.jsonl"
    )


def write_checkpoint(session: Session) -> Checkpoint | None:
    """Append a signed checkpoint of the chain's head to the file; None for an empty log."""
    head = session.execute(
        sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    if head is None:
        return None
    count = session.scalar(sa.select(sa.func.count()).where(AuditEntry.id <= head.id))
    first_signed = session.scalar(
        sa.select(sa.func.min(AuditEntry.id)).where(AuditEntry.mac.is_not(None))
    )
    unsigned = Checkpoint(utcnow().isoformat(), head.id, head.hash, count, first_signed)
    point = Checkpoint(
        **{**asdict(unsigned), "mac": keys.mac("audit-checkpoint", unsigned.signed_text())}
    )
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a") as file:
        file.write(json.dumps(asdict(point), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return point


def read_checkpoints() -> tuple[list[Checkpoint], list[str]]:
    """The genuine checkpoints in the file, oldest first, and what is wrong with any other
    line (a checkpoint edited or forged)."""
    path = checkpoint_file()
    if not path.exists():
        return [], []
    found, wrong = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            point = Checkpoint(**json.loads(line))
        except (ValueError, TypeError):
            wrong.append(f"检查点文件第 {number} 行无法读取")
            continue
        if point.genuine:
            found.append(point)
        else:
            wrong.append(f"检查点文件第 {number} 行的签名不符：检查点被改动或伪造")
    return found, wrong


@dataclass(frozen=True)
class Report:
    verdict: chain.Verdict
    breaks: list[chain.Break]
    notes: list[str]
    checkpoint: Checkpoint | None

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.notes


def verify(session: Session, anchors: list[tuple[int, str]] = ()) -> Report:
    """The chain (every hash and MAC), then the latest checkpoint, then any anchors read off
    paper (a monthly report's id and hash)."""
    points, notes = read_checkpoints()
    point = points[-1] if points else None
    wanted = {i for i, _ in anchors} | ({point.last_id} if point else set())
    verdict = chain.verify(session, wanted, signed_from=point.first_signed if point else None)
    breaks = list(verdict.breaks)
    if point is not None:
        breaks += _against(session, verdict, point)
    for entry_id, entry_hash in anchors:
        if verdict.hashes.get(entry_id) != entry_hash:
            breaks.append(chain.Break(entry_id, "与月报上的锚点不符：该条记录已不在或被改写"))
    return Report(verdict, sorted(breaks, key=lambda b: b.entry_id), notes, point)


def _against(session: Session, verdict: chain.Verdict, point: Checkpoint) -> list[chain.Break]:
    when = point.at[:16].replace("T", " ")
    if verdict.last_id is None or verdict.last_id < point.last_id:
        return [
            chain.Break(
                point.last_id,
                f"日志末尾被截去：{when} 的检查点记到第 {point.last_id} 条，"
                f"现在只到第 {verdict.last_id or 0} 条",
            )
        ]
    if verdict.hashes.get(point.last_id) != point.hash:
        return [
            chain.Break(
                point.last_id,
                f"与 {when} 的检查点不符：第 {point.last_id} 条不在或被改写，其前的日志被改动",
            )
        ]
    purged_since = session.scalar(
        sa.select(sa.func.count()).where(
            AuditEntry.action == chain.PURGE_ACTION, AuditEntry.id > point.last_id
        )
    )
    now = session.scalar(sa.select(sa.func.count()).where(AuditEntry.id <= point.last_id))
    if not purged_since and now != point.count:
        first = session.scalar(sa.select(sa.func.min(AuditEntry.id)))
        return [
            chain.Break(
                first or 0,
                f"检查点之前的记录被删除：{when} 时共 {point.count} 条，现在只有 {now} 条",
            )
        ]
    return []


def head_at(moment: datetime) -> tuple[int, str] | None:
    """The last entry written before `moment` (a month's end): what a report prints as its
    anchor. The chain only grows, so the answer never changes once `moment` has passed."""
    from crm.extensions import db

    row = db.session.execute(
        sa.select(AuditEntry.id, AuditEntry.hash)
        .where(AuditEntry.at < moment)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return (row.id, row.hash) if row else None
