"""Which days are working days in China (the reminders' mornings, the assessment's appeal
period): the official calendar with its 调休 working weekends
and public holidays (the `chinesecalendar` package, kept current by upgrading it: each release
adds the next year once the State Council publishes it, usually in November)."""

from datetime import date, timedelta

import chinese_calendar


def is_known(day: date) -> bool:
    """Whether the installed calendar covers the day's year."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    """A working day by the official calendar; for a year it does not cover yet, Monday to
    Friday (the admin's reminder page says so, so the package gets upgraded)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def next_workday(day: date) -> date:
    """The day itself if it is a working day, else the next one."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def weekly_day(day: date) -> date | None:
    """The day of the week of `day` on which the weekly digest goes out: Monday, or the next
    working day of the same week if Monday is a holiday; None when the whole week is off."""
    monday = day - timedelta(days=day.weekday())
    first = next_workday(monday)
    return first if first - monday < timedelta(days=7) else None


def workdays_after(day: date, count: int) -> date:
    """The `count`-th working day after `day` (the day itself not counted)."""
    while count:
        day += timedelta(days=1)
        count -= is_workday(day)
    return day
