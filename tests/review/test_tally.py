"""The stored day counts agree with the records however late a record is written.

Expected figures are counted here in Python from every record, not by crm.review.
"""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm import clock
from crm.branches.models import Branch
from crm.cards.models import GoalCard, GoalNote, VanguardEntry
from crm.extensions import db
from crm.meetings.models import Meeting
from crm.pairings.models import Pairing
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.review import counts, tally
from crm.review.models import DayTally, StockTally
from crm.visits.models import Visit
from tests import factories as f

pytestmark = pytest.mark.postgresql  # counted days stored under a lock, dates grouped in SQL

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=clock.LOCAL_TIME)
NOV = {n: date(2026, 11, n) for n in range(1, 28)}
FIRST, LAST, AS_OF = NOV[1], NOV[27], NOV[20]


def counted_here(first: date, last: date) -> dict[int, Counter]:
    out: dict[int, Counter] = defaultdict(Counter)
    inside = lambda day: day is not None and first <= day <= last  # noqa: E731
    for visit in db.session.scalars(sa.select(Visit)):
        if inside(visit.visited_at.astimezone(clock.LOCAL_TIME).date()):
            out[visit.branch.district_id]["visits"] += 1
    for problem in db.session.scalars(sa.select(Problem)):
        solved = problem.status == ProblemStatus.SOLVED
        district = out[problem.branch.district_id]
        district["raised"] += inside(problem.raised_on)
        district["solved"] += solved and inside(problem.closed_on)
    for meeting in db.session.scalars(sa.select(Meeting)):
        out[meeting.branch.district_id]["meetings"] += inside(meeting.held_on)
    for entry in db.session.scalars(sa.select(VanguardEntry)):
        if entry.confirmed_on is not None:  # only a confirmed deed counts
            out[entry.card.member.branch.district_id]["entries"] += inside(entry.done_on)
    for note in db.session.scalars(sa.select(GoalNote)):
        card = db.session.get(GoalCard, note.card_id)
        out[db.session.get(Branch, card.branch_id).district_id]["notes"] += inside(note.noted_on)
    return {district: +numbers for district, numbers in out.items() if +numbers}


def through_the_tally(first: date, last: date) -> dict[int, Counter]:
    by_district = tally.flows_by_district(first, last, None)
    by_day = tally.flows_by_day(first, last, None)
    assert sum(by_day.values(), Counter()) == sum(by_district.values(), Counter())
    return {district: +numbers for district, numbers in by_district.items() if +numbers}


def stocks_here(day: date) -> dict[int, Counter]:
    """Overdue problems and pairings in force at the end of `day`, counted here."""
    out: dict[int, Counter] = defaultdict(Counter)
    for problem in db.session.scalars(sa.select(Problem)):
        if problem.raised_on <= day and problem.due_on < day:
            still_open = problem.status in OPEN_STATUSES
            later = problem.closed_on is not None and problem.closed_on > day
            out[problem.branch.district_id]["overdue_open"] += still_open
            out[problem.branch.district_id]["overdue_closed_later"] += later
    for pairing in db.session.scalars(sa.select(Pairing)):
        if pairing.started_on <= day and (pairing.ended_on is None or pairing.ended_on > day):
            out[pairing.branch.district_id]["pairings"] += 1
    return out


def agree() -> None:
    db.session.expire_all()
    assert through_the_tally(FIRST, LAST) == counted_here(FIRST, LAST)
    assert through_the_tally(NOV[5], NOV[12]) == counted_here(NOV[5], NOV[12])
    stored = tally.stocks(AS_OF, None)
    here = stocks_here(AS_OF)
    live = counts.stocks(AS_OF, None)
    for district in set(stored) | set(here):
        for name in ("overdue_open", "overdue_closed_later", "pairings"):
            assert stored.get(district, Counter())[name] == here[district][name], name
        for name in ("guided", "covered", "not_visited"):
            assert stored.get(district, Counter())[name] == live.get(district, Counter())[name]


def solve(problem: Problem, on: date) -> None:
    problem.status, problem.closed_on = ProblemStatus.SOLVED, on


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, datetime.min.time(), clock.LOCAL_TIME) + timedelta(hours=hour)


@pytest.fixture
def november(app):
    """Two districts' records through November, written on time."""
    with time_machine.travel(NOON, tick=False), app.app_context():
        zg, nk = f.district("章贡区"), f.district("南康区")
        one = f.AssignmentFactory(branch__district=zg, started_on=date(2024, 1, 1))
        two = f.AssignmentFactory(branch__district=nk, started_on=date(2024, 1, 1))
        for assignment, days in ((one, (3, 10, 20, 26, 27)), (two, (4, 25))):
            for day in days:
                f.VisitFactory(instructor=assignment.instructor, branch=assignment.branch,
                               visited_at=at(NOV[day], hour=1 if day == 25 else 9))  # fmt: skip
        f.ProblemFactory(branch=one.branch, raised_on=NOV[5], due_on=NOV[15])
        f.ProblemFactory(branch=two.branch, raised_on=NOV[8], due_on=NOV[10],
                         status=ProblemStatus.SOLVED, closed_on=NOV[12])  # fmt: skip
        f.MeetingFactory(branch=one.branch, held_on=NOV[9])
        f.VanguardEntryFactory(card__member__branch=two.branch, done_on=NOV[11])
        card = f.GoalCardFactory(member__branch=one.branch)
        writer = f.AccountFactory()
        db.session.add(GoalNote(card_id=card.id, noted_on=NOV[12], text="x", by_id=writer.id))
        f.PairingFactory(branch=one.branch, started_on=date(2025, 1, 1))
        db.session.commit()
        ids = {"one": one.branch_id, "two": two.branch_id, "card": card.id, "writer": writer.id}
    return ids


@time_machine.travel(NOON, tick=False)
def test_settled_days_are_stored_and_today_and_yesterday_are_not(app, november):
    with app.app_context():
        agree()
        days = set(db.session.scalars(sa.select(DayTally.day).distinct()))
        assert days == {NOV[n] for n in range(1, 26)}  # up to the 25th: two days before today
        assert set(db.session.scalars(sa.select(StockTally.day))) == {AS_OF}


@time_machine.travel(NOON, tick=False)
def test_late_writes_of_every_kind_keep_the_figures_true(app, november):
    with app.app_context():
        agree()
        ids = november
        one, two = db.session.get(Branch, ids["one"]), db.session.get(Branch, ids["two"])
        visit = db.session.scalars(sa.select(Visit).order_by(Visit.visited_at)).first()
        problem = db.session.scalars(
            sa.select(Problem).where(Problem.status == ProblemStatus.OPEN)
        ).one()
        pairing = db.session.scalars(sa.select(Pairing)).one()
        added: list[Branch] = []
        changes = [
            lambda: f.VisitFactory(branch=one, visited_at=at(NOV[10])),  # 补录
            lambda: setattr(visit, "visited_at", at(date(2026, 10, 30))),  # moved out
            lambda: solve(problem, NOV[18]),
            lambda: f.MeetingFactory(branch=one, held_on=NOV[2]),
            lambda: f.VanguardEntryFactory(card__member__branch=two, done_on=NOV[4]),
            lambda: db.session.add(
                GoalNote(card_id=ids["card"], noted_on=NOV[6], text="y", by_id=ids["writer"])
            ),
            lambda: setattr(pairing, "ended_on", NOV[15]),
            lambda: added.append(f.BranchFactory(district=two.district)),  # guided: stocks
            lambda: f.AssignmentFactory(branch=added[0], started_on=NOV[3]),  # covered since
            lambda: setattr(one, "under_guidance", False),
            lambda: setattr(two, "district_id", f.district().id),
        ]
        for change in changes:
            change()
            db.session.commit()
            agree()


@time_machine.travel(NOON, tick=False)
def test_a_deleted_record_leaves_its_days(app, november):
    with app.app_context():
        agree()
        visit_id = db.session.scalars(sa.select(Visit.id).order_by(Visit.visited_at)).first()
        db.session.commit()
        db.session.delete(db.session.get(Visit, visit_id, populate_existing=True))
        db.session.expire_all()
        db.session.commit()
        agree()


@time_machine.travel(NOON, tick=False)
def test_reading_again_counts_nothing_and_writing_today_forgets_nothing(
    app, november, count_queries
):
    with app.app_context():
        agree()
        with count_queries() as statements:
            through_the_tally(FIRST, LAST)
            tally.stocks(AS_OF, None)
        assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "DELETE"))]
        stored = db.session.execute(sa.select(sa.func.count()).select_from(DayTally)).scalar_one()
        with count_queries() as statements:
            f.VisitFactory(branch=db.session.get(Branch, november["one"]), visited_at=clock.now())
        assert not [s for s in statements if "tally" in s]
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(DayTally)).scalar_one()
            == stored
        )
