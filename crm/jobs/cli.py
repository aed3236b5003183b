"""`flask jobs run` (the scheduler, started by `make run` beside the web server) and
`flask jobs sweep`."""

from datetime import date, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from crm import clock
from crm.audit import anchors
from crm.audit.services import acting_as
from crm.backup import services as backup
from crm.extensions import db
from crm.photos import services as photo_services
from crm.reports import batch, services
from crm.review import stored
from crm.transfer import services as transfer_services

jobs_cli = AppGroup("jobs", help="定时任务。")


@jobs_cli.command("run")
def run() -> None:
    """The scheduler: the month's reports on the 1st at 02:00 (赣州), and at start-up any run
    missed while it was down."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    app = current_app._get_current_object()  # the job runs on the scheduler's own thread
    catch_up()
    scheduler = BlockingScheduler(timezone=clock.LOCAL_TIME)
    scheduler.add_job(
        monthly_job,
        args=(app,),
        trigger=CronTrigger(day=1, hour=2, minute=0, timezone=clock.LOCAL_TIME),
        id="monthly-reports",
        misfire_grace_time=6 * 3600,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        sweep_job,
        args=(app,),
        trigger=CronTrigger(hour=3, minute=30, timezone=clock.LOCAL_TIME),
        id="sweep",
        misfire_grace_time=6 * 3600,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        backup_job,
        args=(app,),
        trigger=CronTrigger(hour=2, minute=30, timezone=clock.LOCAL_TIME),
        id="backup",
        misfire_grace_time=6 * 3600,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        backfill_job, args=(app,), trigger="date", id="report-backfill", misfire_grace_time=None
    )
    scheduler.add_job(
        queued_job,
        args=(app,),
        trigger="interval",
        seconds=10,
        id="report-batches",
        max_instances=1,
        coalesce=True,
    )
    # Every REVIEW_REFRESH_MINUTES, counted from the hour (so once just after midnight).
    every = CronTrigger(
        minute=f"*/{app.config['REVIEW_REFRESH_MINUTES']}", second=20, timezone=clock.LOCAL_TIME
    )
    scheduler.add_job(
        review_job, args=(app,), trigger=every, id="review-figures", max_instances=1, coalesce=True
    )
    # And once at start-up: the first reviewer after an install or a restore does not wait.
    scheduler.add_job(
        review_job, args=(app,), trigger="date", id="review-figures-now", misfire_grace_time=None
    )
    scheduler.add_job(
        checkpoint_job,
        args=(app,),
        trigger=CronTrigger(minute=5, timezone=clock.LOCAL_TIME),
        id="audit-checkpoint",
        max_instances=1,
        coalesce=True,
    )
    click.echo(
        "定时任务已启动：每月 1 日 02:00 生成上月月报；每天 02:30 备份，03:30 清理无主文件；"
        "每小时记录审计日志检查点；"
        "指导员较多时定时统计工作量表和预警；"
        "网页上发起的整月生成在此执行。"
    )
    scheduler.start()


def backfill(now: datetime | None = None) -> int:
    """Make the reports of the REPORTS_BACKFILL_MONTHS months before the due one that no
    scheduler has made, newest first: a new install (or the demo) starts with a year of them.
    Each is claimed first (crm.reports.batch), so none is made twice."""
    now = clock.local(now or clock.now())
    month, made = batch.due_month(now.date(), now.hour >= 2), 0
    with acting_as("scheduler"):
        for _ in range(current_app.config["REPORTS_BACKFILL_MONTHS"]):
            month = (month - timedelta(days=1)).replace(day=1)
            if month < services.earliest_month():
                break
            made += len(batch.run_scheduled(month))
    return made


def backfill_job(app: Flask) -> None:
    with app.app_context():
        backfill()


def catch_up(now: datetime | None = None) -> int:
    """Make the due month's reports that no scheduler has made (none, once they all exist)."""
    now = clock.local(now or clock.now())
    month = batch.due_month(now.date(), now.hour >= 2)
    if month < services.earliest_month():
        return 0
    with acting_as("scheduler"):
        return len(batch.run_scheduled(month))


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Delete files no record claims: photos of forms never saved, spreadsheets whose preview
    was never confirmed (older than CRM_SWEEP_AFTER_HOURS). The scheduler runs it nightly."""
    photos, uploads = sweep()
    click.echo(f"已清理：未保存的照片 {photos} 个，未确认的导入文件 {uploads} 个。")


def sweep() -> tuple[int, int]:
    older_than = timedelta(hours=current_app.config["SWEEP_AFTER_HOURS"])
    return photo_services.sweep(older_than), transfer_services.sweep_uploads(older_than)


def sweep_job(app: Flask) -> None:
    with app.app_context():
        sweep()


def backup_nightly(day: date) -> backup.Made | None:
    """The night's backup, once however many schedulers run; then old ones are deleted."""
    with acting_as("scheduler"):
        made = backup.create(scheduled_for=day)
        backup.prune(current_app.config["BACKUP_KEEP_DAYS"], today=day)
    return made


def backup_job(app: Flask) -> None:
    with app.app_context():
        backup_nightly(clock.today())


def checkpoint_job(app: Flask) -> None:
    """The audit chain's head, signed, into the file outside the database (hourly)."""
    with app.app_context():
        anchors.write_checkpoint(db.session)
        db.session.rollback()


def queued_job(app: Flask) -> None:
    with app.app_context(), acting_as("scheduler"):
        batch.run_queued()


def review_job(app: Flask) -> None:
    with app.app_context():
        stored.refresh_if_large(clock.today())


def monthly_job(app: Flask) -> None:
    with app.app_context():
        catch_up()
