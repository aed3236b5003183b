"""The time of day in 赣州: every "today" and "now" in the rules comes from here."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
__all__ = ["LOCAL_TIME", "UTC", "day_of", "local", "local_midnight", "now", "today"]


def now() -> datetime:
    return datetime.now(LOCAL_TIME)


def today() -> date:
    return now().date()


def local_midnight(day: date) -> datetime:
    """The first instant of a day in 赣州."""
    return datetime.combine(day, datetime.min.time(), LOCAL_TIME)


def local(naive: datetime) -> datetime:
    """A wall-clock time typed in 赣州 (a datetime-local input) as an aware datetime. Never
    for a stored timestamp: those are UTC (use day_of, or astimezone(LOCAL_TIME))."""
    if naive.tzinfo is not None:
        return naive.astimezone(LOCAL_TIME)
    return naive.replace(tzinfo=LOCAL_TIME)


def day_of(moment: datetime) -> date:
    """The day in 赣州 of an instant (an aware datetime, or a naive one stored as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).date()
