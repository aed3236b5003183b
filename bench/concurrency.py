"""Eight processes posting visits at once to one SQLite database (issue 9).

Two ways, both on the demo database:
1. eight application processes (each its own `create_app()`, its own connections), each signed
   in as a different instructor, posting visits with two problems as fast as they can: the
   database's own concurrency, without HTTP;
2. gunicorn with eight workers and eight client processes over HTTP: what users see.

Every answer must be 201: a "database is locked" (or any error) reaching a user fails the run.
Targets: at least 100 commits/s overall, p99 <= 250 ms. Run: .venv/bin/python bench/concurrency.py
"""

import multiprocessing
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from common import demo_database, percentile, summary, use_project_path
from visit_post import FORM, PASSWORD, Phone, concurrent, local_now

use_project_path()

PROCESSES = 8
SECONDS = 20


def _poster(args: tuple[dict, str, object, float]) -> tuple[list[float], list[str]]:
    """One application process: sign in, then post until the end time; (millis, errors)."""
    env, username, start, seconds = args
    os.environ.update(env)
    from crm import create_app

    app = create_app()
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": Phone._token(client.get("/login").text)})  # fmt: skip
    url = re.search(r'href="(/branches/\d+/visits/new)"', client.get("/branches/").text).group(1)
    token = Phone._token(client.get(url).text)
    start.wait()
    millis, errors, until, n = [], [], time.monotonic() + seconds, 0
    while time.monotonic() < until:
        data = {**FORM, "csrf_token": token, "client_key": f"{username}-{n:06d}",
                "visited_at": local_now()}  # fmt: skip
        began = time.perf_counter()
        response = client.post(url, data=data, headers={"Accept": "application/json"})
        millis.append((time.perf_counter() - began) * 1000)
        if response.status_code != 201:
            errors.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")
        n += 1
    return millis, errors


def processes(env: dict) -> tuple[list[float], list[str], float]:
    with multiprocessing.Manager() as manager:
        start = manager.Barrier(PROCESSES)
        jobs = [(env, f"zdy{n:03d}", start, SECONDS) for n in range(1, PROCESSES + 1)]
        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            results = pool.map(_poster, jobs)
    millis = [ms for result in results for ms in result[0]]
    errors = [e for result in results for e in result[1]]
    return millis, errors, len(millis) / SECONDS


def main() -> None:
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        env = demo_database(Path(folder))
        millis, errors, rate = processes(env)
        print(summary(f"{PROCESSES} app processes, {SECONDS} s", millis)
              + f", p99 {percentile(millis, 99):.1f} ms, {rate:.0f} commits/s, errors {len(errors)}")  # fmt: skip
        for error in errors[:5]:
            print("  ", error)

        log = Path(folder) / "access.log"
        seen = concurrent(env, log, clients=PROCESSES, each=100, workers=PROCESSES)
        statuses = [
            line.split()[1] for line in log.read_text().splitlines() if line.startswith("POST")
        ]
        # The clients post back to back, so each is busy for the sum of its own waits.
        rate = len(seen) / (sum(seen) / 1000 / PROCESSES)
        print(summary(f"gunicorn {PROCESSES} workers, {PROCESSES} HTTP clients x 100", seen)
              + f", p99 {percentile(seen, 99):.1f} ms, about {rate:.0f} commits/s, answers other than"
              f" 201 (visits) or 302 (sign-in): {sum(s not in ('201', '302') for s in statuses)}")  # fmt: skip


if __name__ == "__main__":
    main()
