"""Server time of every review page, city demo on SQLite and province scale on both databases.

Targets (issue 6): p95 <= 150 ms with the city demo on SQLite; <= 300 ms with 1,500
instructors, 25,000 branches and 450,000 visits, on SQLite and on PostgreSQL.
Run: .venv/bin/python bench/review_pages.py [--skip-postgres]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import demo_database, percentile, use_project_path

use_project_path()

PAGES = ["/review/", "/instructors/", "/instructors/?sort=visits&order=desc", "/review/checks"] + [
    f"/review/alerts?rule={rule}" for rule in
    ("overdue_visits", "overdue_problems", "caseload", "unassigned", "unpaired", "flagged_visits", "quiet_meetings")]  # fmt: skip
ROUNDS = 15


def measure(env: dict, username: str, password: str | None) -> dict[str, list[float]]:
    os.environ.update(env)
    from crm.extensions import db
    from wsgi import app  # as the servers start it (wsgi.py freezes start-up objects from GC)

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    if password is None:  # a generated dataset: give the reviewer a password
        from crm.accounts import services
        from crm.accounts.services import find_by_username

        with app.app_context():
            services.set_password(find_by_username(username), "Bench@2026-pw")
            db.session.commit()
        password = "Bench@2026-pw"
    assert (
        client.post("/login", data={"username": username, "password": password}).status_code == 302
    )
    timings: dict[str, list[float]] = {}
    for page in PAGES:
        started = time.perf_counter()
        client.get(page)  # the first: on the overview, counts and stores the settled days
        timings.setdefault(page, []).append((time.perf_counter() - started) * 1000)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(page)
            timings.setdefault(page, []).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, page
    return timings


def report(title: str, timings: dict[str, list[float]]) -> None:
    print(title)
    for page, (first, *millis) in timings.items():
        print(
            f"  {page:42} p95 {percentile(millis, 95):7.1f} ms  median {sorted(millis)[len(millis) // 2]:7.1f} ms"
            f"  (first request {first:6.0f} ms)"
        )


def province(url: str) -> dict:
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from province import build

    from crm import clock, create_app

    env = {"CRM_SECRET_KEY": "bench", "CRM_DATABASE_URL": url}
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    counts = build(sa.create_engine(url), clock.today())
    print(f"  built {counts['visit']:,} visits, {counts['branch']:,} branches, {counts['instructor']:,} "
          f"instructors in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return env


def run_in_child(kind: str, url: str = "") -> None:
    """Each measurement in a fresh interpreter: the app reads its settings once."""
    import subprocess

    subprocess.run([sys.executable, __file__, "--child", kind, url], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        kind, url = args.child
        if kind == "city":
            with tempfile.TemporaryDirectory() as folder:
                report(
                    "city demo, SQLite",
                    measure(demo_database(Path(folder)), "reviewer", "Ganzhou@2026"),
                )
        else:
            env = province(url)
            report(f"province scale, {kind}", measure(env, "bench-reviewer", None))
        return
    run_in_child("city")
    with tempfile.TemporaryDirectory() as folder:
        run_in_child("SQLite", f"sqlite:///{folder}/province.sqlite3")
    if not args.skip_postgres:
        from tests.postgres import throwaway_postgres

        with throwaway_postgres("province") as url:
            run_in_child("PostgreSQL", url)


if __name__ == "__main__":
    main()
