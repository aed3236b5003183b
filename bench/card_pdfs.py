"""Server time of the three 两卡 PDFs on the city demo: the goal card, a member's vanguard card,
the branch's ranking, for the branch with the most members (the largest page of each).

Target (issue 16): each PDF at most 1.5 s.
Run: .venv/bin/python bench/card_pdfs.py
"""

import os
import statistics
import tempfile
import time
from pathlib import Path

from common import demo_database, use_project_path

use_project_path()

ROUNDS = 5
TARGET_MS = 1500


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(demo_database(Path(folder)))
        from sqlalchemy import func, select

        from crm import create_app
        from crm.cards.models import GoalCard, VanguardCard, VanguardEntry
        from crm.extensions import db
        from crm.members.models import Member

        app = create_app()
        app.config["WTF_CSRF_ENABLED"] = False
        with app.app_context():
            branch_id = db.session.scalar(
                select(Member.branch_id).group_by(Member.branch_id)
                .order_by(func.count().desc(), Member.branch_id).limit(1)
            )  # fmt: skip
            card_id = db.session.scalar(
                select(GoalCard.id).where(GoalCard.branch_id == branch_id)
                .order_by(GoalCard.year.desc(), GoalCard.id.desc()).limit(1)
            )  # fmt: skip
            member_id, year = db.session.execute(
                select(VanguardCard.member_id, VanguardCard.year)
                .join(VanguardEntry, VanguardEntry.card_id == VanguardCard.id)
                .join(Member, Member.id == VanguardCard.member_id)
                .where(Member.branch_id == branch_id)
                .group_by(VanguardCard.id).order_by(func.count().desc()).limit(1)
            ).one()  # fmt: skip
        client = app.test_client()  # the city reviewer of the demo: every branch, no second factor
        signed = client.post("/login", data={"username": "reviewer", "password": "Ganzhou@2026"})
        assert signed.status_code == 302, signed.status_code
        pages = {
            "goal card": f"/goal-cards/{card_id}.pdf",
            "vanguard card": f"/members/{member_id}/card.pdf?year={year}",
            "ranking": f"/branches/{branch_id}/ranking.pdf?year={year}",
        }
        failed = []
        for name, url in pages.items():
            timings = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.mimetype == "application/pdf", (url, response.status_code)
            median, worst = statistics.median(timings), max(timings)
            print(f"{name}: {url} median {median:.0f} ms, max {worst:.0f} ms, "
                  f"{len(response.data) / 1024:.0f} KiB (target {TARGET_MS} ms)")  # fmt: skip
            if worst > TARGET_MS:
                failed.append(name)
        if failed:
            raise SystemExit("over target: " + ", ".join(failed))


if __name__ == "__main__":
    main()
