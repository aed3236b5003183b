"""The reports' tasks, which commit their own work (a view or a command only starts them): many
reports at once on every core, each worker process running its own app; the scheduler's
claims on a month's reports; the months asked for from the web, run by the scheduler."""

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from crm import clock
from crm.accounts.models import Account
from crm.extensions import db, writing
from crm.locking import reads_first
from crm.reports import services
from crm.reports.models import BatchStatus, ReportBatch, ScheduledReport
from crm.rules import RuleError

CLAIM_STALE = timedelta(minutes=30)  # a claim this old with no report: its maker died

_worker_app: Flask | None = None


def make_many(
    subjects: Iterable[services.Subject],
    month: date,
    *,
    by_id: int | None,
    scheduled: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> list[int]:
    """Make each subject's report for the month; return the new reports' ids.

    Scheduled runs claim each report first and skip those already claimed, so a report is
    made once however many schedulers run. `workers` worker processes make them (by default
    REPORT_WORKERS); 0 makes them in this process.
    """
    if workers is None:
        workers = current_app.config["REPORT_WORKERS"]
    keys = [s.key for s in subjects]
    made: list[int] = []
    if workers == 0:
        for key in keys:
            if (report_id := make_one(key, month, by_id, scheduled)) is not None:
                made.append(report_id)
            progress(1)
        return made
    db.session.commit()  # outside requests SQLite's write lock is taken at a transaction's start
    settings = {k: v for k, v in current_app.config.items() if k.isupper()}
    context = multiprocessing.get_context("spawn")  # nothing of this process's connections
    factory = current_app.extensions["factory"]  # pickled by name: the worker imports it
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(factory, settings)
    ) as pool:
        futures = [pool.submit(_in_worker, key, month, by_id, scheduled) for key in keys]
        for future in as_completed(futures):
            if (report_id := future.result()) is not None:
                made.append(report_id)
            progress(1)
    return made


def _start_worker(factory: Callable[[dict], Flask], settings: dict) -> None:
    global _worker_app
    _worker_app = factory(settings)


def _in_worker(key: str, month: date, by_id: int | None, scheduled: bool) -> int | None:
    if _worker_app is None:
        raise RuntimeError("a report worker runs only in a pool started by make_many()")
    with _worker_app.app_context():
        return make_one(key, month, by_id, scheduled)


def make_one(key: str, month: date, by_id: int | None, scheduled: bool) -> int | None:
    db.session.commit()  # the reads below begin a transaction of their own, without the lock
    with reads_first():
        return _make_one(key, month, by_id, scheduled)


def _make_one(key: str, month: date, by_id: int | None, scheduled: bool) -> int | None:
    subject = services.Subject.parse(key)
    if scheduled and not claim(subject, month):
        return None
    by = db.session.get(Account, by_id) if by_id else None
    report = services.make(subject, month, by=by)
    if scheduled:
        with writing():
            db.session.execute(
                update(ScheduledReport)
                .where(ScheduledReport.subject == key, ScheduledReport.month == month)
                .values(report_id=report.id)
            )
            db.session.commit()
    return report.id


def claim(subject: services.Subject, month: date) -> bool:
    """Take the schedule's claim on one report of one month: True for the one that may make it.

    The unique row decides between schedulers; a claim left by a maker that died (old, with no
    report) is taken over.
    """
    with writing():
        try:
            with db.session.begin_nested():
                db.session.add(
                    ScheduledReport(subject=subject.key, month=month, claimed_at=clock.now())
                )
        except IntegrityError:
            taken_over = db.session.execute(
                update(ScheduledReport)
                .where(
                    ScheduledReport.subject == subject.key,
                    ScheduledReport.month == month,
                    ScheduledReport.report_id.is_(None),
                    ScheduledReport.claimed_at < clock.now() - CLAIM_STALE,
                )
                .values(claimed_at=clock.now())
            )
            if taken_over.rowcount != 1:
                db.session.rollback()
                return False
        db.session.commit()
    return True


def due_month(now_local_date: date, hour_passed: bool) -> date:
    """The month whose reports are due: the one before the latest 1st whose 02:00 has passed."""
    first = now_local_date.replace(day=1)
    if now_local_date.day == 1 and not hour_passed:
        first = (first - timedelta(days=1)).replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def run_scheduled(
    month: date, *, workers: int | None = None, progress: Callable[[int], None] = lambda n: None
) -> list[int]:
    return make_many(
        services.monthly_subjects(month),
        month,
        by_id=None,
        scheduled=True,
        workers=workers,
        progress=progress,
    )


def request_month(month: date, *, by: Account) -> ReportBatch:
    """Queue a whole month's reports for the scheduler process; one batch a month at a time.
    The batch holds the whole city: only those who see everything may ask for one."""
    if not by.sees_everything:
        raise RuleError("整月生成包含全市的月报，只有管理员和市级审阅人员可以发起。")
    waiting = db.session.scalar(
        select(ReportBatch).where(
            ReportBatch.month == month,
            ReportBatch.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
        )
    )
    if waiting is not None:
        raise RuleError(
            f"{month:%Y-%m} 的月报正在生成（{waiting.done}/{waiting.total}），请稍候。", "month"
        )
    batch = ReportBatch(
        month=month, requested_by_id=by.id, total=len(services.monthly_subjects(month))
    )
    db.session.add(batch)
    return batch


def run_queued(*, workers: int | None = None) -> int | None:
    """Run the oldest queued batch, if any, counting its progress; returns its id."""
    db.session.commit()
    batch_id = db.session.scalar(
        select(ReportBatch.id)
        .where(ReportBatch.status == BatchStatus.QUEUED)
        .order_by(ReportBatch.id)
    )
    if batch_id is None:
        return None
    with writing():
        taken = db.session.execute(
            update(ReportBatch)
            .where(ReportBatch.id == batch_id, ReportBatch.status == BatchStatus.QUEUED)
            .values(status=BatchStatus.RUNNING)
        )
        db.session.commit()
    if taken.rowcount != 1:
        return None  # another scheduler took it
    batch = db.session.get(ReportBatch, batch_id)
    month, by_id = batch.month, batch.requested_by_id
    subjects = services.monthly_subjects(month)
    db.session.commit()

    def advance(n: int) -> None:
        with writing():
            db.session.execute(
                update(ReportBatch)
                .where(ReportBatch.id == batch_id)
                .values(done=ReportBatch.done + n)
            )
            db.session.commit()

    try:
        make_many(subjects, month, by_id=by_id, workers=workers, progress=advance)
    except Exception as error:  # the page must say it stopped, whatever stopped it
        db.session.rollback()
        _finish(batch_id, BatchStatus.FAILED, f"生成中断：{error}"[:300])
        raise
    _finish(batch_id, BatchStatus.DONE, "")
    return batch_id


def _finish(batch_id: int, status: BatchStatus, message: str) -> None:
    with writing():
        db.session.execute(
            update(ReportBatch)
            .where(ReportBatch.id == batch_id)
            .values(status=status, message=message, finished_at=clock.now())
        )
        db.session.commit()


def recent_batches(limit: int = 5) -> list[ReportBatch]:
    return list(
        db.session.scalars(select(ReportBatch).order_by(ReportBatch.id.desc()).limit(limit))
    )
