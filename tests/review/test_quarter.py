"""The 三会 quarter rule seen by the committee (issue 16.8): the caseload's column, the
overview's quarter view and the alert agree, at the quarter's boundaries too, and a withdrawn
meeting was not held. Expected figures are counted here from the meetings made."""

import re
from datetime import date, datetime, time

import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.audit.services import acting_as
from crm.extensions import db
from crm.meetings.models import MeetingKind
from crm.review import caseload
from crm.review.models import CaseloadFigures
from tests import factories as f

ALL = set(MeetingKind)


def on(day: date):
    return time_machine.travel(datetime.combine(day, time(10), clock.LOCAL_TIME), tick=False)


def quarter_of(day: date) -> tuple[date, date]:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, day


def quiet_count(held: dict[str, list[tuple[MeetingKind, date, bool]]], names, today) -> int:
    """Of the named branches, those that did not hold every kind from the quarter's first day
    to today, counting only meetings not withdrawn."""
    first, last = quarter_of(today)
    return sum(
        {kind for kind, day, withdrawn in held[name] if first <= day <= last and not withdrawn}
        != ALL
        for name in names
    )


def admin():
    return db.session.scalar(db.select(f.Account).where(f.Account.username == "reviewer"))


def test_the_caseload_the_overview_and_the_alert_count_quiet_branches_alike(app, client, auth):
    held = {
        "全开": [(k, date(2026, 10, 20), False) for k in MeetingKind],
        "缺一": [(MeetingKind.DECISION, date(2026, 11, 2), False),
                 (MeetingKind.DIALOGUE, date(2026, 11, 3), False),
                 (MeetingKind.OWNER, date(2026, 11, 4), True),  # withdrawn: not held
                 *[(k, date(2026, 9, 30), False) for k in MeetingKind]],
        "未开": [(MeetingKind.OWNER, date(2026, 7, 1), False)],
        "南康全开": [(k, date(2026, 12, 1), False) for k in MeetingKind],
    }  # fmt: skip
    with on(date(2026, 7, 1)), app.app_context(), acting_as("test"):
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        zhang = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        nankang = f.district("南康区")
        li = f.InstructorFactory(account__name="李娜", district=nankang)
        branches = {}
        for name, meetings in held.items():
            instructor = li if name.startswith("南康") else zhang
            branch = f.AssignmentFactory(instructor=instructor, started_on=date(2026, 7, 1),
                                         branch__name=name,
                                         branch__district=instructor.district).branch  # fmt: skip
            branches[name] = branch
            for kind, day, withdrawn in meetings:
                f.MeetingFactory(branch=branch, kind=kind, held_on=day,
                                 withdrawn_on=date(2026, 11, 5) if withdrawn else None)  # fmt: skip
        db.session.commit()
        zhang_id, li_id = zhang.id, li.id
        zhang_names = [n for n in held if not n.startswith("南康")]

    for today in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 12, 2)):
        expected = quiet_count(held, zhang_names, today)
        with on(today):
            with app.app_context():
                live = {r.instructor.id: r.quiet_meetings
                        for r in caseload.rows(admin(), today)}  # fmt: skip
                caseload.refresh(today)
                stored = {r.instructor_id: r.quiet_meetings
                          for r in db.session.scalars(db.select(CaseloadFigures))}  # fmt: skip
            assert live[zhang_id] == stored[zhang_id] == expected, today
            assert live[li_id] == stored[li_id] == quiet_count(held, ["南康全开"], today)
            auth.login("reviewer")
            alerts = client.get("/review/alerts?rule=quiet_meetings").text
            listed = [n for n in held if f">{n}<" in alerts]
            assert len(listed) == expected + quiet_count(held, ["南康全开"], today), today
            overview = client.get("/review/").text
            row = re.search(r"<tr><td>章贡区</td>(.*?)</tr>", overview.split('id="quarter"')[1])
            numbers = [int(n) for n in re.findall(r">(\d+)<", row.group(1))]
            assert numbers[:3] == [3, 3 - expected, expected], (today, numbers)
            page = client.get("/instructors/?sort=quiet_meetings&order=desc").text
            assert "本季度三会未开齐" in page
            auth.logout()

    with on(date(2026, 12, 2)):
        auth.login("reviewer")
        third = client.get("/review/?quarter=2026Q3").text.split('id="quarter"')[1]
        assert "2026 年第三季度" in third
        row = re.search(r"<tr><td>章贡区</td>(.*?)</tr>", third)
        numbers = [int(n) for n in re.findall(r">(\d+)<", row.group(1))]
        assert numbers[:3] == [3, 1, 2]  # on 30 September: 缺一 had held all three
        decision, dialogue, owner = numbers[3:6]
        assert (decision, dialogue, owner) == (1, 1, 2)  # 未开 held 业主列席 on 1 July
