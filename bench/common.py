"""What the benchmarks share: a demo database in a temporary folder, and percentiles."""

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]


def demo_database(folder: Path) -> dict[str, str]:
    """Migrate a new SQLite database in `folder`, load the demo, return the environment."""
    # Every simulated phone signs in from 127.0.0.1: the per-address sign-in limit would stop them.
    env = dict(os.environ, CRM_SECRET_KEY="bench-secret", CRM_DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3",
               CRM_MEDIA_DIR=str(folder / "media"), CRM_LOGIN_RATE_LIMIT="10000 per minute")  # fmt: skip
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([*FLASK, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(name: str, millis: list[float]) -> str:
    return (f"{name}: n={len(millis)} median {statistics.median(millis):.1f} ms, "
            f"p95 {percentile(millis, 95):.1f} ms, max {max(millis):.1f} ms")  # fmt: skip


def use_project_path() -> None:
    sys.path.insert(0, str(ROOT))
