"""The annual assessment at the city's scale (issue 22), on the SQLite demo (its last year
complete, this year under way):

- the city's assessment computed: every instructor's computed part and the standings (the
  three parts, the totals, the proposals under the quota) for last year: goal ≤ 10 s;
- one 年度考核登记表 (PDF) answered to a reviewer, median and slowest of 7: goal ≤ 1.5 s;
- a reviewer's instructor page, with the standings kept between requests (crm.core.kept) and
  counted on each request (as after a write).

Run: .venv/bin/python bench/assessment.py
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import demo_database, use_project_path

use_project_path()
ROUNDS = 7


def main() -> None:
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as name:
        os.environ.update(demo_database(Path(name)))
        import sqlalchemy as sa

        from crm import clock, create_app
        from crm.assessment import grading
        from crm.assessment.indicators import Year
        from crm.extensions import db
        from crm.instructors.models import Instructor

        app = create_app()
        app.config["WTF_CSRF_ENABLED"] = False
        year = Year.of(clock.today().year - 1, clock.today())
        app.config["KEEP_FIGURES"] = False  # each round counted from the records
        with app.app_context():
            times = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                standings = grading.standings(year)
                times.append(time.perf_counter() - began)
                db.session.rollback()
            instructor = db.session.scalar(sa.select(Instructor.id).order_by(Instructor.id))
        print(f"{year.number}: {len(standings)} instructors' standings computed: median "
              f"{statistics.median(times):.2f} s, slowest {max(times):.2f} s (goal ≤ 10 s)")  # fmt: skip
        client = app.test_client()
        password = app.config["DEMO_PASSWORD"]
        client.post("/login", data={"username": "reviewer", "password": password})
        times = []
        for _ in range(ROUNDS):
            began = time.perf_counter()
            answer = client.get(f"/assessment/{year.number}/instructors/{instructor}/form.pdf")
            times.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.status_code
        print(f"one registration form (PDF, {len(answer.data) // 1024} KB): median "
              f"{statistics.median(times):.2f} s, slowest {max(times):.2f} s (goal ≤ 1.5 s)")  # fmt: skip
        page = f"/assessment/{year.number}/instructors/{instructor}"
        for keep in (True, False):
            app.config["KEEP_FIGURES"] = keep
            client.get(page)
            times = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                assert client.get(page).status_code == 200
                times.append(time.perf_counter() - began)
            print(f"an instructor's page to a reviewer, standings {'kept' if keep else 'counted'}: "
                  f"median {statistics.median(times) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
