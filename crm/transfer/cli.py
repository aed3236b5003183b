"""`flask transfer import KIND FILE [--commit]`: the same import as the web page."""

from pathlib import Path

import click
from flask.cli import AppGroup

from crm.audit.services import acting_as
from crm.transfer import tasks
from crm.transfer.excel import FileRefusedError
from crm.transfer.importers import KINDS

transfer_cli = AppGroup("transfer", help="Excel 导入导出。")


@transfer_cli.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="没有错误时写入数据库；不加则只预演。")
@click.option(
    "--history",
    is_flag=True,
    help="上线时导入的历史数据：新增的指导员、结对按各自的聘用、开始日期计入以往月份。",
)
def import_(kind: str, file: Path, commit: bool, history: bool) -> None:
    """Import a spreadsheet: a dry run unless --commit; exits 1 when any row has a problem."""
    with acting_as("cli:transfer"):
        try:
            run = tasks.import_file if commit else tasks.preview_file
            result = run(kind, file, progress=_progress(), history=history)
        except FileRefusedError as error:
            raise click.ClickException(str(error)) from error
    c = result.counts
    click.echo(
        f"新增 {c['created']}，更新 {c['updated']}，未变 {c['unchanged']}，重复行 {c['duplicate']}"
    )
    for sheet in result.sheets:
        click.echo(f"  {sheet.line}")
    for note in result.notes[:100]:
        click.echo(f"  {note.sheet} {note.text}".rstrip())
    for problem in result.problems[:100]:
        where = f"{problem.sheet} 第 {problem.row} 行 {problem.column}".strip()
        click.echo(f"  {where}“{problem.value}”：{problem.reason}", err=True)
    if len(result.problems) > 100:
        click.echo(f"  …另有 {len(result.problems) - 100} 个问题", err=True)
    if not result.ok:
        click.echo(f"有 {len(result.problems)} 个问题，没有写入任何数据。", err=True)
        raise SystemExit(1)
    click.echo("已全部写入。" if result.committed else "预演完成，没有问题；加 --commit 写入。")


def _progress():
    """Every 1,000 records read, a line on stderr: the file is read as it is imported, so
    its length is not known beforehand."""
    done = 0

    def tell(count: int) -> None:
        nonlocal done
        done += count
        if done % 1000 == 0:
            click.echo(f"已读取 {done:,} 条……", err=True)

    return tell
