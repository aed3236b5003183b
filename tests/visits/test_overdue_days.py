"""Days overdue over a stretch (the annual assessment's year), counted between visits, agree
with due_on() and is_overdue() asked day by day, for any start and any visits: before the
stretch, on its first or last day, several close together, none."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.visits import overdue

FIRST = date(2025, 1, 1)
days = st.integers(min_value=-200, max_value=400).map(lambda n: FIRST + timedelta(days=n))


def walked(held_since: date, onsite: list[date], first: date, last: date) -> int:
    count, day = 0, first
    while day <= last:
        before = [d for d in onsite if d <= day]
        due = overdue.due_on(held_since, before[-1] if before else None)
        count += overdue.is_overdue(due, day)
        day += timedelta(days=1)
    return count


def test_counted_between_visits_as_day_by_day(app):
    @settings(max_examples=200, deadline=None, database=None)
    @given(
        held_since=days,
        onsite=st.lists(days, max_size=8, unique=True).map(sorted),
        length=st.integers(min_value=0, max_value=400),
    )
    def agrees(held_since, onsite, length):
        last = FIRST + timedelta(days=length)
        first = max(FIRST, held_since)
        if first <= last:
            counted = overdue.days_overdue_within(held_since, onsite, first, last)
            assert counted == walked(held_since, onsite, first, last)

    with app.app_context():  # the cadence is a setting
        agrees()
