"""The overview's figures for a period: what happened in it (summed from the days' counts that
crm.review.tally keeps) and what stood at its end."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, true

from crm import clock
from crm.branches.models import Branch
from crm.core import kept
from crm.core.templating import percent
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_at
from crm.problems.models import Problem, ProblemStatus
from crm.review import counts, tally


@dataclass(frozen=True)
class Metric:
    """One figure of the overview and of the monthly reports: its name, its short name as a
    table's column, and how it reads. A rate is a share, shown as a percentage; the overview
    shows a `compared` figure's change against the period before, which is better downwards
    when more is worse."""

    key: str
    name: str
    short: str
    rate: bool = False
    more_is_worse: bool = False
    compared: bool = True
    # How its counting changed, for readers of months counted before (CHANGELOG.md): said
    # on every page and report that shows it (_macros/metrics.html, definition_changes).
    changed: str = ""

    def shown(self, figures: "Figures") -> str | int:
        """Its value in a period's figures: a rate as a percentage, a count as it is (a
        method, not a macro: the tables by district ask for it hundreds of times a page)."""
        return percent(getattr(figures, self.key)) if self.rate else figures[self.key]


AS_ENTERED = (
    "自 0.3 起，{what}按录入平台的日期计入月末：此后补录的，不改写已结束月份的数字；"
    "上线时作为历史数据导入的（及从 0.2 及以前版本升级而来的），按各自的{dates}计。"
)

METRICS = (
    Metric(
        "instructors",
        "指导员",
        "指导员",
        compared=False,
        changed=AS_ENTERED.format(what="在岗指导员", dates="聘用日期"),
    ),
    Metric("guided", "列入指导的党组织", "列入指导", compared=False),
    Metric("covered", "有指导员的党组织", "有指导员", compared=False),
    Metric("coverage", "覆盖率（有指导员）", "覆盖率", rate=True, compared=False),
    Metric("visits", "走访", "走访"),
    Metric("not_visited", "超期未走访的党组织", "超期未走访", more_is_worse=True),
    Metric("raised", "登记问题", "登记问题"),
    Metric("solved", "解决问题", "解决"),
    Metric("overdue", "超期问题", "超期问题", more_is_worse=True),
    Metric("resolution_rate", "解决率（期内登记的问题）", "解决率", rate=True, compared=False),
    Metric("meetings", "三会", "三会"),
    Metric("cards", "两卡记录", "两卡"),
    Metric(
        "pairings",
        "在册结对",
        "在册结对",
        changed=AS_ENTERED.format(what="在册结对", dates="结对开始日期"),
    ),
)
METRIC = {m.key: m for m in METRICS}

NAMES = {m.key: m.name for m in METRICS if not m.rate}
# The overview's tiles and its table's columns: the rates, not the count beside one.
OVERVIEW_METRICS = tuple(m for m in METRICS if m.key != "covered")


@dataclass(frozen=True)
class Period:
    """A span of whole days, first and last included."""

    first: date
    last: date
    label: str

    @property
    def start(self) -> datetime:  # the first instant, in 赣州's time
        return clock.local_midnight(self.first)

    @property
    def stop(self) -> datetime:  # the instant after the last day
        return clock.local_midnight(self.last + timedelta(days=1))

    @property
    def partial(self) -> bool:
        """A month not over yet: it holds fewer days than the month it is part of."""
        return self.first.day == 1 and self.last < _month_end(self.first)

    @property
    def short_label(self) -> str:
        """For a chart's axis: 11月, or 12月（至2日） for a month not over yet."""
        return f"{self.first.month}月" + (f"（至{self.last.day}日）" if self.partial else "")


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month(year: int, number: int, today: date) -> Period:
    first = date(year, number, 1)
    return Period(first, min(_month_end(first), today), f"{year} 年 {number} 月")


def previous_month(period: Period, today: date) -> Period:
    before = period.first - timedelta(days=1)
    return month(before.year, before.month, today)


def year_to_date(today: date) -> Period:
    return Period(date(today.year, 1, 1), today, f"{today.year} 年以来")


def same_span_last_year(period: Period) -> Period:
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)

    return Period(back(period.first), back(period.last), f"{period.first.year - 1} 年同期")


@dataclass
class Figures:
    """The overview's figures for one district (or all) over one period."""

    values: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.values.get(key, 0)

    @property
    def coverage(self) -> float | None:
        return self["covered"] / self["guided"] if self["guided"] else None

    @property
    def resolution_rate(self) -> float | None:
        """Solved by the period's end among the problems raised in it (None when not counted)."""
        if not self["raised"] or "raised_solved" not in self.values:
            return None
        return self["raised_solved"] / self["raised"]


def by_district(
    periods: list[Period],
    district_id: int | None,
    *,
    recent_stored: bool = False,
    rated: Collection[Period] | None = None,
) -> list[dict[int, Figures]]:
    """For each period, the figures of every district (or the one given), keyed by district
    id: what happened in it, and what stood at its end (counted once for periods that end on
    the same day, as the month and the year to date do). With `recent_stored`, today's and
    yesterday's figures are the stored ones (crm.review.tally.refresh_recent)."""
    instructors = {
        day: dict(
            db.session.execute(
                select(Instructor.district_id, func.count())
                .where(
                    in_post_at(day),
                    Instructor.district_id == district_id if district_id else true(),
                )
                .group_by(Instructor.district_id)
            )
            .tuples()
            .all()
        )
        for day in {p.last for p in periods}
    }
    solved = {p: raised_solved(p, district_id) for p in periods if rated is None or p in rated}
    stocks = {
        day: tally.stocks(day, district_id, recent_stored=recent_stored)
        for day in {p.last for p in periods}
    }
    out = []
    for period in periods:
        districts: dict[int, Figures] = {}
        flows = tally.flows_by_district(
            period.first, period.last, district_id, recent_stored=recent_stored
        )
        for part in (
            flows,
            stocks[period.last],
            {d: {"instructors": n} for d, n in instructors[period.last].items()},
            {d: {"raised_solved": n} for d, n in solved.get(period, {}).items()},
        ):
            for district, numbers in part.items():
                values = districts.setdefault(district, Figures()).values
                for name, number in numbers.items():
                    values[name] = values.get(name, 0) + number
        if period in solved:  # counted: none solved is 0 %, not "not counted"
            for figures_ in districts.values():
                figures_.values.setdefault("raised_solved", 0)
        out.append(districts)
    return out


def raised_solved(period: Period, district_id: int | None) -> dict[int, int]:
    """Per district, the problems raised in the period and solved by its end (not by the day
    the figure is read: a month's rate is taken as of its last day, whenever it is shown)."""
    statement = (
        select(Branch.district_id, func.count())
        .select_from(Problem)
        .join(Branch, Branch.id == Problem.branch_id)
        .where(
            Problem.raised_on.between(period.first, period.last),
            # SQLite keeps no statistics and would walk these indexes (most problems are
            # solved, most closed before the period's end) rather than raised_on's.
            counts.unindexed(Problem.status) == ProblemStatus.SOLVED,
            counts.unindexed(Problem.closed_on) <= period.last,
            Branch.district_id == district_id if district_id else true(),
        )
        .group_by(Branch.district_id)
    )
    return dict(db.session.execute(statement).tuples().all())


def total(by_district: dict[int, Figures]) -> Figures:
    whole = Figures()
    for figures_ in by_district.values():
        for key, value in figures_.values.items():
            whole.values[key] = whole.values.get(key, 0) + value
    for figures_ in [whole, *by_district.values()]:
        figures_.values["cards"] = figures_["entries"] + figures_["notes"]
        figures_.values["overdue"] = figures_["overdue_open"] + figures_["overdue_closed_later"]
    return whole


@kept.until_changed
def by_month(
    months: tuple[Period, ...], district_id: int | None, *, recent_stored: bool = False
) -> tuple[list[int], list[int]]:
    """Visits and problems solved in each of the months, from the days' counts."""
    visits, solved = [0] * len(months), [0] * len(months)
    days = tally.flows_by_day(
        months[0].first, months[-1].last, district_id, recent_stored=recent_stored
    )
    for day, numbers in days.items():
        n = next(n for n, m in enumerate(months) if m.first <= day <= m.last)
        visits[n] += numbers["visits"]
        solved[n] += numbers["solved"]
    return visits, solved


def comparable_before(period: Period, today: date) -> Period:
    """What a month is compared with: the month before, or for a month not over yet the same
    days of the month before (1–2 December against 1–2 November, never against the whole of
    November)."""
    before = previous_month(period, today)
    if not period.partial:
        return before
    last = min(before.first + (period.last - period.first), before.last)
    label = f"{before.first.year} 年 {before.first.month} 月 1—{last.day} 日"
    return Period(before.first, last, label)


def overview_pairs(chosen: Period, today: date) -> list[tuple[Period, Period]]:
    """What the overview compares, like with like: the chosen month with the same days of the
    month before, and the year to date with the same span of last year."""
    year = year_to_date(today)
    return [(chosen, comparable_before(chosen, today)), (year, same_span_last_year(year))]


@dataclass(frozen=True)
class Span:
    """A period of the overview beside the one it is compared with: each one's figures by
    district, and their totals."""

    period: Period
    before: Period
    by: dict[int, Figures]
    then_by: dict[int, Figures]

    @property
    def total(self) -> Figures:
        return total(self.by)

    @property
    def then(self) -> Figures:
        return total(self.then_by)

    def visits(self, districts: list, *, earlier: bool = False) -> list[int]:
        """Visits in each of the districts, in their order (the period before's if earlier)."""
        by = self.then_by if earlier else self.by
        return [by.get(d.id, Figures())["visits"] for d in districts]


@kept.until_changed
def overview_spans(
    chosen: Period, today: date, district_id: int | None, *, recent_stored: bool
) -> list[Span]:
    """The overview's periods (overview_pairs), each counted with the one before, in one pass."""
    pairs = overview_pairs(chosen, today)
    counted = iter(
        by_district(
            [p for pair in pairs for p in pair],
            district_id,
            recent_stored=recent_stored,
            rated=[current for current, _ in pairs],
        )
    )
    return [Span(current, before, next(counted), next(counted)) for current, before in pairs]


def last_twelve_months(today: date) -> tuple[Period, ...]:
    periods = [month(today.year, today.month, today)]
    for _ in range(11):
        periods.insert(0, previous_month(periods[0], today))
    return tuple(periods)
