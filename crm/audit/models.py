from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import utcnow
from crm.extensions import db


class AuditEntry(db.Model):
    """审计日志: one action, by whom (an account or a named process), on which object.

    Rows are only ever appended (crm.audit.chain), each with the hash of the one before, and
    never updated; on PostgreSQL a trigger refuses updates, and deletes inside the retention
    period. `changes` holds {field: [old, new]} for updates.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_object", "object_type", "object_id"),
        sa.Index("ix_audit_entry_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None]  # no foreign key: the log outlives the accounts it names
    actor_name: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    summary: Mapped[str] = mapped_column(sa.String(200), default="")
    changes: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # HMAC of `hash` under a key kept outside the database (crm.core.keys): a chain recomputed
    # by someone with the database alone has no valid MACs. NULL only for entries written
    # before the MAC existed, all before the first entry that has one.
    mac: Mapped[str | None] = mapped_column(sa.String(64))
