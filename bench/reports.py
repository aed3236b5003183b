"""Monthly reports on the city demo (SQLite): one instructor's report, and the whole month.

Targets (issue 7): one instructor's report in <= 1.5 s with <= 300 MB peak memory; the city's
month (115 instructors + 20 districts + the city) in <= 3 minutes on 2 cores.
Run: .venv/bin/python bench/reports.py [--rounds N]

Each instructor report is made in a fresh process, as `flask reports monthly --instructor`
makes it: timed inside the process around services.make() (after the app has started), and
the process's maximum resident set taken as its peak memory.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import FLASK, ROOT, demo_database, percentile

ONE = """
import json, resource, sys, time
from datetime import date
from wsgi import app
from crm.reports import services
from crm.reports.models import ReportKind
with app.app_context():
    started = time.perf_counter()
    subject = services.Subject(ReportKind.INSTRUCTOR, int(sys.argv[2]))
    services.make(subject, date.fromisoformat(sys.argv[1]), by=None)
    ms = (time.perf_counter() - started) * 1000
print(json.dumps({"ms": ms, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def last_month() -> str:
    from datetime import date, timedelta

    return (date.today().replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    month = last_month()
    with tempfile.TemporaryDirectory() as folder:
        env = demo_database(Path(folder)) | {"CRM_REPORTS_DIR": f"{folder}/reports"}
        results = []
        for instructor_id in range(1, rounds + 1):
            one = subprocess.run([sys.executable, "-c", ONE, month, str(instructor_id)], env=env,
                                 cwd=ROOT, check=True, capture_output=True, text=True)  # fmt: skip
            results.append(json.loads(one.stdout.strip().splitlines()[-1]))
        ms, peaks = [r["ms"] for r in results], [r["peak_mb"] for r in results]
        print(f"one instructor's report, {len(ms)} instructors, a process each: "
              f"median {sorted(ms)[len(ms) // 2]:.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
              f"max {max(ms):.0f} ms; peak memory median {sorted(peaks)[len(peaks) // 2]:.0f} MB, "
              f"max {max(peaks):.0f} MB")  # fmt: skip
        started = time.perf_counter()
        whole = subprocess.run(
            ["/usr/bin/time", "-v", *FLASK, "reports", "monthly", "--month", month[:7], "--workers", "2"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        peak = next(line for line in whole.stderr.splitlines() if "Maximum resident" in line)
        made = next(line for line in whole.stdout.splitlines() if "已生成" in line)
        print(f"the city's month on 2 worker processes: {elapsed:.1f} s ({made.strip()}); "
              f"largest process {int(peak.split(':')[1]) / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
