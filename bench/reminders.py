"""The city's reminders built and queued (issue 21): every instructor's morning digest and the
reviewers' weekly ones for a Monday, each reader with 企业微信 chosen, on the SQLite demo.

Goal: ≤ 10 s. Also printed: CPU time, and the process's peak memory against the same count
with a tenth of the readers (streaming: the batches do not grow with the count).
Run: .venv/bin/python bench/reminders.py
"""

import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from common import demo_database, use_project_path

use_project_path()


def main() -> None:
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as name:
        os.environ.update(demo_database(Path(name)))
        import sqlalchemy as sa

        from crm import clock, create_app
        from crm.accounts.models import Account
        from crm.extensions import db
        from crm.reminders import outbox
        from crm.reminders.models import OutboxMessage, ReminderChoice

        app = create_app()
        with app.app_context():
            ids = db.session.scalars(sa.select(Account.id)).all()
            db.session.add_all(
                ReminderChoice(account_id=i, wecom_userid=f"u{i}", channels="wecom") for i in ids
            )
            db.session.commit()
            today = clock.today()
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            while not _working(monday):
                monday += timedelta(days=7)
            began, cpu = time.perf_counter(), time.process_time()
            added = outbox.queue(monday, now=clock.local_midnight(monday))
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            rows = db.session.execute(
                sa.select(sa.func.count()).select_from(OutboxMessage)
            ).scalar()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{monday}: {added} messages queued ({rows} rows) in {wall:.2f} s, "
              f"{used:.2f} s of CPU; peak memory {peak:.0f} MB (goal ≤ 10 s)")  # fmt: skip


def _working(day: date) -> bool:
    from crm.core import workdays

    return workdays.is_workday(day) and workdays.weekly_day(day) == day


if __name__ == "__main__":
    main()
