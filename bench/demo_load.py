"""Time `flask demo load` on a fresh SQLite file and on a throwaway PostgreSQL 15.

Target (issue 2): under 30 s. Run: .venv/bin/python bench/demo_load.py [--runs N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.postgres import throwaway_postgres  # noqa: E402

FLASK = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]


def timed_load(database_url: str) -> float:
    env = dict(os.environ, CRM_SECRET_KEY="bench", CRM_DATABASE_URL=database_url)
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([*FLASK, "demo", "load", "--reset"], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        sqlite = [timed_load(f"sqlite:///{folder}/bench.sqlite3") for _ in range(runs)]
    with throwaway_postgres("crm_bench") as url:
        postgres = [timed_load(url) for _ in range(runs)]
    for name, times in (("SQLite", sqlite), ("PostgreSQL 15", postgres)):
        print(f"{name}: median {statistics.median(times):.1f} s, max {max(times):.1f} s "
              f"over {runs} runs (target < 30 s)")  # fmt: skip


if __name__ == "__main__":
    main()
