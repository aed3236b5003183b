"""The scheduler's table of jobs: when each runs next, read from APScheduler's own triggers."""

from datetime import datetime

from crm import clock
from crm.jobs import cli

NOW = datetime(2026, 11, 30, 23, 50, 7, tzinfo=clock.LOCAL_TIME)


def test_each_job_runs_when_the_readme_says(app):
    app.config["REVIEW_REFRESH_MINUTES"] = 15
    triggers = {job.id: job.trigger(app) for job in cli._jobs()}
    following = {
        key: trigger.get_next_fire_time(None, NOW)
        for key, trigger in triggers.items()
        if not isinstance(trigger, str) and key not in ("report-batches", "reminders-send")
    }
    at = lambda *parts: datetime(*parts, tzinfo=clock.LOCAL_TIME)  # noqa: E731
    assert following == {
        "monthly-reports": at(2026, 12, 1, 2, 0),
        "backup": at(2026, 12, 1, 2, 30),
        "sweep": at(2026, 12, 1, 3, 30),
        "review-figures": at(2026, 12, 1, 0, 0, 20),
        "audit-checkpoint": at(2026, 12, 1, 0, 5),
        "reminders-queue": at(2026, 12, 1, 8, 0),  # every day; on a holiday it queues nothing
    }
    # every 10 s and every 30 s from their start
    assert triggers["report-batches"].interval.total_seconds() == 10
    assert triggers["reminders-send"].interval.total_seconds() == 30
    # run once, as soon as the scheduler starts
    assert triggers["report-backfill"] == triggers["review-figures-now"] == "date"
    assert len(triggers) == len(cli._jobs())  # no two jobs share an id
