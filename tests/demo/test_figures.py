"""Every month of the demo's three years, every district: the figures the reports print agree
with figures counted here, in plain Python over the rows, and add up.

The expected figures are counted below from the rows themselves (read with plain SQL), by
the rules of DOMAIN.md, never by calling crm.review or crm.reports.
"""

import bisect
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.extensions import db
from crm.organizations.models import District
from crm.reports import content
from crm.review import figures, holders

# every month's figures against the rows, on the demo;
# in one xdist group, so that one worker loads the demo, once
pytestmark = [pytest.mark.postgresql, pytest.mark.xdist_group("demo"), pytest.mark.slow]

CADENCE = 30  # the demo's VISIT_CADENCE_DAYS (the default)
# The report's instructor table, and the district figure each of its columns adds up to.
COLUMNS = {
    "held": "covered", "visits": "visits", "not_visited": "not_visited", "raised": "raised",
    "solved": "solved", "overdue": "overdue", "meetings": "meetings", "cards": "cards",
}  # fmt: skip


def rows(sql: str) -> list:
    return db.session.execute(sa.text(sql)).all()


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def local_day(value) -> date:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp.replace(tzinfo=UTC).astimezone(clock.LOCAL_TIME).date()


class Records:
    """The demo's rows, read once with plain SQL."""

    def __init__(self) -> None:
        self.district = dict(rows("SELECT id, district_id FROM branch"))
        self.assignments = [
            (b, i, as_date(s), as_date(e) if e else None)
            for b, i, s, e in rows(
                "SELECT branch_id, instructor_id, started_on, ended_on FROM assignment"
            )
        ]
        self.spells = [
            (b, as_date(s), as_date(e) if e else None)
            for b, s, e in rows("SELECT branch_id, started_on, ended_on FROM guidance_spell")
        ]
        self.visits = [
            (b, i, local_day(at), kind)
            for b, i, at, kind in rows(
                "SELECT branch_id, instructor_id, visited_at, kind FROM visit"
            )
        ]
        self.problems = [
            (b, as_date(r), as_date(c) if c else None, status, as_date(d))
            for b, r, c, status, d in rows(
                "SELECT branch_id, raised_on, closed_on, status, due_on FROM problem"
            )
        ]
        self.meetings = [(b, as_date(d)) for b, d in rows("SELECT branch_id, held_on FROM meeting")]
        self.cards = [
            (b, as_date(d))
            for b, d in rows(
                "SELECT m.branch_id, e.done_on FROM vanguard_entry e "
                "JOIN vanguard_card c ON c.id = e.card_id JOIN member m ON m.id = c.member_id "
                "WHERE e.confirmed_on IS NOT NULL"
            )
        ] + [
            (b, as_date(d))
            for b, d in rows(
                "SELECT c.branch_id, n.noted_on FROM goal_note n JOIN goal_card c ON c.id = n.card_id"
            )
        ]
        self.onsite: dict[int, list[date]] = defaultdict(list)
        for branch, _, day, kind in self.visits:
            if kind == "onsite":
                self.onsite[branch].append(day)
        for days in self.onsite.values():
            days.sort()

    def holder(self, branch: int, day: date) -> int | None:
        """Who held the branch at the end of `day` (a handover day is the new holder's)."""
        for b, instructor, started, ended in self.assignments:
            if b == branch and started <= day and (ended is None or ended > day):
                return instructor
        return None

    def month(self, first: date, last: date) -> dict[tuple[int, int | None], Counter]:
        """Per (district, instructor), the month's figures by the rules of DOMAIN.md."""
        out: dict[tuple[int, int | None], Counter] = defaultdict(Counter)
        inside = lambda day: day is not None and first <= day <= last  # noqa: E731

        def add(branch: int, who: int | None, key: str) -> None:
            out[(self.district[branch], who)][key] += 1

        for branch, instructor, day, _ in self.visits:
            if inside(day):
                add(branch, instructor, "visits")
        for branch, raised, closed, status, due in self.problems:
            if inside(raised):
                add(branch, self.holder(branch, raised), "raised")
            if status == "solved" and inside(closed):
                add(branch, self.holder(branch, closed), "solved")
            if raised <= last and due < last and (closed is None or closed > last):
                add(branch, self.holder(branch, last), "overdue")
        for branch, day in self.meetings:
            if inside(day):
                add(branch, self.holder(branch, day), "meetings")
        for branch, day in self.cards:
            if inside(day):
                add(branch, self.holder(branch, day), "cards")
        listed = {b for b, s, e in self.spells if s <= last and (e is None or e > last)}
        for branch, instructor, started, ended in self.assignments:
            if not (started <= last and (ended is None or ended > last)):
                continue
            if branch in listed:
                add(branch, instructor, "held")
            since = last - timedelta(days=CADENCE)
            days = self.onsite.get(branch, [])
            seen = bisect.bisect_left(days, since) < bisect.bisect_right(days, last)
            if started < since and not seen:
                add(branch, instructor, "not_visited")
        return out


def demo_months(app) -> list[date]:
    with app.app_context():
        first = as_date(
            db.session.execute(sa.text("SELECT min(started_on) FROM assignment")).scalar()
        )
    today = clock.today()
    months, month = [], first.replace(day=1)
    while month < today.replace(day=1):
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@pytest.fixture(scope="module")
def records(app):
    with app.app_context():
        return Records()


def test_every_month_and_district_agrees_with_the_rows_and_adds_up(app, records):
    months = demo_months(app)
    assert len(months) >= 35  # three years
    handover_months = 0
    with app.app_context():
        districts = [d.id for d in db.session.scalars(sa.select(District))]
        for month in months:
            period = content.period_of(month)
            expected = records.month(period.first, period.last)
            city = figures.by_district([period], None)[0]  # the city report's district table
            counted = holders.by_district_and_instructor(period.first, period.last)
            for district in districts:
                wanted = Counter()
                for (d, _), numbers in expected.items():
                    if d == district:
                        wanted.update(numbers)
                shown = city.get(district, figures.Figures())
                figures.total({district: shown})  # fills in cards and overdue
                for column, figure in COLUMNS.items():
                    assert shown[figure] == wanted[column], (month, district, figure)
                rows_here = {i: n for (d, i), n in expected.items() if d == district}
                rows_there = {i: n for (d, i), n in counted.items() if d == district}
                for instructor in set(rows_here) | set(rows_there):
                    there = rows_there.get(instructor, Counter())
                    there = Counter({**there, "cards": there["entries"] + there["notes"]})
                    for column in COLUMNS:
                        assert there[column] == rows_here.get(instructor, Counter())[column], (
                            month, district, instructor, column,
                        )  # fmt: skip
            handover_months += any(
                period.first < ended <= period.last
                for _, _, _, ended in records.assignments
                if ended
            )
    assert handover_months >= 12  # the demo hands branches over mid-month in many months


def test_the_district_and_city_reports_print_the_same_rows(app, records):
    """The reports' own path, on the months with a handover: the district report's instructor
    rows add up to its totals, which are the city report's row for the district."""
    months = [
        m for m in demo_months(app)
        if any(m <= ended < (m + timedelta(days=32)).replace(day=1)
               for _, _, _, ended in records.assignments if ended)
    ][-4:]  # fmt: skip
    assert months
    with app.app_context():
        districts = db.session.scalars(sa.select(District).order_by(District.position)).all()
        for month in months:
            period = content.period_of(month)
            city = content.area_month(None, period)
            for district in districts:
                area = content.area_month(district, period)
                total = area.instructor_total
                for column, figure in COLUMNS.items():
                    assert total[column] == area.total[figure], (month, district.name, column)
                shown = city.by_district.get(district.id, figures.Figures())
                for key in figures.NAMES:
                    assert area.total[key] == shown[key], (month, district.name, key)


def test_the_resolution_rate_is_taken_at_each_months_end(app, records):
    """问题解决率（本月登记）: solved by the month's end, not by today."""
    month = demo_months(app)[-3]
    period = content.period_of(month)
    raised = [p for p in records.problems if period.first <= p[1] <= period.last]
    solved_then = [p for p in raised if p[3] == "solved" and p[2] <= period.last]
    solved_now = [p for p in raised if p[3] == "solved"]
    assert len(solved_now) > len(solved_then)  # some were solved after the month: the point
    with app.app_context():
        whole = figures.total(figures.by_district([period], None)[0])
    assert whole.resolution_rate == pytest.approx(len(solved_then) / len(raised))
