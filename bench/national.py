"""National scale on PostgreSQL (issue 9): DOMAIN.md's 250,000 instructors, 1.85 million
branches and 20 million visits, or a fraction of them (`--scale`, default 0.1), generated
inside PostgreSQL with generate_series, then measured:

- the instructor's home (`/branches/`) and a visit post (with two problems): p95 <= 50 ms;
- the review pages for one district's reviewer and for the whole dataset: p95 <= 500 ms;
- one instructor's monthly report.

Run: .venv/bin/python bench/national.py [--scale 0.1] [--url postgresql+psycopg://...]
Without --url a throwaway PostgreSQL 15 is started (as the tests do) and removed after.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

from common import ROOT, use_project_path

use_project_path()

NATIONAL = {"instructors": 250_000, "branches": 1_850_000, "visits": 20_000_000}
# The server as a national deployment would set it (the tests' server keeps the defaults).
SERVER = "-c shared_buffers=4GB -c work_mem=64MB -c maintenance_work_mem=1GB -c max_wal_size=16GB"
PER_INSTRUCTOR = 7  # branches each instructor guides (5-10 in life; 7 keeps the sums simple)
PASSWORD = "Bench@2026-pw"
ROUNDS = 20


def build(url: str, scale: float, today: date) -> dict[str, int]:
    """Fill a migrated, empty database; every row made by PostgreSQL itself."""
    import sqlalchemy as sa
    from argon2 import PasswordHasher  # the library's current parameters, as a deployment's

    instructors = round(NATIONAL["instructors"] * scale)
    guided = instructors * PER_INSTRUCTOR
    branches = max(round(NATIONAL["branches"] * scale), guided)
    visits = round(NATIONAL["visits"] * scale)
    start = today - timedelta(days=3 * 365)
    span = (today - start).days * 86400
    password_hash = PasswordHasher().hash(PASSWORD)
    steps = {
        "account": f"""
            INSERT INTO account (id, username, name, password_hash, active, created_at, updated_at)
            SELECT n, 'n' || lpad(n::text, 6, '0'), '指导员' || n, :hash, true, now(), now()
            FROM generate_series(1, {instructors}) n""",
        "reviewers": f"""
            INSERT INTO account (id, username, name, password_hash, active, scope_district_id, created_at, updated_at)
            VALUES ({instructors + 1}, 'bench-reviewer', '全国审阅', :hash, true, NULL, now(), now()),
                   ({instructors + 2}, 'bench-reviewer-d', '县区审阅', :hash, true,
                    (SELECT id FROM district ORDER BY position LIMIT 1), now(), now())""",
        "account_role": f"""
            INSERT INTO account_role (account_id, role)
            SELECT n, 'instructor' FROM generate_series(1, {instructors}) n
            UNION ALL VALUES ({instructors + 1}, 'reviewer'), ({instructors + 2}, 'reviewer')""",
        "instructor": f"""
            INSERT INTO instructor (id, account_id, phone, district_id, hired_on, status, created_at, updated_at)
            SELECT n, n, '138' || lpad(n::text, 8, '0'), d.ids[1 + n % 20], '2020-01-01', 'active', now(), now()
            FROM generate_series(1, {instructors}) n,
                 (SELECT array_agg(id ORDER BY position) ids FROM district) d""",
        # Branch n of the guided ones belongs to instructor (n - 1) / 7 + 1, in that one's district.
        "branch": f"""
            INSERT INTO branch (id, name, kind, sector, district_id, secretary_name, secretary_phone,
                                member_count, under_guidance, created_at, updated_at)
            SELECT n, '党组织' || n, 'branch', 'two_new', d.ids[1 + ((n - 1) / {PER_INSTRUCTOR} + 1) % 20],
                   '书记', '', 5, n <= {guided}, now(), now()
            FROM generate_series(1, {branches}) n,
                 (SELECT array_agg(id ORDER BY position) ids FROM district) d""",
        "assignment": f"""
            INSERT INTO assignment (id, instructor_id, branch_id, started_on, end_reason, created_at, updated_at)
            SELECT n, (n - 1) / {PER_INSTRUCTOR} + 1, n, '{start}', '', now(), now()
            FROM generate_series(1, {guided}) n""",
        "visit": f"""
            INSERT INTO visit (id, instructor_id, branch_id, client_key, visited_at, received_at, kind, summary,
                               people_met, clarified_people, clarified_operation, clarified_needs,
                               clarified_base, clarified_resources, far_from_branch, backfilled, return_note,
                               created_at, updated_at)
            SELECT n, (b - 1) / {PER_INSTRUCTOR} + 1, b, 'v' || n, at, at,
                   CASE WHEN n % 3 = 0 THEN 'remote' ELSE 'onsite' END, '走访', '',
                   false, false, false, false, false, n % 97 = 0, n % 53 = 0, '', now(), now()
            FROM (SELECT n, 1 + (n * 7919::bigint) % {guided} AS b,
                         timestamp '{start}' + ((n * 104729::bigint) % {span}) * interval '1 second' AS at
                  FROM generate_series(1, {visits}) n) v""",
        "problem": f"""
            INSERT INTO problem (id, branch_id, visit_id, raised_by_id, raised_on, category, description,
                                 responsible, department, due_on, status, resolution, closed_on,
                                 created_at, updated_at)
            SELECT v.id / 10, v.branch_id, v.id, v.instructor_id, v.visited_at::date, 'hiring', '问题', '', '',
                   v.visited_at::date + 30,
                   CASE WHEN v.id % 100 < 90 AND v.visited_at::date + 5 + v.id % 85 < '{today}'
                        THEN 'solved' ELSE 'open' END, '',
                   CASE WHEN v.id % 100 < 90 AND v.visited_at::date + 5 + v.id % 85 < '{today}'
                        THEN v.visited_at::date + 5 + v.id % 85 END, now(), now()
            FROM visit v WHERE v.id % 10 = 0""",
    }
    engine = sa.create_engine(url)
    timings = {}
    with engine.begin() as connection:
        for name, sql in steps.items():
            began = time.perf_counter()
            connection.execute(sa.text(sql), {"hash": password_hash})
            timings[name] = time.perf_counter() - began
            print(f"  {name:12} {timings[name]:7.1f} s", flush=True)
        for table in ("account", "instructor", "branch", "assignment", "visit", "problem"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return {
        "instructors": instructors,
        "branches": branches,
        "visits": visits,
        "problems": visits // 10,
    }


def measure(url: str) -> None:
    """In this process: the instructor's pages and posts, the review pages, one report."""
    os.environ.update({"CRM_SECRET_KEY": "bench", "CRM_DATABASE_URL": url,
                       "CRM_REPORTS_DIR": tempfile.mkdtemp(prefix="national-reports-")})  # fmt: skip
    from review_pages import PAGES, report
    from visit_post import FORM

    from crm import clock
    from crm.extensions import db
    from wsgi import app

    app.config["WTF_CSRF_ENABLED"] = False
    phone = app.test_client()
    assert (
        phone.post("/login", data={"username": "n000001", "password": PASSWORD}).status_code == 302
    )
    home = time_pages(phone, ["/branches/"])
    url_form = re.search(r'href="(/branches/\d+/visits/new)"', phone.get("/branches/").text).group(
        1
    )
    posts, run = [], int(time.time())
    for n in range(200):
        data = {
            **FORM,
            "client_key": f"national{run}x{n:06d}",  # new keys each run: not answered as retries
            "visited_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
        }
        began = time.perf_counter()
        answer = phone.post(url_form, data=data, headers={"Accept": "application/json"})
        posts.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 201, answer.status_code
    report(
        "the instructor (guides 7 branches)",
        {**home, "POST a visit with two problems": [posts[0], *posts]},
    )

    # What the scheduler's review job does every REVIEW_REFRESH_MINUTES at this size (the pages
    # below read what it stores: crm.review.stored_tables).
    from crm.review import alerts, caseload, tally

    with app.app_context():
        for name, count in (("today and yesterday", tally.refresh_recent),
                            ("caseload table", caseload.refresh), ("alerts", alerts.refresh)):  # fmt: skip
            began = time.perf_counter()
            rows = count(clock.today())
            db.session.commit()
            print(f"review job, {name}: {rows} rows in {time.perf_counter() - began:.1f} s")

    reminders(app)
    assessment(app)

    for username, title in (
        ("bench-reviewer-d", "a district's reviewer"),
        ("bench-reviewer", "the whole dataset"),
    ):
        reviewer = app.test_client()
        assert (
            reviewer.post("/login", data={"username": username, "password": PASSWORD}).status_code
            == 302
        )
        report(f"review pages, {title}", time_pages(reviewer, PAGES))

    from crm.reports import services

    with app.app_context():
        month = (clock.today().replace(day=1) - timedelta(days=1)).replace(day=1)
        subject = services.Subject(services.ReportKind.INSTRUCTOR, 1)
        began = time.perf_counter()
        services.make(subject, month, by=None)
        db.session.commit()
        print(f"one instructor's monthly report: {(time.perf_counter() - began) * 1000:.0f} ms")
        db.session.rollback()


def reminders(app) -> None:
    """Issue 21: every instructor's morning digest and the reviewers' weekly ones built and
    queued for a Monday, each reader with 企业微信 chosen: ≤ 10 min of one core at national
    scale, in constant memory (the peak before and after, and the CPU time, are printed)."""
    import resource

    import sqlalchemy as sa

    from crm import clock
    from crm.core import workdays
    from crm.extensions import db
    from crm.reminders import outbox

    with app.app_context():
        db.session.execute(sa.text("DELETE FROM outbox_message"))
        db.session.execute(sa.text("DELETE FROM reminder_choice"))
        db.session.execute(sa.text(
            "INSERT INTO reminder_choice (account_id, wecom_userid, email, mobile, channels, daily,"
            " weekly, created_at, updated_at) SELECT id, 'u' || id, '', '', 'wecom', true, true,"
            " now(), now() FROM account"
        ))  # fmt: skip
        db.session.commit()
        monday = clock.today() + timedelta(days=7 - clock.today().weekday())
        while not (workdays.is_workday(monday) and workdays.weekly_day(monday) == monday):
            monday += timedelta(days=7)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        began, cpu = time.perf_counter(), time.process_time()
        added = outbox.queue(monday, now=clock.local_midnight(monday))
        wall, used = time.perf_counter() - began, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"reminders for {monday}: {added} queued in {wall:.1f} s ({used:.1f} s of this "
              f"process's CPU); peak memory {before:.0f} MB before, {after:.0f} MB after")  # fmt: skip


def assessment(app) -> None:
    """Issue 22: the computed part of the annual assessment for a province (here one of the 20
    districts the data is spread over: 12,500 instructors, 87,500 branches at full scale, more
    than any real province) for last year and this year to date: ≤ 5 min, in constant memory."""
    import resource

    import sqlalchemy as sa

    from crm import clock
    from crm.assessment import indicators
    from crm.extensions import db

    with app.app_context():
        district = db.session.scalar(sa.text("SELECT id FROM district ORDER BY position LIMIT 1"))
        ids = list(
            db.session.scalars(
                sa.text("SELECT id FROM instructor WHERE district_id = :d"), {"d": district}
            )
        )
        for number in (clock.today().year - 1, clock.today().year):
            year = indicators.Year.of(number, clock.today())
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            began, cpu = time.perf_counter(), time.process_time()
            counted = sum(1 for _ in indicators.computed(year, ids))
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"assessment {number}, computed part of {counted} instructors: {wall:.1f} s "
                  f"({used:.1f} s of this process's CPU); peak memory {before:.0f} MB before, "
                  f"{after:.0f} MB after", flush=True)  # fmt: skip


def time_pages(client, pages: list[str]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for page in pages:
        for _ in range(ROUNDS + 1):  # the first is reported apart
            began = time.perf_counter()
            response = client.get(page)
            timings.setdefault(page, []).append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (page, response.status_code)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--url")
    parser.add_argument("--measure-only")
    args = parser.parse_args()
    if args.measure_only:
        measure(args.measure_only)
        return
    from tests.postgres import throwaway_postgres

    def run(url: str) -> None:
        env = {**os.environ, "CRM_SECRET_KEY": "bench", "CRM_DATABASE_URL": url}
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"], env=env, cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        from crm import clock

        began = time.perf_counter()
        counts = build(url, args.scale, clock.today())
        print(
            f"built {counts} in {time.perf_counter() - began:.0f} s (scale {args.scale})",
            flush=True,
        )
        subprocess.run([sys.executable, __file__, "--measure-only", url], check=True)

    if args.url:
        run(args.url)
    else:
        with throwaway_postgres("crm_national", SERVER) as url:
            run(url)


if __name__ == "__main__":
    main()
