"""`flask reports monthly` and `flask jobs run`: the month's reports by hand and on schedule."""

import shutil
import time
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from crm import clock
from crm.accounts.models import Account
from crm.audit.services import acting_as
from crm.core.commands import BadInputError
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.organizations.services import district_named
from crm.reports import services, tasks
from crm.reports.models import Report, ReportKind
from crm.rules import RuleError

reports_cli = AppGroup("reports", help="工作月报。")


@reports_cli.command("monthly")
@click.option("--month", required=True, help="月份，例如 2026-10。")
@click.option("--instructor", "username", help="只生成这名指导员（账号）的月报。")
@click.option("--district", help="只生成这个县（市、区）的月报。")
@click.option("--city", is_flag=True, help="只生成全市月报。")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="另存一份到此文件夹。"
)
@click.option("--workers", type=int, help="同时生成的进程数（默认取设置 CRM_REPORT_WORKERS）。")
def monthly(
    month: str,
    username: str | None,
    district: str | None,
    city: bool,
    out: Path | None,
    workers: int | None,
) -> None:
    """Make a month's reports: one subject, or all of them (each instructor, district, city)."""
    if sum(map(bool, (username, district, city))) > 1:
        raise BadInputError("--instructor、--district、--city 只能选一个。")
    try:
        first = services.parse_month(month, clock.today())
    except RuleError as error:
        raise BadInputError(error.message) from None
    subjects = _subjects(username, district, city, first)
    started = time.perf_counter()
    with (
        acting_as("cli:reports"),
        click.progressbar(length=len(subjects), label=f"{first:%Y-%m} 月报", show_pos=True) as bar,
    ):
        made = tasks.make_many(
            subjects,
            first,
            by_id=None,
            workers=workers if len(subjects) > 1 else 0,
            progress=bar.update,
        )
    click.echo(f"已生成 {len(made)} 份，用时 {time.perf_counter() - started:.1f} 秒。")
    reports = db.session.scalars(
        db.select(Report).where(Report.id.in_(made)).order_by(Report.id)
    ).all()
    for report in reports:
        click.echo(
            f"{report.title} {report.month:%Y-%m} 第 {report.version} 版 "
            f"SHA-256 {report.sha256}：{report.change_summary}"
        )
        for line in report.changes or []:
            click.echo(f"  · {line}")
    if out:
        out.mkdir(parents=True, exist_ok=True)
        for report in reports:
            pdf = services.file_of(report)
            shutil.copyfile(pdf, out / pdf.name)
            if pdf.with_suffix(".xlsx").exists():
                shutil.copyfile(pdf.with_suffix(".xlsx"), out / pdf.with_suffix(".xlsx").name)
        click.echo(f"已另存到 {out}（PDF 与 Excel 数据表）")


def _subjects(
    username: str | None, district: str | None, city: bool, month: date
) -> list[services.Subject]:
    if username:
        instructor = db.session.scalar(
            db.select(Instructor).join(Instructor.account).where(Account.username == username)
        )
        if instructor is None:
            raise BadInputError(f"没有账号为 {username} 的指导员。")
        return [services.Subject(ReportKind.INSTRUCTOR, instructor.id)]
    if district:
        found = district_named(district.strip())
        if found is None:
            raise BadInputError(f"没有名为“{district}”的县（市、区）。")
        return [services.Subject(ReportKind.DISTRICT, found.id)]
    if city:
        return [services.Subject(ReportKind.CITY)]
    return services.monthly_subjects(month)
