from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.core.names import initials
from crm.extensions import db
from crm.review import alerts, caseload
from crm.review.models import SpotCheck
from crm.visits.models import Visit, VisitKind
from tests import factories as f


@pytest.fixture
def reviewer(app, auth):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
    auth.login("reviewer")


def test_pinyin_initials_find_an_instructor(app):
    with app.app_context():
        zhang = f.InstructorFactory(account__name="张伟")
        f.InstructorFactory(account__name="王磊")
        admin = f.AccountFactory(roles=[Role.ADMIN])
        assert [r.instructor.id for r in caseload.rows(admin, clock.today(), q="zw")] == [zhang.id]
        assert [r.instructor.name for r in caseload.rows(admin, clock.today(), q="ZW")] == ["张伟"]
        assert initials("欧阳晓梅") == "oyxm"


NOON = datetime(2026, 11, 27, 12, 0, tzinfo=clock.LOCAL_TIME)  # no month or year boundary near


@time_machine.travel(NOON, tick=False)
def test_the_caseload_table_figures(app, client, auth):
    today = clock.today()
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        me = f.InstructorFactory(account__name="张伟")
        kept, late = (
            f.AssignmentFactory(instructor=me, started_on=date(2024, 1, 1)).branch for _ in range(2)
        )
        f.VisitFactory(instructor=me, branch=kept, visited_at=clock.now() - timedelta(hours=2))
        f.VisitFactory(instructor=me, branch=late, visited_at=clock.now() - timedelta(days=45))
        f.ProblemFactory(
            branch=late,
            raised_by=me.account,
            raised_on=today - timedelta(days=1),
            due_on=today + timedelta(days=5),
        )
        f.ProblemFactory(
            branch=late,
            raised_by=me.account,
            raised_on=today.replace(month=1, day=1),
            due_on=today.replace(month=1, day=31),
        )
        row = caseload.rows(f.AccountFactory(roles=[Role.ADMIN]), today)[0]
    month_start = clock.local_midnight(today.replace(day=1))
    expected_visits = 1 + (clock.now() - timedelta(days=45) >= month_start)
    assert (row.caseload.count, row.visits) == (2, expected_visits)
    assert (row.overdue_branches, row.open_problems, row.overdue_problems) == (1, 2, 1)
    assert row.rate == 0.0
    auth.login("reviewer")  # inside the frozen clock: a session signed later would look forged
    page = client.get("/instructors/?sort=overdue_branches&order=desc").text
    assert "张伟" in page


def build_alerts(app):
    """One object for each alert rule, in 章贡区, and a twin in 南康区 for scoping."""
    today = clock.today()
    with app.app_context():
        made = {}
        for district in ("章贡区", "南康区"):
            where = f.district(district)
            me = f.InstructorFactory(district=where, account__name=f"{district}指导员")
            stale = f.AssignmentFactory(instructor=me, started_on=date(2024, 1, 1),
                                        branch__district=where, branch__name=f"{district}久未走访").branch  # fmt: skip
            problem = f.ProblemFactory(branch=stale, raised_on=today - timedelta(days=60),
                                       due_on=today - timedelta(days=30))  # fmt: skip
            waiting = f.BranchFactory(district=where, name=f"{district}待分配")
            flagged = f.VisitFactory(instructor=me, branch=stale, backfilled=True,
                                     visited_at=clock.now() - timedelta(days=40))  # fmt: skip
            made[district] = {"overdue_visits": stale.id, "overdue_problems": problem.id,
                              "caseload": me.id, "unassigned": waiting.id, "unpaired": waiting.id,
                              "flagged_visits": flagged.id,
                              "quiet_meetings": stale.id}  # no 三会 at all this quarter  # fmt: skip
        return made


def test_each_alert_rule_flags_what_it_should_and_a_district_reviewer_sees_their_own(
    app, client, auth
):
    made = build_alerts(app)
    with app.app_context():
        city = f.AccountFactory(roles=[Role.REVIEWER])
        zg = f.AccountFactory(
            username="reviewer-zg", roles=[Role.REVIEWER], scope_district=f.district("章贡区")
        )
        for rule in alerts.RULES:
            found = {
                o.id
                for o in db.session.execute(
                    alerts.statement(rule.key, city, clock.today())
                ).scalars()
            }
            assert {made["章贡区"][rule.key], made["南康区"][rule.key]} <= found, rule.key
            mine = {
                o.id
                for o in db.session.execute(alerts.statement(rule.key, zg, clock.today())).scalars()
            }
            assert made["章贡区"][rule.key] in mine, rule.key
            assert made["南康区"][rule.key] not in mine, rule.key
    auth.login("reviewer-zg")
    page = client.get("/review/alerts?rule=overdue_visits").text
    assert "章贡区久未走访" in page
    assert "南康区久未走访" not in page


def test_a_recorded_action_shows_on_the_alert(app, client, auth):
    made = build_alerts(app)
    with app.app_context():
        f.AccountFactory(
            username="reviewer-zg", roles=[Role.REVIEWER], scope_district=f.district("章贡区")
        )
    auth.login("reviewer-zg")
    done = client.post("/review/alerts/notes", data={"rule": "overdue_problems",
                       "object_id": made["章贡区"]["overdue_problems"], "note": "已电话督促，下周办结"})  # fmt: skip
    assert done.status_code == 303
    assert "已电话督促，下周办结" in client.get("/review/alerts?rule=overdue_problems").text
    other = client.post("/review/alerts/notes", data={"rule": "overdue_problems",
                        "object_id": made["南康区"]["overdue_problems"], "note": "越权"})  # fmt: skip
    assert other.status_code == 303
    with app.app_context():
        from crm.review.models import AlertNote

        assert [n.note for n in db.session.execute(sa.select(AlertNote)).scalars()] == [
            "已电话督促，下周办结"
        ]


def test_returning_a_visit_puts_it_on_top_of_the_phone_until_corrected(app, client, auth, world):
    auth.login("reviewer")
    done = client.post(
        f"/review/visits/{world.visit_a}", data={"text": "请补充见到的人", "action": "return"}
    )
    assert done.status_code == 303
    auth.logout()
    auth.login("zdy-a")
    home = client.get("/branches/").text
    assert home.index("退回修改") < home.index("我联系指导的党组织")
    fixed = client.post(f"/visits/{world.visit_a}/correct", data={"summary": "与书记钟华、业主刘强座谈",
                        "people_met": "钟华、刘强", "clarified": ["people"]})  # fmt: skip
    assert fixed.status_code == 303
    assert "退回修改" not in client.get("/branches/").text
    auth.logout()
    auth.login("reviewer-zg")
    assert client.get(f"/review/visits/{world.visit_a}").status_code == 200
    auth.logout()
    auth.login("zdy-b")
    assert client.get(f"/visits/{world.visit_a}/correct").status_code == 404


def test_spot_checks_draw_n_per_instructor_once_and_record_outcomes(app, client, reviewer):
    app.config["SPOT_CHECKS_PER_INSTRUCTOR"] = 2
    quarter_start = date(2026, 7, 1)
    with app.app_context():
        for name, visits in (("甲", 5), ("乙", 1)):
            me = f.InstructorFactory(account__name=name)
            branch = f.AssignmentFactory(instructor=me).branch
            for n in range(visits):
                f.VisitFactory(instructor=me, branch=branch,
                               visited_at=clock.local_midnight(quarter_start + timedelta(days=n * 7)))  # fmt: skip
    client.post("/review/checks", data={"quarter": "2026Q3"})
    client.post("/review/checks", data={"quarter": "2026Q3"})  # again: nothing more
    with app.app_context():
        drawn = db.session.execute(sa.select(SpotCheck)).scalars().all()
        per = sorted(db.session.get(Visit, c.visit_id).instructor.name for c in drawn)
        check_id = drawn[0].id
    assert per == ["乙", "甲", "甲"]
    refused = client.post(f"/review/checks/{check_id}", data={"outcome": "problem", "note": ""})
    assert refused.status_code == 303
    client.post(
        f"/review/checks/{check_id}", data={"outcome": "problem", "note": "书记称当天未见指导员"}
    )
    assert "书记称当天未见指导员" in client.get("/review/checks?quarter=2026Q3").text


@time_machine.travel(NOON, tick=False)
def test_the_overview_figures_match_counts_made_here(app, client, auth):
    today = clock.today()
    first = today.replace(day=1)
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        zg, nk = f.district("章贡区"), f.district("南康区")
        me = f.InstructorFactory(district=zg)
        branches = [f.AssignmentFactory(instructor=me, branch__district=zg, started_on=date(2024, 1, 1)).branch
                    for _ in range(3)]  # fmt: skip
        f.BranchFactory(district=zg)  # guided, nobody holds it
        f.BranchFactory(district=nk, under_guidance=False)
        this_month = [clock.local_midnight(first) + timedelta(hours=10 + n) for n in range(4)]
        for when in this_month:
            f.VisitFactory(
                instructor=me, branch=branches[0], visited_at=when, kind=VisitKind.ONSITE
            )
        f.VisitFactory(
            instructor=me,
            branch=branches[1],
            visited_at=clock.local_midnight(first) - timedelta(days=3),
        )
        f.ProblemFactory(branch=branches[0], raised_on=first, due_on=first + timedelta(days=30))
        f.ProblemFactory(
            branch=branches[1],
            raised_on=first - timedelta(days=90),
            due_on=first - timedelta(days=60),
        )
        f.MeetingFactory(branch=branches[0], held_on=first)
        f.PairingFactory(branch=branches[0], started_on=date(2025, 1, 1))
    auth.login("reviewer")
    page = client.get(f"/review/?month={first:%Y-%m}").text
    tiles = page[: page.index('class="table by-district"')]

    def tile(label):
        part = tiles[tiles.index(f"<span>{label}</span>") :]
        return part[part.index("<strong>") + 8 : part.index("</strong>")]

    # Branch 0 was visited this month; branch 1 three days before it began; branch 2 never.
    branch_1_late = first - timedelta(days=3) < today - timedelta(days=30)
    assert tile("指导员") == "1"
    assert tile("列入指导的党组织") == "4"
    assert tile("覆盖率（有指导员）") == "75%"
    assert tile("走访") == "4"
    assert tile("超期未走访的党组织") == str(1 + branch_1_late)
    assert tile("登记问题") == "1"
    assert tile("超期问题") == ("2" if today > first + timedelta(days=30) else "1")
    assert tile("三会") == "1"
    assert tile("在册结对") == "1"
    assert "<svg" in page
    assert "口径：自 0.3 起，在岗指导员按录入平台的日期计入月末" in page  # how they count now
    assert "口径：自 0.3 起，在册结对按录入平台的日期计入月末" in page


def test_district_reviewers_see_only_their_district_on_every_review_page(app, client, auth, world):
    auth.login("reviewer-zg")
    overview = client.get("/review/").text
    assert "章贡区" in overview
    assert "<td>南康区</td>" not in overview
    for rule in alerts.BY_KEY:
        assert client.get(f"/review/alerts?rule={rule}").status_code == 200
    caseloads = client.get("/instructors/").text
    assert "zdy-b" not in caseloads
    assert client.get(f"/instructors/{world.instructor_b}").status_code == 404
    assert client.get(f"/branches/{world.branch_b}").status_code == 404


def test_the_service_worker_is_for_instructors_only(client, auth, world):
    auth.login("reviewer")
    assert "data-worker" not in client.get("/review/").text


def test_a_malformed_quarter_is_named(app, client, reviewer):
    response = client.post("/review/checks", data={"quarter": "2026-3"}, follow_redirects=True)
    assert "季度应写成 2026Q3 的形式" in response.text
