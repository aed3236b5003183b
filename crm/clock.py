"""The time of day in 赣州: every "today" and "now" in the rules comes from here."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
__all__ = ["LOCAL_TIME", "UTC", "local", "local_midnight", "now", "today"]


def now() -> datetime:
    return datetime.now(LOCAL_TIME)


def today() -> date:
    return now().date()


def local_midnight(day: date) -> datetime:
    """The first instant of a day in 赣州."""
    return datetime.combine(day, datetime.min.time(), LOCAL_TIME)


def local(naive: datetime) -> datetime:
    """A wall-clock time typed in 赣州 (a datetime-local input) as an aware datetime."""
    return naive.replace(tzinfo=LOCAL_TIME)
