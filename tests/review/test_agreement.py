"""Every page that shows whether a branch is overdue, and which problems are open or overdue,
says the same on every day: the phone's due list, the caseload table, the alerts, the
overview's counts and the reports' instructor figures.

A small city lives through July to early October 2026 a day at a time: assignments, a
mid-month handover, an instructor who leaves, visits on and off site, problems raised, moved
along and solved. On each day every page is read, and each is compared with what is worked
out here from the timeline itself (DOMAIN.md's rules, cadence 30 days), not by crm.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import InstructorStatus
from crm.problems import services as problems
from crm.problems.models import ProblemCategory, ProblemStatus
from crm.review import alerts, caseload, figures, holders
from crm.visits import services as visits
from crm.visits.models import VisitKind
from tests import factories as f

CADENCE = 30
FIRST, LAST = date(2026, 7, 1), date(2026, 10, 5)


def day(month: int, number: int) -> date:
    return date(2026, month, number)


@dataclass
class Timeline:
    """What happened, as this test knows it (not as the database says)."""

    held: list[tuple[str, str, date, date | None]] = field(default_factory=list)
    onsite: dict[str, list[date]] = field(default_factory=dict)
    problems: dict[str, dict] = field(default_factory=dict)

    def holder(self, branch: str, on: date) -> str | None:
        for b, who, started, ended in self.held:
            if b == branch and started <= on and (ended is None or ended > on):
                return who
        return None

    def overdue_branch(self, branch: str, on: date) -> bool:
        for b, _, started, ended in self.held:
            if b == branch and started <= on and (ended is None or ended > on):
                since = on - timedelta(days=CADENCE)
                seen = any(since <= d <= on for d in self.onsite.get(branch, []))
                return started < since and not seen
        return False

    def open_problems(self, on: date) -> dict[str, tuple[str, bool]]:
        """Problem name → (its branch, whether overdue), for those open at the end of `on`."""
        return {
            name: (p["branch"], p["due"] < on)
            for name, p in self.problems.items()
            if p["raised"] <= on and (p["closed"] is None or p["closed"] > on)
        }


def test_the_phone_caseload_alerts_overview_and_reports_agree_every_day(app):
    with app.app_context():
        _live_through_the_summer(Timeline())


def _live_through_the_summer(timeline: Timeline) -> None:
    admin = f.AccountFactory(username="admin", roles=[Role.ADMIN])
    reviewer = f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
    people = {n: f.InstructorFactory(account__username=f"zdy-{n}") for n in ("a", "b")}
    branches = {n: f.BranchFactory(name=f"支部{n}") for n in ("b1", "b2", "b3", "b4", "b5")}
    ids = {n: b.id for n, b in branches.items()}
    names = {b.id: n for n, b in branches.items()}
    who_id = {n: i.id for n, i in people.items()}
    who_name = {i: n for n, i in who_id.items()}

    def assign(name: str, branch: str, on: date) -> None:
        assignments.assign(people[name], branches[branch], on=on)
        timeline.held.append((branch, name, on, None))

    def hand_over(branch: str, to: str, on: date) -> None:
        leaving = next(who for b, who, _, e in timeline.held if b == branch and e is None)
        move = assignments.Move(branches[branch], people[to])
        assignments.hand_over(people[leaving], [move], on=on, reason="工作调整")
        timeline.held = [
            (b, w, s, on if (b == branch and e is None) else e) for b, w, s, e in timeline.held
        ]
        timeline.held.append((branch, to, on, None))

    def visit(name: str, branch: str, on: date, kind=VisitKind.ONSITE) -> None:
        f.VisitFactory(instructor=people[name], branch=branches[branch], kind=kind,
                       visited_at=datetime.combine(on, time(10), clock.LOCAL_TIME))  # fmt: skip
        if kind is VisitKind.ONSITE:
            timeline.onsite.setdefault(branch, []).append(on)

    def raise_(name: str, branch: str, on: date, due: date) -> None:
        new = problems.NewProblem(ProblemCategory.HIRING, f"问题{name}", due_on=due)
        found = problems.raise_problem(branches[branch], new, by=admin, on=on)
        db.session.flush()
        timeline.problems[name] = {"id": found.id, "branch": branch, "raised": on, "due": due,
                                   "closed": None}  # fmt: skip

    def move_along(name: str, to: ProblemStatus, on: date) -> None:
        found = db.session.get(problems.Problem, timeline.problems[name]["id"])
        problems.advance(found, to, note="处理情况", on=on, by=admin)
        if to.is_closed:
            timeline.problems[name]["closed"] = on

    events = {
        day(7, 1): [lambda: assign("a", "b1", day(7, 1)), lambda: assign("a", "b2", day(7, 1)),
                    lambda: assign("a", "b3", day(7, 1)), lambda: assign("b", "b4", day(7, 1))],
        day(7, 10): [lambda: visit("a", "b1", day(7, 10)),
                     lambda: visit("a", "b2", day(7, 10), VisitKind.REMOTE)],
        day(7, 15): [lambda: raise_("p1", "b1", day(7, 15), day(7, 25))],
        day(7, 20): [lambda: raise_("p2", "b3", day(7, 20), day(8, 19))],
        day(7, 25): [lambda: assign("b", "b5", day(7, 25))],
        day(8, 5): [lambda: move_along("p1", ProblemStatus.COORDINATING, day(8, 5))],
        day(8, 9): [lambda: visit("a", "b1", day(8, 9))],
        day(8, 13): [lambda: hand_over("b3", "b", day(8, 13))],
        day(8, 15): [lambda: visit("b", "b3", day(8, 15)), lambda: visit("b", "b4", day(8, 15))],
        day(8, 20): [lambda: move_along("p1", ProblemStatus.SOLVED, day(8, 20)),
                     lambda: raise_("p3", "b4", day(8, 20), day(8, 31))],
        day(9, 2): [lambda: visit("a", "b2", day(9, 2))],
        day(9, 10): [lambda: hand_over("b1", "b", day(9, 10)), lambda: hand_over("b2", "b", day(9, 10)),
                     lambda: instructors.set_status(people["a"], InstructorStatus.LEFT, on=day(9, 10))],
        day(9, 12): [lambda: move_along("p3", ProblemStatus.UNSOLVABLE, day(9, 12))],
        day(9, 20): [lambda: visit("b", "b5", day(9, 20))],
    }  # fmt: skip
    checked = Counter()
    today = FIRST
    while today <= LAST:
        with time_machine.travel(datetime.combine(today, time(12), clock.LOCAL_TIME), tick=False):
            for event in events.get(today, []):
                event()
                db.session.commit()
            db.session.expire_all()
            checked.update(_every_page_agrees(today, timeline, people, reviewer, ids, names,
                                              who_id, who_name))  # fmt: skip
        today += timedelta(days=1)
    # The timeline reached every case the rules draw lines at.
    assert checked["due today, not overdue"] >= 2  # the 30th day after an assignment
    assert checked["overdue branch"] >= 10
    assert checked["overdue problem"] >= 10
    assert checked["handover day"] == 2
    assert checked["month end"] == 3


def _every_page_agrees(today, timeline, people, reviewer, ids, names, who_id, who_name) -> Counter:
    seen = Counter()
    overdue_here = {b for b in ids if timeline.overdue_branch(b, today)}
    open_here = timeline.open_problems(today)
    held_here = {b: timeline.holder(b, today) for b in ids}

    # The phone: each instructor's due list.
    for name, person in people.items():
        for line in visits.due_list(db.session.get(type(person), person.id), today):
            branch = names[line.branch.id]
            assert held_here[branch] == name
            assert line.overdue_for_visit == (branch in overdue_here), (today, branch)
            mine = [o for b, o in open_here.values() if b == branch]
            assert (line.problems.open, line.problems.overdue) == (len(mine), sum(mine))
            seen["due today, not overdue"] += line.due_on == today
    # The caseload table: those in post.
    listed = {who_name[row.instructor.id] for row in caseload.rows(reviewer, today)}
    assert listed == ({"b"} if today >= day(9, 10) else {"a", "b"})
    for row in caseload.rows(reviewer, today):
        name = who_name[row.instructor.id]
        mine = [b for b, w in held_here.items() if w == name]
        assert row.overdue_branches == len(overdue_here & set(mine)), (today, name)
        problems_of_mine = [o for b, o in open_here.values() if b in mine]
        assert row.open_problems == len(problems_of_mine)
        assert row.overdue_problems == sum(problems_of_mine)
    # The alerts.
    flagged = db.session.scalars(alerts.statement("overdue_visits", reviewer, today)).all()
    assert {names[b.id] for b in flagged} == overdue_here, today
    late = db.session.scalars(alerts.statement("overdue_problems", reviewer, today)).all()
    assert {p.description for p in late} == {
        f"问题{n}" for n, (_, overdue) in open_here.items() if overdue
    }
    # The overview's counts at the day's end.
    whole = figures.total(figures.by_district([figures.Period(today, today, "")], None)[0])
    assert whole["not_visited"] == len(overdue_here)
    assert whole["overdue"] == sum(o for _, o in open_here.values())
    assert whole["covered"] == sum(1 for w in held_here.values() if w)
    # The reports' figures, per instructor (the month's end is any day's end here).
    counted = holders.by_instructor(today, today, holders.Scope())
    for name, instructor_id in who_id.items():
        numbers = counted.get(instructor_id, Counter())
        mine = [b for b, w in held_here.items() if w == name]
        assert numbers["not_visited"] == len(overdue_here & set(mine)), (today, name)
        assert numbers["overdue"] == sum(o for b, o in open_here.values() if b in mine)
        assert numbers["held"] == len(mine)
    seen["overdue branch"] += len(overdue_here)
    seen["overdue problem"] += sum(o for _, o in open_here.values())
    seen["handover day"] += any(e == today for _, _, _, e in timeline.held)
    seen["month end"] += (today + timedelta(days=1)).day == 1
    return seen
