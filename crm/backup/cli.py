"""`flask backup create|restore|list`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from crm import clock
from crm.audit import services as audit
from crm.audit.services import acting_as
from crm.backup import tasks
from crm.backup.models import BackupRecord
from crm.extensions import db
from crm.review import stored_tables

backup_cli = AppGroup("backup", help="备份与恢复。")


@backup_cli.command("create")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="备份文件存放的文件夹（默认 CRM_BACKUP_DIR）。",
)
def create(out: Path | None) -> None:
    """Back up the database with the stored photos and PDFs, while the app keeps serving."""
    with acting_as("cli:backup"):
        try:
            made = tasks.create(out)
        except tasks.BackupError as error:
            raise click.ClickException(error.message) from None
    total = sum(made.counts.values())
    click.echo(
        f"已备份到 {made.path}（{made.size:,} 字节，{len(made.counts)} 张表 {total:,} 行，已校验）。"
    )


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore a backup into this instance, which must be empty; then migrate it to this version."""
    try:
        manifest = tasks.restore(file)
    except tasks.BackupError as error:
        raise click.ClickException(error.message) from None
    upgrade(directory=current_app.extensions["migrate"].directory)
    with acting_as("cli:backup"):
        audit.record("backup.restore", object_type="backup", summary=f"从 {file.name} 恢复")
        db.session.commit()
    stored_tables.store_overview_days(clock.today())  # so the first reviewer after it does not wait
    click.echo(
        f"已从 {file} 恢复（备份于 {manifest['made_at']}，{sum(manifest['counts'].values()):,} 行，行数核对无误）。"
    )


@backup_cli.command("list")
def list_() -> None:
    """The backups made, newest first."""
    for record in db.session.scalars(
        db.select(BackupRecord).order_by(BackupRecord.id.desc()).limit(30)
    ):
        click.echo(
            f"{record.started_at:%Y-%m-%d %H:%M} {record.status.label:<6} {record.size:>12,} {record.path}"
        )
