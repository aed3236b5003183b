"""The review pages for scopes too large to count on each request: the caseload table's
figures and the alerts' flags stored for everyone at once, read in SQL (crm.review.scale)."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from crm import clock
from crm.accounts.models import Role
from crm.assignments.models import Assignment
from crm.branches.models import Branch
from crm.extensions import db
from crm.problems.models import ProblemStatus
from crm.review import alerts, caseload, tally
from crm.review.models import AlertFlag, CaseloadFigures, DayTally
from crm.review.stored_tables import refresh_if_large
from crm.visits.models import VisitKind
from tests import factories as f
from tests.review.test_review import build_alerts

pytestmark = pytest.mark.postgresql  # stored figures swapped under an advisory lock

NOON = datetime(2026, 11, 18, 12, 0, tzinfo=clock.LOCAL_TIME)  # no month or year boundary near
# (name, district, branches, visits this month, visits 45 days ago, problems raised this year
#  and solved of them)
PEOPLE = [
    ("张伟", "章贡区", 3, 4, 0, 2, 1),
    ("王磊", "章贡区", 1, 0, 1, 0, 0),
    ("欧阳晓梅", "南康区", 6, 2, 0, 3, 3),
    ("李娜", "南康区", 0, 0, 0, 0, 0),
    ("赵强", "章贡区", 2, 7, 0, 1, 0),
]


def build() -> dict[str, int]:
    """The people above with their records; returns each one's instructor id."""
    today = clock.today()
    ids = {}
    for name, district, held, recent, old, raised, solved in PEOPLE:
        me = f.InstructorFactory(account__name=name, district=f.district(district))
        branches = [f.AssignmentFactory(instructor=me).branch for _ in range(held)]
        for n in range(recent):
            f.VisitFactory(instructor=me, branch=branches[n % held],
                           visited_at=clock.now() - timedelta(hours=n + 1))  # fmt: skip
        for n in range(old):
            f.VisitFactory(instructor=me, branch=branches[n % held], kind=VisitKind.ONSITE,
                           visited_at=clock.now() - timedelta(days=45))  # fmt: skip
        for n in range(raised):
            f.ProblemFactory(branch=branches[0], raised_by=me.account, raised_on=today - timedelta(days=3),
                             status=ProblemStatus.SOLVED if n < solved else ProblemStatus.OPEN,
                             closed_on=today - timedelta(days=1) if n < solved else None)  # fmt: skip
        ids[name] = me.id
    return ids


@time_machine.travel(NOON, tick=False)
def test_the_stored_lines_hold_the_figures_counted_live(app):
    with app.app_context():
        ids = build()
        admin = f.AccountFactory(roles=[Role.ADMIN])
        assert caseload.refresh(clock.today()) == len(PEOPLE)
        db.session.commit()
        stored = {r.instructor_id: r for r in db.session.query(CaseloadFigures)}
        live = {r.instructor.id: r for r in caseload.rows(admin, clock.today())}
    for name, _, held, recent, _, raised, solved in PEOPLE:
        line, row = stored[ids[name]], live[ids[name]]
        # What the people above were given, counted here.
        assert (line.name, line.assigned, line.visits) == (name, held, recent)
        assert (line.raised, line.solved) == (raised, solved)
        assert line.rate == (solved / raised if raised else None)
        # And the rest as the live table counts them.
        assert (line.overdue_branches, line.open_problems, line.overdue_problems) == (
            row.overdue_branches, row.open_problems, row.overdue_problems)  # fmt: skip
        assert line.last == row.last
    assert stored[ids["欧阳晓梅"]].initials == "oyxm"


@time_machine.travel(NOON, tick=False)
def test_a_large_scope_reads_the_stored_table_sorted_filtered_and_paged(app, client, auth):
    app.config["REVIEW_LIVE_LIMIT"] = 2  # every scope below holds more
    with app.app_context():
        ids = build()
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        f.AccountFactory(username="zhanggong", roles=[Role.REVIEWER],
                         scope_district=f.district("章贡区"))  # fmt: skip
    auth.login("city")
    names = lambda page: re.findall(r'/instructors/\d+">([^<]+)</a>', page)  # noqa: E731

    page = client.get("/instructors/?sort=visits&order=desc").text  # the first: counted now
    assert "的统计，每 10 分钟更新一次" in page
    by_visits = sorted(PEOPLE, key=lambda p: (-p[3], p[0]))
    assert names(page) == [p[0] for p in by_visits]
    by_assigned = sorted(PEOPLE, key=lambda p: (p[2], p[0]))
    assert names(client.get("/instructors/?sort=assigned").text) == [p[0] for p in by_assigned]
    assert names(client.get("/instructors/?q=oyxm").text) == ["欧阳晓梅"]
    low, high = app.config["ASSIGNMENT_MIN"], app.config["ASSIGNMENT_MAX"]
    under = sorted(p[0] for p in PEOPLE if p[2] < low)
    assert names(client.get("/instructors/?flag=under").text) == under
    assert names(client.get("/instructors/?flag=over").text) == [
        p[0] for p in PEOPLE if p[2] > high
    ]

    # A visit after the count shows at the next count, not before.
    with app.app_context():
        held = db.session.scalars(
            select(Assignment).where(Assignment.instructor_id == ids["王磊"])
        ).one()
        f.VisitFactory(instructor=held.instructor, branch=held.branch,
                       visited_at=clock.now() - timedelta(minutes=5))  # fmt: skip

    def wang_visits() -> str:
        row = re.search(
            r"<tr[^>]*>\s*<td><a [^>]*>王磊</a>.*?</tr>", client.get("/instructors/").text, re.S
        )
        return re.findall(r'<td class="num">(\d+)', row.group(0))[1]  # after the branches held

    assert wang_visits() == "0"
    with app.app_context():
        assert refresh_if_large(clock.today()) is not None
    assert wang_visits() == "1"

    auth.logout()
    auth.login("zhanggong")
    zhanggong = sorted(p[0] for p in PEOPLE if p[1] == "章贡区")
    assert names(client.get("/instructors/").text) == zhanggong


def test_the_job_counts_only_when_some_table_is_too_large(app):
    with app.app_context():
        for _ in range(3):
            f.InstructorFactory()  # no branch: each is flagged by the caseload rule
        tables = lambda: (db.session.query(CaseloadFigures).count(),  # noqa: E731
                          db.session.query(AlertFlag).filter_by(rule="caseload").count())  # fmt: skip
        app.config["REVIEW_LIVE_LIMIT"] = 3
        assert refresh_if_large(clock.today()) is None
        assert tables() == (0, 0)
        # The overview's settled days are stored at every size (issue 19.8), the rest only large.
        assert db.session.query(DayTally).count() > 0
        app.config["REVIEW_LIVE_LIMIT"] = 2
        assert refresh_if_large(clock.today()) is not None
        assert refresh_if_large(clock.today()) is not None  # counted again, not doubled
        assert tables() == (3, 3)
        # And the overview's settled days are stored, so no reviewer waits for them.
        today = clock.today()
        year, month = (
            (today.year, today.month - 11)
            if today.month > 11
            else (today.year - 1, today.month + 1)
        )
        first = date(year, month, 1)  # the first of the twelve months the trend chart shows
        settled = today - timedelta(days=2)
        wanted = {first + timedelta(days=n) for n in range((settled - first).days + 1)}
        assert wanted <= set(db.session.scalars(select(DayTally.day).distinct()))


@pytest.mark.parametrize("sort", ["name", "overdue_problems"])
def test_the_stored_table_does_not_query_per_row(app, client, auth, count_queries, sort):
    app.config["REVIEW_LIVE_LIMIT"] = 0
    with app.app_context():
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        for _ in range(2):
            f.AssignmentFactory()
        refresh_if_large(clock.today())
    auth.login("city")
    with count_queries() as few:
        assert client.get(f"/instructors/?sort={sort}").status_code == 200
    with app.app_context():
        for _ in range(8):
            f.AssignmentFactory()
        refresh_if_large(clock.today())
    with count_queries() as many:
        page = client.get(f"/instructors/?sort={sort}")
    assert len(re.findall(r'/instructors/\d+">', page.text)) == 10
    assert len(many) == len(few), "\n".join(many)


def alert_pages(client) -> dict[str, tuple[str, list[str]]]:
    """Per rule: the tab counts and the objects the page lists, in order."""
    out = {}
    for rule in alerts.RULES:
        page = client.get(f"/review/alerts?rule={rule.key}").text
        tabs = re.findall(r'<span class="count">(\d+)</span>', page)
        rows = re.findall(r'<tr[^>]*>\s*<td><a href="([^"]+)"', page)
        out[rule.key] = (",".join(tabs), rows)
    return out


@pytest.mark.parametrize("username", ["city", "zhanggong"])
def test_stored_alerts_list_what_the_rules_flag_in_their_order(app, client, auth, username):
    build_alerts(app)
    build_alerts(app)  # two of each, to see the order kept
    with app.app_context():
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        f.AccountFactory(username="zhanggong", roles=[Role.REVIEWER],
                         scope_district=f.district("章贡区"))  # fmt: skip
    auth.login(username)
    live = alert_pages(client)
    assert all(rows for _, rows in live.values())  # every rule flags something here
    app.config["REVIEW_LIVE_LIMIT"] = 0
    stored = alert_pages(client)  # the first counts them all now
    assert stored == live
    page = client.get("/review/alerts").text
    assert "范围较大，预警为" in page


def test_stored_alerts_change_at_the_next_count(app, client, auth):
    made = build_alerts(app)
    app.config["REVIEW_LIVE_LIMIT"] = 0
    with app.app_context():
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
    auth.login("city")
    before = alert_pages(client)["unassigned"][1]
    assert f"/branches/{made['章贡区']['unassigned']}" in before
    with app.app_context():
        waiting = db.session.get(Branch, made["章贡区"]["unassigned"])
        f.AssignmentFactory(branch=waiting)
    assert alert_pages(client)["unassigned"][1] == before
    with app.app_context():  # as the scheduler's job runs it
        refresh_if_large(clock.today())
    assert f"/branches/{made['章贡区']['unassigned']}" not in alert_pages(client)["unassigned"][1]


def overview_numbers(client) -> list[str]:
    """Every number the overview shows (tiles, table cells, chart labels), in order."""
    page = client.get("/review/").text
    body = page[page.index("<h2>") :]
    return re.findall(r">([\d.,%]+)<", body)


@time_machine.travel(NOON)
def test_the_overview_from_stored_recent_days_shows_what_counting_shows(app, client, auth):
    with app.app_context():
        build()
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        # Yesterday's and earlier days' records too, so both stored parts are exercised.
        some = f.AssignmentFactory()
        f.VisitFactory(instructor=some.instructor, branch=some.branch,
                       visited_at=clock.now() - timedelta(days=1))  # fmt: skip
        some_id = some.id
    auth.login("city")
    live = overview_numbers(client)
    assert "范围较大" not in client.get("/review/").text
    app.config["REVIEW_LIVE_LIMIT"] = 0
    page = client.get("/review/").text  # the first: counts today's and yesterday's now
    assert "范围较大，今天和昨天的数字为" in page
    assert overview_numbers(client) == live

    # A visit now shows at the next count, not before.
    with app.app_context():
        some = db.session.get(Assignment, some_id)
        f.VisitFactory(instructor=some.instructor, branch=some.branch,
                       visited_at=clock.now() - timedelta(minutes=1))  # fmt: skip
    assert overview_numbers(client) == live
    with app.app_context():
        refresh_if_large(clock.today())
    stored = overview_numbers(client)
    app.config["REVIEW_LIVE_LIMIT"] = 5000
    assert stored == overview_numbers(client) != live


def test_after_midnight_the_overview_counts_the_new_day_before_showing_it(app, client, auth):
    with time_machine.travel(NOON), app.app_context():
        build()
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        refresh_if_large(clock.today())  # nothing: the limit is the default
        app.config["REVIEW_LIVE_LIMIT"] = 0
        refresh_if_large(clock.today())
    with time_machine.travel(NOON + timedelta(days=1, hours=-11, minutes=-55)):  # 00:05 next day
        auth.login("city")
        with app.app_context():
            assert tally.recent_at() is None  # the stored days are a day behind
        page = client.get("/review/").text
        assert "范围较大，今天和昨天的数字为" in page
        with app.app_context():
            assert tally.recent_at().astimezone(clock.LOCAL_TIME).date() == clock.today()
        stored = overview_numbers(client)
        app.config["REVIEW_LIVE_LIMIT"] = 5000
        assert stored == overview_numbers(client)
