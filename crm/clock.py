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


def quarter_of(day: date) -> str:
    """The calendar quarter of a day, written like 2026Q4."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_span(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written like 2026Q3; raises ValueError otherwise."""
    year, number = int(quarter[:4]), int(quarter[5])
    if quarter[4] != "Q" or not 1 <= number <= 4:
        raise ValueError(quarter)
    first = date(year, 3 * number - 2, 1)
    last = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def is_quarter(text: str) -> bool:
    """Whether `text` is a quarter written like 2026Q4."""
    try:
        quarter_span(text)
    except (ValueError, IndexError):
        return False
    return len(text) == 6


def quarter_name(quarter: str) -> str:
    """A quarter written like 2026Q4, as people write it: 2026 年第四季度."""
    first, _ = quarter_span(quarter)
    return f"{first.year} 年第{'一二三四'[(first.month - 1) // 3]}季度"


def recent_quarters(day: date, count: int = 8) -> list[str]:
    """The quarter of `day` and the ones before it, newest first, written like 2026Q4."""
    year, number = day.year, (day.month - 1) // 3 + 1
    found = []
    for _ in range(count):
        found.append(f"{year}Q{number}")
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
    return found


def quarter_label(day: date) -> str:
    """本季度 as people say it: 2026 年第四季度（10–12 月）."""
    number = (day.month - 1) // 3 + 1
    return f"{day.year} 年第{'一二三四'[number - 1]}季度（{3 * number - 2}–{3 * number} 月）"
