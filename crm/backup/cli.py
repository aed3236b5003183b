"""`flask backup create|restore|list`."""

from pathlib import Path

import click
import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app, g
from flask.cli import AppGroup, with_appcontext

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
@click.option(
    "--without-audit-key",
    is_flag=True,
    help="备份时的审计密钥已丢失：不核对审计日志的签名也恢复。",
)
def restore(file: Path, without_audit_key: bool) -> None:
    """Restore a backup into this instance, which must be empty; then migrate it to this version."""
    try:
        manifest = tasks.restore(file, check_key=not without_audit_key)
    except tasks.BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"已从 {file} 恢复（备份于 {manifest['made_at']}，版本 {manifest['revision']}，"
        f"{sum(manifest['counts'].values()):,} 行，行数核对无误），正在升级到本版本……"
    )
    for note in manifest["notes"]:
        click.echo(note)
    try:
        flask_migrate.upgrade(directory=current_app.extensions["migrate"].directory)
    except (SystemExit, Exception):  # Flask-Migrate exits on a failed step; its message is above
        tasks.undo_restore(manifest)
        raise click.ClickException(
            "恢复的数据库不能升级到本版本（原因见上），已撤销恢复：本实例仍是空的。"
            "可先用做备份的版本恢复并改正，再备份后恢复到本版本。"
        ) from None
    with acting_as("cli:backup"):
        tasks.after_restore(manifest, file)
        audit.record("backup.restore", object_type="backup", summary=f"从 {file.name} 恢复")
        db.session.commit()
    _after_upgrade()
    stored_tables.store_overview_days(clock.today())  # so the first reviewer after it does not wait
    click.echo("已迁移到本版本。")


def _refuse_if(problems: list[str]) -> None:
    for role in tasks.unnamed_app_roles():
        click.echo(
            f"注意：schema public 的默认权限授予了 {role}，但未设置 CRM_DATABASE_APP_ROLE："
            f"未收回 {role} 对审计日志的修改、删除权限，也未核对其读写权限（docs/upgrade.md）。",
            err=True,
        )
    if problems:
        raise click.ClickException(
            "应用账号的权限不对，各服务器将无法正常读写：" + "；".join(problems[:10])
        )


@click.command("upgrade")
@click.option("-d", "--directory", default=None, help="迁移脚本所在的文件夹（默认 migrations）。")
@click.option("--sql", is_flag=True, help="不改数据库，只输出 SQL。")
@click.option("--tag", default=None, help="交给 env.py 的标签。")
@click.option("-x", "--x-arg", multiple=True, help="交给 env.py 的参数。")
@click.option("--no-backup", is_flag=True, help="不先备份（已另行备份时）。")
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="升级前备份存放的文件夹（默认 CRM_BACKUP_DIR）。",
)
@click.argument("revision", default="head")
@with_appcontext
def upgrade(directory, sql, tag, x_arg, no_backup, backup_dir, revision) -> None:
    """Upgrade the database to this release. A database that holds records and has migrations
    to run is backed up first (unless --no-backup), and nothing migrates if that fails."""
    directory = directory or g.directory
    made = None
    if not sql and not no_backup and _pending(directory, revision) and tasks.filled_tables():
        click.echo("升级前先备份数据库和照片、报表……")
        try:
            made = tasks.create_before_upgrade(backup_dir)
        except tasks.BackupError as error:
            raise click.ClickException(
                f"备份失败，未升级：{error.message.rstrip('。')}。请先解决，或另行备份后加 --no-backup。"
            ) from None
        click.echo(f"已备份到 {made.path}（{made.size:,} 字节，已校验）。如升级失败，可用它恢复。")
    flask_migrate.upgrade(directory, revision, sql, tag, x_arg or g.x_arg)
    if sql or _pending(directory, "head"):
        # Only this release's schema has the tables below (a partial upgrade, a test's).
        if made is not None:
            click.echo(f"升级前备份 {made.path} 未登记：数据库尚未升级到本版本。")
        return
    _after_upgrade(made)


def _after_upgrade(made: tasks.Made | None = None) -> None:
    """Once the database is this release's, after an upgrade or a restore: the backup made
    before it recorded, the values migrations replaced audited, the app role's privileges
    given and checked."""
    with acting_as("cli:upgrade"):
        if made is not None:
            tasks.record_made(made, why="升级前")
        tasks.audit_superseded()
    _refuse_if(tasks.privileges())


def _pending(directory: str | None, revision: str) -> bool:
    """Whether upgrading to `revision` has anything to run on this database."""
    config = current_app.extensions["migrate"].migrate.get_config(directory)
    wanted = {
        script.revision for script in ScriptDirectory.from_config(config).get_revisions(revision)
    }
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != wanted


def install_upgrade() -> None:
    """`flask db upgrade` is this module's: Flask-Migrate's `db` group comes from its entry point
    (which the app's own commands cannot override), so its `upgrade` is replaced in the group."""
    flask_migrate.cli.db.add_command(upgrade)


@backup_cli.command("list")
def list_() -> None:
    """The backups made, newest first."""
    for record in db.session.scalars(
        db.select(BackupRecord).order_by(BackupRecord.id.desc()).limit(30)
    ):
        click.echo(
            f"{record.started_at:%Y-%m-%d %H:%M} {record.status.label:<6} {record.size:>12,} {record.path}"
        )
