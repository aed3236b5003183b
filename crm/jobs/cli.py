"""`flask jobs run` (the scheduler, started by `make run` beside the web server) and
`flask jobs sweep`."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from crm import clock
from crm.audit import anchors
from crm.audit.services import acting_as
from crm.backup import tasks as backup
from crm.extensions import db
from crm.photos import services as photo_services
from crm.reminders import channels, outbox
from crm.reports import services, tasks
from crm.review import stored_tables
from crm.transfer import services as transfer_services

jobs_cli = AppGroup("jobs", help="定时任务。")


@dataclass(frozen=True)
class Job:
    """One of the scheduler's jobs: what runs, when, and what it is called."""

    id: str
    run: Callable[[Flask], None]
    trigger: Callable[[Flask], Any]  # the app → an APScheduler trigger
    options: dict = field(default_factory=dict)


def _daily(hour: int, minute: int) -> Callable[[Flask], Any]:
    return lambda app: _cron(hour=hour, minute=minute)


def _cron(**fields: Any) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(timezone=clock.LOCAL_TIME, **fields)


MISSED_TODAY = {"misfire_grace_time": 6 * 3600}  # a run missed by less than 6 h still runs
AT_START = {"misfire_grace_time": None}


def _jobs() -> tuple[Job, ...]:
    return (
        Job(
            "monthly-reports", monthly_job, lambda app: _cron(day=1, hour=2, minute=0), MISSED_TODAY
        ),
        Job("backup", backup_job, _daily(2, 30), MISSED_TODAY),
        Job("sweep", sweep_job, _daily(3, 30), MISSED_TODAY),
        Job("report-backfill", backfill_job, lambda app: "date", AT_START),
        Job("report-batches", queued_job, lambda app: _interval(seconds=10)),
        # Every REVIEW_REFRESH_MINUTES, counted from the hour (so once just after midnight),
        Job(
            "review-figures",
            review_job,
            lambda app: _cron(minute=f"*/{app.config['REVIEW_REFRESH_MINUTES']}", second=20),
        ),
        # and once at start-up: the first reviewer after an install or a restore does not wait.
        Job("review-figures-now", review_job, lambda app: "date", AT_START),
        Job("audit-checkpoint", checkpoint_job, lambda app: _cron(minute=5)),
        # The day's digests queued at 08:00 (the weekly ones wait in the outbox until 08:30),
        Job("reminders-queue", reminders_queue_job, _daily(8, 0), MISSED_TODAY),
        # and the outbox sent every half minute, outside the quiet hours.
        Job("reminders-send", reminders_send_job, lambda app: _interval(seconds=30)),
    )


def _interval(**every: int) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(timezone=clock.LOCAL_TIME, **every)


@jobs_cli.command("run")
def run() -> None:
    """The scheduler: the jobs above, each at most one at a time; at start-up, the month's
    reports missed while it was down."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()  # the jobs run on the scheduler's own threads
    catch_up()
    scheduler = BlockingScheduler(timezone=clock.LOCAL_TIME)
    for job in _jobs():
        options = {"max_instances": 1, "coalesce": True, **job.options}
        scheduler.add_job(job.run, args=(app,), trigger=job.trigger(app), id=job.id, **options)
    click.echo(
        "定时任务已启动：每月 1 日 02:00 生成上月月报；每天 02:30 备份，03:30 清理无主文件；"
        "每小时记录审计日志检查点；"
        "指导员较多时定时统计工作量表和预警；"
        "网页上发起的整月生成在此执行；"
        "工作日 08:00 发指导员晨间提醒，每周第一个工作日 08:30 发督导员每周提醒。"
    )
    scheduler.start()


def backfill(now: datetime | None = None) -> int:
    """Make the reports of the REPORTS_BACKFILL_MONTHS months before the due one that no
    scheduler has made, newest first: a new install (or the demo) starts with a year of them.
    Each is claimed first (crm.reports.tasks), so none is made twice."""
    now = clock.local(now or clock.now())
    month, made = tasks.due_month(now.date(), now.hour >= 2), 0
    with acting_as("scheduler"):
        for _ in range(current_app.config["REPORTS_BACKFILL_MONTHS"]):
            month = (month - timedelta(days=1)).replace(day=1)
            if month < services.earliest_month():
                break
            made += len(tasks.run_scheduled(month))
    return made


def backfill_job(app: Flask) -> None:
    with app.app_context():
        backfill()


def catch_up(now: datetime | None = None) -> int:
    """Make the due month's reports that no scheduler has made (none, once they all exist)."""
    now = clock.local(now or clock.now())
    month = tasks.due_month(now.date(), now.hour >= 2)
    if month < services.earliest_month():
        return 0
    with acting_as("scheduler"):
        return len(tasks.run_scheduled(month))


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
        tasks.run_queued()


def review_job(app: Flask) -> None:
    with app.app_context():
        stored_tables.refresh_if_large(clock.today())


def monthly_job(app: Flask) -> None:
    with app.app_context():
        catch_up()


def reminders_queue_job(app: Flask) -> None:
    with app.app_context():
        outbox.queue(clock.today())


def reminders_send_job(app: Flask) -> None:
    with app.app_context():
        if senders := channels.configured(app.config):
            outbox.deliver(senders)
