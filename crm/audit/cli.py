"""`flask audit verify` and `flask audit purge`: check the log's hash chain, drop old entries."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from crm.audit import anchors, services
from crm.audit.services import acting_as
from crm.extensions import db

audit_cli = AppGroup("audit", help="审计日志。")
SHOWN = 50  # faults named one by one; a key that is not the log's makes every entry one


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchor_texts",
    multiple=True,
    metavar="ID:HASH",
    help="月报上印的锚点（第几条及其哈希），可重复",
)
def verify(anchor_texts: tuple[str, ...]) -> None:
    """Recompute the hash chain, check every MAC with the key outside the database, and check
    the chain against the latest checkpoint and any anchors given; exit 1 and name each entry
    where tampering shows."""
    try:
        given = [(int(text.split(":")[0]), text.split(":")[1].strip()) for text in anchor_texts]
    except (ValueError, IndexError):
        raise click.UsageError("锚点应写成 第几条:哈希，例如 1234:9f2c…") from None
    report = anchors.verify(db.session, given)
    for note in report.notes:
        click.echo(note, err=True)
    for broken in report.breaks[:SHOWN]:
        click.echo(f"第 {broken.entry_id} 条：{broken.reason}", err=True)
    if len(report.breaks) > SHOWN:
        click.echo(
            f"……另有 {len(report.breaks) - SHOWN:,} 条不符（共 {len(report.breaks):,} 条）。",
            err=True,
        )
    if not report.intact:
        raise click.exceptions.Exit(1)
    verdict, point = report.verdict, report.checkpoint
    click.echo(f"审计日志完整：已核对 {verdict.checked:,} 条记录。")
    if point is not None:
        click.echo(f"与 {point.at[:16].replace('T', ' ')} 的检查点一致（第 {point.last_id} 条）。")
    else:
        click.echo("尚无检查点：请运行 flask audit checkpoint（调度器每小时运行）。")
    if verdict.unsigned:
        click.echo(f"其中最早的 {verdict.unsigned:,} 条写于启用密钥校验之前，只有哈希链保护。")


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Append a signed checkpoint of the chain's head to the file outside the database."""
    point = anchors.write_checkpoint(db.session)
    if point is None:
        click.echo("审计日志为空，无需检查点。")
        return
    click.echo(f"检查点：第 {point.last_id} 条，共 {point.count:,} 条，哈希 {point.hash}")


@audit_cli.command("purge")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="删除此日期（UTC）以前的记录；必须早于保留期（186 天）。",
)
def purge(before: datetime) -> None:
    """Delete the entries older than a day past the retention period; the purge is logged."""
    try:
        with acting_as("cli:audit"):
            removed = services.purge(before.replace(tzinfo=UTC))
            db.session.commit()
    except services.PurgeRefusedError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"已删除 {removed:,} 条记录。")
