"""The reminders' records: instructors with something due and one with nothing, in two
districts, and a reviewer of each scope, on a fixed working day."""

from datetime import date, datetime, time

import pytest
import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.meetings.models import MeetingKind
from crm.problems.models import ProblemCategory, ProblemStatus
from crm.visits.models import VisitKind
from tests import factories as f

DAY = date(2026, 11, 18)  # a Wednesday, a working day
STARTED = date(2026, 9, 1)


@pytest.fixture
def on_day():
    with time_machine.travel(datetime.combine(DAY, time(7, 30), clock.LOCAL_TIME), tick=False):
        yield


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), clock.LOCAL_TIME)


@pytest.fixture
def records(app, on_day):
    """Instructor `a` (章贡区): one branch never visited, one due in three days, one visited on
    Monday with its three meetings held; `quiet` (章贡区) has nothing due; `c` (南康区) has a
    branch never visited."""
    with app.app_context():
        a = f.InstructorFactory(account__username="a", account__name="甲指导员")
        never = f.AssignmentFactory(instructor=a, branch__name="从未走访党支部", started_on=STARTED)
        soon = f.AssignmentFactory(instructor=a, branch__name="将到期党支部", started_on=STARTED)
        fine = f.AssignmentFactory(instructor=a, branch__name="刚走访党支部", started_on=STARTED)
        f.VisitFactory(instructor=a, branch=soon.branch, visited_at=at(date(2026, 10, 22)))
        f.VisitFactory(instructor=a, branch=fine.branch, visited_at=at(date(2026, 11, 16)))
        returned = f.VisitFactory(
            instructor=a, branch=never.branch, kind=VisitKind.REMOTE,
            visited_at=at(date(2026, 11, 10)), returned_at=at(date(2026, 11, 12)),
            return_note="请补充王小明的联系方式",
        )  # fmt: skip
        for kind in MeetingKind:
            f.MeetingFactory(branch=fine.branch, kind=kind, held_on=date(2026, 10, 20))
        due_soon = f.ProblemFactory(
            branch=fine.branch, raised_on=date(2026, 11, 1), due_on=date(2026, 11, 20),
            category=ProblemCategory.RECRUITMENT, description="党员王小明 13912345678 转入",
        )  # fmt: skip
        late = f.ProblemFactory(branch=soon.branch, raised_on=date(2026, 10, 1),
                                due_on=date(2026, 11, 8), category=ProblemCategory.BUSINESS)  # fmt: skip
        f.ProblemFactory(
            branch=fine.branch, raised_on=date(2026, 11, 10), due_on=date(2026, 11, 28)
        )
        f.ProblemFactory(branch=fine.branch, raised_on=date(2026, 10, 1), due_on=date(2026, 10, 9),
                         status=ProblemStatus.SOLVED, closed_on=date(2026, 10, 8))  # fmt: skip

        quiet = f.InstructorFactory(account__username="quiet")
        held = f.AssignmentFactory(instructor=quiet, started_on=STARTED)
        f.VisitFactory(instructor=quiet, branch=held.branch, visited_at=at(date(2026, 11, 13)))
        for kind in MeetingKind:
            f.MeetingFactory(branch=held.branch, kind=kind, held_on=date(2026, 10, 20))

        nankang = f.district("南康区")
        c = f.InstructorFactory(account__username="c", account__name="丙指导员", district=nankang)
        f.AssignmentFactory(instructor=c, branch__district=nankang, started_on=STARTED)

        f.AccountFactory(username="reviewer-zg", roles=[Role.REVIEWER], scope_district=f.district())
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        db.session.commit()
        return {
            "a": a.account_id, "quiet": quiet.account_id, "c": c.account_id,
            "never": never.branch_id, "soon": soon.branch_id, "fine": fine.branch_id,
            "returned": returned.id, "due_soon": due_soon.id, "late": late.id,
        }  # fmt: skip
