"""The overview's counts kept per settled day, so a year's figures are a sum of stored rows.

A day is settled once it is LIVE_DAYS old: today and yesterday are always counted from the
records (a visit saved just before midnight may commit just after it). A settled day's rows
are made the first time a period needs them. The session hook below deletes them when a
record dated that day is written later: a 补录 visit, a problem solved or edited, a meeting
or a card record entered late. Stocks ("as of the end of the day") depend on everything
before the day too, so a late write deletes the stock rows of its day and every day after.

Counting and storing happen under one lock (SQLite's write lock; an advisory lock on
PostgreSQL, which the hook takes too) so a late write cannot slip in between them.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from crm import clock
from crm.assignments.models import Assignment
from crm.branches.models import Branch, GuidanceSpell
from crm.cards.models import GoalCard, GoalNote, VanguardCard, VanguardEntry
from crm.db import as_utc
from crm.extensions import db, writing
from crm.locking import Lock, advisory_lock, replace_rows
from crm.meetings.models import Meeting
from crm.members.models import Member
from crm.organizations.models import District
from crm.pairings.models import Pairing
from crm.problems.models import Problem
from crm.review import counts
from crm.review.models import DayTally, RecentTally, StockTally
from crm.review.scale import StoredTable
from crm.visits.models import Visit

LIVE_DAYS = 2


def settled(today: date) -> date:
    """The last day whose counts may be stored."""
    return today - timedelta(days=LIVE_DAYS)


# --- reading --------------------------------------------------------------------------------


def flows_by_district(
    first: date, last: date, district_id: int | None, *, recent_stored: bool = False
) -> dict[int, Counter]:
    """Per district, what happened from `first` to `last`. With `recent_stored`, today and
    yesterday come from RecentTally (refresh_recent) instead of the records."""
    return _flows(
        first,
        last,
        district_id,
        DayTally.district_id,
        lambda day, district: district,
        recent_stored,
    )


def flows_by_day(
    first: date, last: date, district_id: int | None, *, recent_stored: bool = False
) -> dict[date, Counter]:
    """Per day, what happened in the district (or all) from `first` to `last`."""
    return _flows(first, last, district_id, DayTally.day, lambda day, district: day, recent_stored)


def _flows(
    first: date,
    last: date,
    district_id: int | None,
    group: Any,
    key_of: Callable,
    recent_stored: bool,
) -> dict:
    """Stored days summed in SQL by `group`, and the live days counted and added to them."""
    out: dict = defaultdict(Counter)
    end = min(last, settled(clock.today()))
    if first <= end:
        _store_flows(first, end)
        sums = [func.sum(getattr(DayTally, name)) for name in counts.FLOWS]
        statement = (
            select(group, *sums)
            .where(DayTally.day.between(first, end), _scope(DayTally, district_id))
            .group_by(group)
        )
        for key, *numbers in db.session.execute(statement):
            out[key].update(dict(zip(counts.FLOWS, map(int, numbers), strict=True)))
    if (live := max(first, end + timedelta(days=1))) <= last:
        counted = _live_flows(live, last, recent_stored)
        for (day, district), numbers in counted.items():
            if district_id is None or district == district_id:
                out[key_of(day, district)].update(numbers)
    return dict(out)


def _live_flows(first: date, last: date, recent_stored: bool) -> dict[tuple[date, int], Counter]:
    """The days not stored yet (today and yesterday), counted once a request: the overview asks
    for them for the month, the year to date and the trend alike (three times the same six
    queries, a sixth of its time). Outside a request (a command, a job, which may write between
    two reads) they are counted each time."""
    count = recent_flows if recent_stored else counts.flows
    if not has_request_context():
        return count(first, last)
    kept = g.setdefault("live_flows", {})
    if (first, last, recent_stored) not in kept:
        kept[first, last, recent_stored] = count(first, last)
    return kept[first, last, recent_stored]


def stocks(
    day: date, district_id: int | None, *, recent_stored: bool = False
) -> dict[int, Counter]:
    """Per district, what stood at the end of `day`. With `recent_stored`, today's and
    yesterday's come from RecentTally instead of the records.

    A settled day not stored yet is counted and stored here, and committed: a page that reads
    it (a GET) writes this cache, so that the next one does not count it again. It happens
    after an install, a restore or a branch moving district; store_overview_days() (the
    scheduler, the demo, a restore) stores the days the overview reads first, so it is rare."""
    cadence = current_app.config["VISIT_CADENCE_DAYS"]
    if day > settled(clock.today()):
        if recent_stored:
            return {d: c for d, c in recent_stocks(day).items() if district_id in (None, d)}
        return counts.stocks(day, district_id)
    stored = _stored_stocks(day, cadence, district_id)
    if not stored:
        with writing():
            _lock()
            if not (stored := _stored_stocks(day, cadence, district_id)):
                db.session.execute(sa.delete(StockTally).where(StockTally.day == day))
                counted = counts.stocks(day, None)
                db.session.execute(
                    sa.insert(StockTally),
                    [
                        {
                            "day": day,
                            "district_id": d,
                            "cadence_days": cadence,
                            **{n: counted.get(d, Counter())[n] for n in counts.STOCKS},
                        }
                        for d in _district_ids()
                    ],
                )
                stored = {d: c for d, c in counted.items() if district_id in (None, d)}
            db.session.commit()
    return stored


def _stored_stocks(day: date, cadence: int, district_id: int | None) -> dict[int, Counter]:
    rows = db.session.scalars(
        select(StockTally).where(
            StockTally.day == day,
            StockTally.cadence_days == cadence,
            _scope(StockTally, district_id),
        )
    )
    return {row.district_id: Counter({n: getattr(row, n) for n in counts.STOCKS}) for row in rows}


def _store_flows(first: date, last: date) -> None:
    """Count and store every day from `first` to `last` (settled days) not stored yet."""
    wanted = (last - first).days + 1
    if _stored_days(first, last) == wanted:
        return
    with writing():
        _lock()
        present = set(
            db.session.scalars(
                select(DayTally.day).where(DayTally.day.between(first, last)).distinct()
            )
        )
        missing = [d for d in _days(first, last) if d not in present]
        if missing:
            counted, districts = counts.flows(missing[0], missing[-1]), _district_ids()
            db.session.execute(
                sa.insert(DayTally),
                [
                    {
                        "day": day,
                        "district_id": d,
                        **{n: counted.get((day, d), Counter())[n] for n in counts.FLOWS},
                    }
                    for day in missing
                    for d in districts
                ],
            )
        db.session.commit()


def _stored_days(first: date, last: date) -> int:
    statement = select(func.count(func.distinct(DayTally.day))).where(
        DayTally.day.between(first, last)
    )
    return db.session.execute(statement).scalar_one()


def _days(first: date, last: date) -> Iterator[date]:
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)


def _district_ids() -> list[int]:
    return list(db.session.scalars(select(District.id)))


def _scope(
    model: type[DayTally] | type[StockTally], district_id: int | None
) -> sa.ColumnElement[bool]:
    return model.district_id == district_id if district_id else sa.true()


def _lock() -> None:
    advisory_lock(db.session, Lock.TALLY)


# --- today and yesterday, stored for scopes too large to count them on each request -------------


def refresh_recent(today: date) -> int:
    """Count today's and yesterday's figures for every district and store them (RecentTally);
    returns how many rows. The caller commits."""
    cadence = current_app.config["VISIT_CADENCE_DAYS"]
    days, now, districts = (today - timedelta(days=1), today), clock.now(), _district_ids()
    flows = counts.flows(*days)
    stocks = {day: counts.stocks(day, None) for day in days}
    rows = [
        {
            "day": day,
            "district_id": d,
            "cadence_days": cadence,
            "counted_at": now,
            **{n: flows.get((day, d), Counter())[n] for n in counts.FLOWS},
            **{n: stocks[day].get(d, Counter())[n] for n in counts.STOCKS},
        }
        for day in days
        for d in districts
    ]
    replace_rows(db.session, RecentTally, rows, Lock.RECENT_SWAP)
    return len(rows)


def recent_at() -> datetime | None:
    """When today's and yesterday's figures were stored, if they are today's (after midnight
    the stored ones are a day behind: None until the next count)."""
    row = db.session.execute(
        select(func.max(RecentTally.counted_at)).where(RecentTally.day == clock.today())
    ).scalar_one()
    return as_utc(row)


def recent_flows(first: date, last: date) -> dict[tuple[date, int], Counter]:
    rows = db.session.scalars(select(RecentTally).where(RecentTally.day.between(first, last)))
    return {(r.day, r.district_id): Counter({n: getattr(r, n) for n in counts.FLOWS}) for r in rows}


def recent_stocks(day: date) -> dict[int, Counter]:
    rows = db.session.scalars(select(RecentTally).where(RecentTally.day == day))
    return {r.district_id: Counter({n: getattr(r, n) for n in counts.STOCKS}) for r in rows}


# --- forgetting -----------------------------------------------------------------------------

# Which dates of a record place it in the flows (the days it counts on) and in the stocks (the
# first day whose end it can change).
FLOW_DATES = {
    Visit: ("visited_at",),
    Problem: ("raised_on", "closed_on"),
    Meeting: ("held_on",),
    VanguardEntry: ("done_on",),
    GoalNote: ("noted_on",),
}
STOCK_DATES = {
    Visit: ("visited_at",),
    Problem: ("raised_on", "closed_on"),
    Assignment: ("started_on", "ended_on"),
    Pairing: ("started_on", "ended_on"),
    GuidanceSpell: ("started_on", "ended_on"),
}
# A change that moves records between districts (or deletes a record others are counted
# through) makes every stored count doubtful. Taking a branch in or out of guidance writes a
# GuidanceSpell dated that day (crm.branches.services), which STOCK_DATES places.
MOVES = {
    Branch: "district_id",
    Member: "branch_id",
    GoalCard: "branch_id",
    VanguardCard: "member_id",
}
ALL = date.min  # as the first stock day touched: all of them


class _UnknownDateError(Exception):
    """A deleted record whose date was never loaded: which days it counted on is unknown."""


def install() -> None:
    if not event.contains(Session, "after_flush", _forget):
        event.listen(Session, "after_flush", _forget)


def _forget(session: Session, flush_context: UOWTransaction) -> None:
    if has_request_context():
        g.pop("live_flows", None)  # a request that writes counts its live days again
    try:
        flow_days, stock_from = _touched(session)
    except _UnknownDateError:
        flow_days, stock_from = None, ALL
    today = clock.today()
    if flow_days is not None:
        flow_days = {day for day in flow_days if day < today}
    if stock_from is not None and stock_from >= today:
        stock_from = None
    if flow_days == set() and stock_from is None:
        return
    connection = session.connection()
    advisory_lock(connection, Lock.TALLY)
    if flow_days is None:
        connection.execute(sa.delete(DayTally))
    elif flow_days:
        connection.execute(sa.delete(DayTally).where(DayTally.day.in_(flow_days)))
    if stock_from is not None:
        connection.execute(sa.delete(StockTally).where(StockTally.day >= stock_from))


def _touched(session: Session) -> tuple[set[date] | None, date | None]:
    """The flow days the flush touches (None: all) and the first stock day it touches."""
    flow_days: set[date] = set()
    stock_days: set[date] = set()
    # Taken once: each reading of session.new builds the set anew, and asking it for every
    # object made a flush of n new objects cost n² (an import of 25,000 rows: 200 s).
    new, deleted = session.new, session.deleted
    for obj in (*new, *session.dirty, *deleted):
        cls, state = type(obj), inspect(obj)
        if (
            cls in MOVES
            and (obj in deleted or state.attrs[MOVES[cls]].history.has_changes())
            and obj not in new
        ):
            return None, ALL
        if cls is Branch and obj not in new and state.attrs["sector"].history.has_changes():
            stock_days.add(ALL)
        flow_days |= _dates(session, obj, FLOW_DATES.get(cls, ()), new, deleted)
        stock_days |= _dates(session, obj, STOCK_DATES.get(cls, ()), new, deleted)
    return flow_days, min(stock_days, default=None)


def _dates(session: Session, obj: Any, names: tuple[str, ...], new: Any, deleted: Any) -> set[date]:
    """The old and new values of the named date attributes, as days in 赣州."""
    days: set[date] = set()
    state = inspect(obj)
    for name in names:
        history = state.attrs[name].history
        values = [*history.added, *history.unchanged, *history.deleted]
        if not values and name in state.unloaded and obj not in new:  # expired
            if obj in deleted:  # its row is gone already
                raise _UnknownDateError
            column = state.mapper.columns[name]
            key = state.mapper.primary_key[0]
            values = [
                session.connection()
                .execute(select(column).where(key == state.identity[0]))
                .scalar_one()
            ]
        for value in values:
            if isinstance(value, datetime):
                days.add(clock.day_of(value))
            elif isinstance(value, date):
                days.add(value)
    return days


RECENT_TABLE = StoredTable(
    "the overview's figures for today and yesterday", (RecentTally,), refresh_recent, recent_at
)
