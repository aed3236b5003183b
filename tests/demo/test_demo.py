"""The demo at the city's scale: checked against the article's figures, not the generator's."""

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from crm import clock
from crm.extensions import db
from tests.demo.conftest import load_in_own_process

# the demo's bulk loader has a branch for each database;
# in one xdist group, so that one worker loads the demo, once
pytestmark = [pytest.mark.postgresql, pytest.mark.xdist_group("demo"), pytest.mark.slow]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def valid(code: str) -> bool:
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(ALPHABET.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return len(code) == 18 and (total + ALPHABET.index(code[17])) % 31 == 0


def scalar(sql: str):
    return db.session.execute(sa.text(sql)).scalar_one()


def test_the_demo_has_the_citys_figures(app):
    with app.app_context():
        assert scalar("SELECT count(*) FROM instructor") == 115
        assert scalar("SELECT count(*) FROM branch WHERE sector = 'two_new'") == 2260
        assert scalar("SELECT count(*) FROM branch WHERE sector = 'agency'") == 1563
        assert scalar("SELECT count(*) FROM branch WHERE under_guidance") == 1270
        assert scalar("SELECT count(*) FROM pairing") > 1000
        caseloads = db.session.execute(sa.text(
            "SELECT count(*) FROM assignment WHERE ended_on IS NULL GROUP BY instructor_id"
        )).scalars().all()  # fmt: skip
        unassigned = scalar(
            "SELECT count(*) FROM branch WHERE under_guidance AND id NOT IN "
            "(SELECT branch_id FROM assignment WHERE ended_on IS NULL)"
        )
    assert len(caseloads) == 115
    assert min(caseloads) >= 5
    assert max(caseloads) <= 10
    assert 0 < unassigned < 1270


def test_every_credit_code_is_valid_and_unique(app):
    with app.app_context():
        codes = db.session.execute(sa.text("SELECT credit_code FROM organization")).scalars().all()
    assert all(valid(code) for code in codes)
    assert len(set(codes)) == len(codes)


def test_every_district_has_instructors_and_the_sign_ins_exist(app):
    with app.app_context():
        per_district = Counter(
            db.session.execute(sa.text("SELECT district_id FROM instructor")).scalars()
        )
        usernames = set(db.session.execute(sa.text("SELECT username FROM account")).scalars())
    assert len(per_district) == 20
    expected = {"admin", "reviewer", "reviewer-zg", "security", "auditor"} | {
        f"zdy{n:03d}" for n in range(1, 116)
    }
    assert usernames == expected


def test_demo_password_opens_the_demo_accounts(app, client):
    password = app.config["DEMO_PASSWORD"]
    response = client.post("/login", data={"username": "zdy001", "password": password})
    assert response.headers["Location"] == "/branches/"


def test_three_years_of_visits_and_problems_at_city_scale(app):
    with app.app_context():
        visits = scalar("SELECT count(*) FROM visit")
        resolved = scalar("SELECT count(*) FROM problem WHERE status = 'solved'")
        overdue = scalar(
            "SELECT count(*) FROM problem WHERE status IN ('open', 'coordinating') "
            f"AND due_on < '{clock.today().isoformat()}'"
        )
        never = scalar(
            "SELECT count(*) FROM assignment a WHERE a.ended_on IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM visit v WHERE v.branch_id = a.branch_id)"
        )
        backfilled = scalar("SELECT count(*) FROM visit WHERE backfilled")
    assert 3 * 12_000 * 0.85 <= visits <= 3 * 12_000 * 1.15
    assert 6_200 * 0.9 <= resolved <= 6_200 * 1.1
    assert overdue > 0
    assert 0 < never < 60
    assert 0 < backfilled < visits * 0.1


def test_visits_fall_inside_an_assignment_of_their_instructor(app):
    with app.app_context():
        outside = scalar(
            "SELECT count(*) FROM visit v WHERE NOT EXISTS (SELECT 1 FROM assignment a "
            "WHERE a.instructor_id = v.instructor_id AND a.branch_id = v.branch_id "
            "AND a.started_on <= v.visited_at AND (a.ended_on IS NULL "
            "OR v.visited_at < a.ended_on + 1))"
            if db.engine.dialect.name == "postgresql" else
            "SELECT count(*) FROM visit v WHERE NOT EXISTS (SELECT 1 FROM assignment a "
            "WHERE a.instructor_id = v.instructor_id AND a.branch_id = v.branch_id "
            "AND a.started_on <= date(v.visited_at) AND (a.ended_on IS NULL "
            "OR date(v.visited_at) <= a.ended_on))"
        )  # fmt: skip
    assert outside == 0


def test_some_instructors_fall_behind(app):
    with app.app_context():
        per_branch = db.session.execute(sa.text(
            "SELECT a.instructor_id, count(v.id) * 1.0 / count(DISTINCT a.branch_id) "
            "FROM assignment a LEFT JOIN visit v ON v.branch_id = a.branch_id "
            "AND v.instructor_id = a.instructor_id WHERE a.ended_on IS NULL "
            "GROUP BY a.instructor_id"
        )).all()  # fmt: skip
    rates = sorted(float(rate) for _, rate in per_branch)
    assert rates[len(rates) // 20] < rates[len(rates) // 2] * 0.65  # the slowest 5 % lag far


def test_three_meetings_and_two_cards_for_the_guided_branches(app):
    with app.app_context():
        branches = scalar("SELECT count(DISTINCT branch_id) FROM assignment")
        with_one_secretary = scalar(
            "SELECT count(*) FROM (SELECT branch_id FROM member WHERE role = 'secretary' "
            "GROUP BY branch_id HAVING count(*) = 1) AS s"
        )
        kinds = db.session.execute(sa.text("SELECT DISTINCT kind FROM meeting")).scalars().all()
        foreign = scalar(
            "SELECT count(*) FROM meeting_attendee a JOIN meeting m ON m.id = a.meeting_id "
            "JOIN member p ON p.id = a.member_id WHERE p.branch_id != m.branch_id"
        )
        years = db.session.execute(sa.text(
            "SELECT DISTINCT year FROM goal_card ORDER BY year")).scalars().all()  # fmt: skip
        unlocked_past = scalar(
            f"SELECT count(*) FROM goal_card WHERE year < {clock.today().year} "
            "AND rating IS NOT NULL AND NOT locked"
        )
        entries = scalar("SELECT count(*) FROM vanguard_entry")
        unconfirmed = scalar("SELECT count(*) FROM vanguard_entry WHERE confirmed_on IS NULL")
    assert with_one_secretary == branches
    assert sorted(kinds) == ["decision", "dialogue", "owner"]
    assert foreign == 0
    assert len(years) in (3, 4)  # three years back from today
    assert years[-1] == clock.today().year
    assert unlocked_past == 0
    assert 0 < unconfirmed < entries * 0.3


def test_a_reset_refuses_nothing_and_reloads_the_same_demo(app, runner):
    def fingerprint():
        with app.app_context():
            return db.session.execute(sa.text(
                "SELECT name, credit_code FROM organization ORDER BY id LIMIT 50"
            )).all() + db.session.execute(sa.text(
                "SELECT summary, visited_at FROM visit ORDER BY id LIMIT 50"
            )).all()  # fmt: skip

    first = fingerprint()
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0
    assert "--reset" in again.output
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0
    assert "跳过" in skipped.output
    reset = load_in_own_process(app, "load", "--reset")  # why in its own: tests/demo/conftest.py
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert fingerprint() == first


def test_every_record_kind_is_in_use_at_a_working_citys_rates(app):
    with app.app_context():
        assigned = scalar("SELECT count(*) FROM assignment WHERE ended_on IS NULL")
        today = clock.today().isoformat()
        overdue = scalar(
            "SELECT count(*) FROM assignment a WHERE a.ended_on IS NULL "
            f"AND a.started_on < date('{today}', '-30 days') AND NOT EXISTS "
            "(SELECT 1 FROM visit v WHERE v.branch_id = a.branch_id AND v.kind = 'onsite' "
            f"AND date(v.visited_at, '+8 hours') >= date('{today}', '-30 days'))"
            if db.engine.dialect.name == "sqlite" else
            "SELECT count(*) FROM assignment a WHERE a.ended_on IS NULL "
            f"AND a.started_on < DATE '{today}' - 30 AND NOT EXISTS "
            "(SELECT 1 FROM visit v WHERE v.branch_id = a.branch_id AND v.kind = 'onsite' "
            f"AND (v.visited_at + INTERVAL '8 hours')::date >= DATE '{today}' - 30)"
        )  # fmt: skip
        activities = scalar("SELECT count(*) FROM pairing_activity")
        checks = scalar("SELECT count(*) FROM spot_check")
        checked = scalar("SELECT count(*) FROM spot_check WHERE outcome != 'pending'")
        notes = scalar("SELECT count(*) FROM alert_note")
        sent_back = scalar("SELECT count(*) FROM visit_comment WHERE returned")
        still_back = scalar("SELECT count(*) FROM visit WHERE returned_at IS NOT NULL")
        handovers = db.session.execute(sa.text(
            "SELECT a.ended_on, b.district_id FROM assignment a JOIN branch b ON b.id = a.branch_id "
            "WHERE a.ended_on IS NOT NULL"
        )).all()  # fmt: skip
    assert 0.03 < overdue / assigned < 0.15  # a city that works, with a tenth falling behind
    assert activities > 1_000
    assert 0 < checked < checks
    assert notes > 0
    assert sent_back > still_back > 0  # most were corrected
    by_year = Counter()
    for ended, district in handovers:
        day = date_of(ended)
        if 1 < day.day < 28:  # mid-month
            by_year[(day.year, district)] += 1
    years = {year for year, _ in by_year}
    assert all(len([d for y, d in by_year if y == year]) >= 3 for year in years)
    assert len(years) >= 2


def date_of(value) -> date:
    return date.fromisoformat(str(value)[:10])


def test_a_secretary_has_one_phone_number(app):
    with app.app_context():
        differing = scalar(
            "SELECT count(*) FROM member m JOIN branch b ON b.id = m.branch_id "
            "WHERE m.role = 'secretary' AND (m.phone != b.secretary_phone OR m.name != b.secretary_name)"
        )
        secretaries = scalar("SELECT count(*) FROM member WHERE role = 'secretary'")
    assert secretaries > 900
    assert differing == 0


def test_the_overview_days_are_stored_by_the_load_not_by_the_first_reviewer(app, client):
    """Issue 19.8: the first reviewer after a load waited about a second while the overview's
    settled days were counted and stored; the load stores them now."""
    from crm.review.models import DayTally

    def stored_days() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(DayTally))

    before = stored_days()
    assert before > 0
    client.post("/login", data={"username": "reviewer", "password": app.config["DEMO_PASSWORD"]})
    assert client.get("/review/").status_code == 200
    assert stored_days() == before
