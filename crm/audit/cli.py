"""`flask audit verify` and `flask audit purge`: check the log's hash chain, drop old entries."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from crm.audit import chain, services
from crm.audit.services import acting_as
from crm.extensions import db

audit_cli = AppGroup("audit", help="审计日志。")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 and name each entry that was changed or removed."""
    verdict = chain.verify(db.session)
    for broken in verdict.breaks:
        click.echo(f"第 {broken.entry_id} 条：{broken.reason}", err=True)
    if not verdict.intact:
        raise click.exceptions.Exit(1)
    click.echo(f"审计日志完整：已核对 {verdict.checked:,} 条记录。")


@audit_cli.command("purge")
@click.option("--before", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="删除此日期（UTC）以前的记录；必须早于保留期（186 天）。")  # fmt: skip
def purge(before: datetime) -> None:
    """Delete the entries older than a day past the retention period; the purge is logged."""
    try:
        with acting_as("cli:audit"):
            removed = services.purge(before.replace(tzinfo=UTC))
            db.session.commit()
    except services.PurgeRefusedError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"已删除 {removed:,} 条记录。")
