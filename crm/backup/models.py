from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import LabeledEnum, utcnow
from crm.extensions import db


class BackupStatus(LabeledEnum):
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    PRUNED = "pruned", "已按期删除"


class BackupRecord(db.Model):
    """One backup: made by hand (`flask backup create`) or by the nightly job, whose row for
    the day is inserted before it starts, so a second scheduler makes none."""

    __tablename__ = "backup_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    scheduled_for: Mapped[date | None] = mapped_column(unique=True)  # the nightly job's day
    status: Mapped[BackupStatus] = mapped_column(default=BackupStatus.RUNNING)
    path: Mapped[str] = mapped_column(sa.String(500), default="")
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    counts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str] = mapped_column(sa.String(500), default="")


class SupersededValue(db.Model):
    """A value a migration replaced in a record a user typed (a branch's 书记电话 brought in
    step with its member list, say), kept with what replaced it: the old value is never lost,
    and `flask db upgrade` writes the audit log's entry for each migration's replacements
    (audited_at), since migrations themselves never import the app's audit code."""

    __tablename__ = "superseded_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[str] = mapped_column(sa.String(32))
    table_name: Mapped[str] = mapped_column(sa.String(64))
    row_id: Mapped[int]
    column_name: Mapped[str] = mapped_column(sa.String(64))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    audited_at: Mapped[datetime | None]
