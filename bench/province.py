"""A province-scale dataset for the review benchmarks: 1,500 instructors, 25,000 branches,
450,000 visits over three years (and problems, meetings, pairings in proportion).

Rows go in with explicit ids by executemany, the fastest path on both databases; on
PostgreSQL the id sequences are moved past them afterwards.
"""

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

INSTRUCTORS, BRANCHES, VISITS, AGENCIES = 1_500, 25_000, 450_000, 20_000
PROBLEM_SHARE, MEETINGS, PAIRINGS = 0.2, 40_000, 20_000
CHUNK = 5_000


def build(engine: sa.Engine, today: date, seed: int = 7) -> dict[str, int]:
    """Fill an empty, migrated database; return the rows made of each table."""
    rng = random.Random(seed)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = datetime.now(UTC).replace(tzinfo=None)
    stamp = {"created_at": now, "updated_at": now}
    made: dict[str, list[dict]] = {}
    districts = [row[0] for row in engine.connect().execute(sa.select(t["district"].c.id))]

    made["account"] = [
        {
            "id": n,
            "username": f"p{n:05d}",
            "name": f"指导员{n}",
            "password_hash": "!",
            "active": True,
            "scope_district_id": None,
            **stamp,
        }
        for n in range(1, INSTRUCTORS + 1)
    ]
    made["account"].append(
        {
            "id": INSTRUCTORS + 1,
            "username": "bench-reviewer",
            "name": "审阅",
            "password_hash": "!",
            "active": True,
            "scope_district_id": None,
            **stamp,
        }
    )
    made["account_role"] = [
        {"account_id": n, "role": "instructor"} for n in range(1, INSTRUCTORS + 1)
    ]
    made["account_role"].append({"account_id": INSTRUCTORS + 1, "role": "reviewer"})
    made["instructor"] = [{"id": n, "account_id": n, "phone": f"138{n:08d}", "district_id": districts[n % 20],
                           "hired_on": date(2020, 1, 1), "status": "active", **stamp}
                          for n in range(1, INSTRUCTORS + 1)]  # fmt: skip
    branch_rows = []
    for n in range(1, BRANCHES + AGENCIES + 1):
        agency = n > BRANCHES
        branch_rows.append({"id": n, "name": f"党组织{n:06d}", "kind": "branch",
                            "sector": "agency" if agency else "two_new", "district_id": districts[n % 20],
                            "secretary_name": "书记", "secretary_phone": "", "member_count": 5,
                            "founded_on": None, "under_guidance": not agency and n % 5 < 3, **stamp})  # fmt: skip
    made["branch"] = branch_rows
    guided = [b["id"] for b in branch_rows if b["under_guidance"]]
    rng.shuffle(guided)
    start = today - timedelta(days=3 * 365)
    # Listed for guidance, and the instructors and pairings on the platform, since the start.
    made["guidance_spell"] = [{"id": n, "branch_id": b, "started_on": start, "ended_on": None}
                              for n, b in enumerate(sorted(guided), start=1)]  # fmt: skip
    entered = datetime.combine(start, datetime.min.time())
    for row in made["instructor"]:
        row["created_at"] = entered
    assignments, held = [], []
    for instructor in range(1, INSTRUCTORS + 1):
        for _ in range(rng.choice((5, 6, 7, 8, 9, 10))):
            if not guided:
                break
            branch = guided.pop()
            assignments.append({"id": len(assignments) + 1, "instructor_id": instructor, "branch_id": branch,
                                "started_on": start, "ended_on": None, "end_reason": "", **stamp})  # fmt: skip
            held.append((instructor, branch))
    made["assignment"] = assignments
    visits, problems = [], []
    span = (today - start).days * 86400
    for n in range(1, VISITS + 1):
        instructor, branch = held[rng.randrange(len(held))]
        at = datetime.combine(start, datetime.min.time()) + timedelta(seconds=rng.randrange(span))
        visits.append({"id": n, "instructor_id": instructor, "branch_id": branch, "client_key": f"v{n}",
                       "visited_at": at, "received_at": at, "kind": "onsite" if n % 3 else "remote",
                       "summary": "走访", "people_met": "", "clarified_people": False,
                       "clarified_operation": False, "clarified_needs": False, "clarified_base": False,
                       "clarified_resources": False, "latitude": None, "longitude": None, "accuracy_m": None,
                       "distance_m": None, "far_from_branch": n % 97 == 0, "backfilled": n % 53 == 0,
                       "returned_at": None, "return_note": "", **stamp})  # fmt: skip
        if rng.random() < PROBLEM_SHARE:
            raised = at.date()
            closed = raised + timedelta(days=rng.randint(5, 90))
            solved = closed < today and rng.random() < 0.9
            problems.append({"id": len(problems) + 1, "branch_id": branch, "visit_id": n, "raised_by_id": instructor,
                             "raised_on": raised, "category": "hiring", "description": "问题", "responsible": "",
                             "department": "", "due_on": raised + timedelta(days=30),
                             "status": "solved" if solved else "open", "resolution": "",
                             "closed_on": closed if solved else None, **stamp})  # fmt: skip
    made["visit"], made["problem"] = visits, problems
    made["meeting"] = [{"id": n, "branch_id": held[n % len(held)][1], "kind": ("decision", "dialogue", "owner")[n % 3],
                        "held_on": start + timedelta(days=rng.randrange((today - start).days)), "topics": "议题",
                        "outcome": "", "other_attendees": "", "client_key": f"m{n}",
                        "created_by_id": held[n % len(held)][0], **stamp} for n in range(1, MEETINGS + 1)]  # fmt: skip
    made["pairing"] = [{"id": n, "agency_branch_id": BRANCHES + 1 + n % AGENCIES, "branch_id": 1 + n % BRANCHES,
                        "started_on": start, "ended_on": None, "purpose": "", **stamp, "created_at": entered}
                       for n in range(1, PAIRINGS + 1)]  # fmt: skip
    with engine.begin() as connection:
        for name in ("account", "account_role", "instructor", "branch", "guidance_spell", "assignment",
                     "visit", "problem", "meeting", "pairing"):  # fmt: skip
            rows = made[name]
            for first in range(0, len(rows), CHUNK):
                connection.execute(t[name].insert(), rows[first : first + CHUNK])
        if engine.dialect.name == "postgresql":
            for name in made:
                if "id" in t[name].c:
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
            connection.exec_driver_sql("ANALYZE")
    return {name: len(rows) for name, rows in made.items()}
