"""Which digests go out on a day, and at what time: the instructors' at 08:00 on each working
day, the reviewers' at 08:30 on the week's first working day (Monday, or the next working day
when Monday is a holiday)."""

from collections.abc import Iterator
from datetime import date, time

from crm.core import workdays
from crm.reminders import digests

DAILY_AT = time(8, 0)
WEEKLY_AT = time(8, 30)


def due_on(
    day: date, account_ids: list[int] | None = None
) -> Iterator[tuple[time, digests.Digest]]:
    """The digests of the day (only those of `account_ids` when given), with their hour."""
    if workdays.is_workday(day):
        for digest in digests.instructor_digests(day, account_ids):
            yield DAILY_AT, digest
    if workdays.weekly_day(day) == day:
        for account in digests.reviewers(account_ids):
            if (digest := digests.reviewer_digest(account, day)) is not None:
                yield WEEKLY_AT, digest


def notes(day: date) -> list[str]:
    """Why a day sends less than usual, in Chinese, for the preview and the admin's page."""
    out = []
    if not workdays.is_known(day):
        out.append(
            f"已安装的节假日日历还没有 {day.year} 年的安排，暂按周一至周五为工作日；"
            "请升级 chinesecalendar。"
        )
    if not workdays.is_workday(day):
        out.append(f"{day:%Y-%m-%d} 不是工作日（法定节假日或休息日），不发晨间提醒。")
    weekly = workdays.weekly_day(day)
    if weekly != day:
        out.append(
            f"本周的每周提醒在 {weekly:%Y-%m-%d} 发送。"
            if weekly
            else "本周没有工作日，不发每周提醒。"
        )
    return out
