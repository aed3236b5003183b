"""The same seed makes the same demo on SQLite and on PostgreSQL, so the two databases can check
each other: every review page's figures and last month's reports are compared.

`make test` runs this folder on SQLite first, which writes what it read to
build/demo-figures-sqlite.json; the PostgreSQL pass reads the same figures and compares them.
"""

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Account
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.organizations.models import District
from crm.reports import content, tables
from crm.review import alerts, caseload, figures

# the demo's figures read on both databases, compared;
# in one xdist group, so that one worker loads the demo, once
pytestmark = [pytest.mark.postgresql, pytest.mark.xdist_group("demo"), pytest.mark.slow]

KEPT = Path(__file__).resolve().parents[2] / "build" / "demo-figures-sqlite.json"
TABLES = ("instructor", "branch", "organization", "assignment", "guidance_spell", "pairing",
          "pairing_activity", "visit", "problem", "problem_step", "member", "meeting",
          "goal_card", "goal_note", "vanguard_entry", "visit_comment", "spot_check",
          "alert_note")  # fmt: skip


def figures_of_every_page() -> dict:
    """What the review pages and last month's reports show, keyed by page."""
    today = clock.today()
    reviewer = db.session.scalar(sa.select(Account).where(Account.username == "reviewer"))
    out: dict = {
        "rows": {t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES},
    }  # fmt: skip
    chosen = figures.month(today.year, today.month, today)
    periods = [p for pair in figures.overview_pairs(chosen, today) for p in pair]
    out["overview"] = [
        {str(d): dict(sorted(f.values.items())) for d, f in sorted(by.items())}
        for by in figures.by_district(periods, None)
    ]
    out["caseloads"] = [
        [r.instructor.username, r.caseload.count, r.visits, r.overdue_branches,
         r.open_problems, r.overdue_problems, r.raised, r.solved]
        for r in caseload.rows(reviewer, today)
    ]  # fmt: skip
    out["alerts"] = {
        rule.key: [str(o) for o in db.session.scalars(alerts.statement(rule.key, reviewer, today))]
        for rule in alerts.RULES
    }
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    period = content.period_of(month)
    districts = db.session.scalars(sa.select(District).order_by(District.position)).all()
    out["reports"] = {
        "city": tables.to_json(tables.of_area(content.area_month(None, period))),
        **{
            d.name: tables.to_json(tables.of_area(content.area_month(d, period))) for d in districts
        },
        **{
            i.account.username: tables.to_json(
                tables.of_instructor(content.instructor_month(i, period))
            )
            for i in db.session.scalars(sa.select(Instructor).order_by(Instructor.id).limit(12))
        },
    }
    return {"today": today.isoformat(), "figures": out}


def test_sqlite_and_postgresql_make_the_same_demo(app):
    with app.app_context():
        seen = figures_of_every_page()
        dialect = db.engine.dialect.name
    if dialect == "sqlite":
        KEPT.parent.mkdir(exist_ok=True)
        KEPT.write_text(json.dumps(seen, ensure_ascii=False, indent=1, default=str))
        assert seen["figures"]["rows"]["visit"] > 30_000
        return
    if not KEPT.exists():
        pytest.skip("the SQLite pass (make test runs it first) has not written its figures")
    kept = json.loads(KEPT.read_text())
    if kept["today"] != seen["today"]:
        pytest.skip("the SQLite pass ran on another day (the demo runs up to yesterday)")
    mine = json.loads(json.dumps(seen, ensure_ascii=False, default=str))
    for page in kept["figures"]:
        assert mine["figures"][page] == kept["figures"][page], page
