"""The demo's follow-up work, so a new user sees every record kind in use at realistic rates:
pairing activities, visits a reviewer sent back (most corrected since), quarterly spot checks
with their findings, and the notes reviewers left on alerts.

Written with bulk INSERTs like the rest of the made-up history, one audit entry per kind.
"""

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import select

from crm import clock
from crm.accounts.models import Account
from crm.assignments import services as assignments
from crm.demo import bulk
from crm.extensions import db
from crm.pairings.models import ActivityKind, Pairing, PairingActivity
from crm.review import alerts
from crm.review.models import AlertNote, CheckOutcome, SpotCheck, VisitComment
from crm.visits.models import Visit

ACTIVITIES_A_YEAR = 2  # per pairing in force
SENT_BACK_SHARE = 0.008  # of visits
STILL_RETURNED = 6  # sent back lately and not corrected yet
NOTED_SHARE = 0.4  # of the branches and problems an alert flags today
ACTIVITY_TEXT = {
    ActivityKind.JOINT_LIFE: "两支部联合开展主题党日，共同学习党的创新理论",
    ActivityKind.POLICY: "机关党员上门宣讲惠企政策，解答企业疑问",
    ActivityKind.VOLUNTEER: "结对双方党员共同参加社区志愿服务",
    ActivityKind.SUPPORT: "结对单位协调解决企业用工和融资需求",
    ActivityKind.TRAINING: "组织企业党务干部参加业务培训交流",
    ActivityKind.OTHER: "结对双方座谈交流共建计划",
}
CORRECTED = "（已按审阅意见补充：见到书记及两名党员，核实了用工需求。）"
RETURN_NOTES = (
    "走访情况记录过简，请补充具体内容",
    "请补充见到的人员和了解到的情况",
    "走访方式与照片不符，请核实后修改",
)
CHECK_NOTES = {
    CheckOutcome.CONFIRMED: "电话回访书记，走访情况属实",
    CheckOutcome.PROBLEM: "回访时书记对走访内容记忆不清，已提醒指导员如实记录",
    CheckOutcome.UNREACHABLE: "书记电话无人接听，下季度再核",
}


def load(rng: random.Random, today: date, counts: Counter) -> None:
    reviewer = db.session.scalar(select(Account).where(Account.username == "reviewer"))
    _activities(rng, today, counts)
    _sent_back(rng, today, reviewer, counts)
    _spot_checks(rng, today, reviewer, counts)
    _alert_notes(rng, today, reviewer, counts)


def _activities(rng: random.Random, today: date, counts: Counter) -> None:
    """Joint activities of every pairing while it was in force, a few a year."""
    admin = db.session.scalar(select(Account.id).where(Account.username == "admin"))
    rows = []
    first = today - timedelta(days=3 * 365)
    pairings = db.session.scalars(select(Pairing).order_by(Pairing.id)).all()
    # Recorded by the branch's instructor (the admin where it has none).
    guide = {
        branch_id: instructor.account_id
        for branch_id, instructor in assignments.current_instructors(
            p.branch_id for p in pairings
        ).items()
    }
    for pairing in pairings:
        start = max(pairing.started_on, first)
        end = min(pairing.ended_on or today, today) - timedelta(days=1)
        if end < start:
            continue
        years = ((end - start).days + 1) / 365
        for _ in range(round(years * ACTIVITIES_A_YEAR * rng.uniform(0.5, 1.5))):
            kind = rng.choice(list(ActivityKind))
            rows.append(
                {
                    "pairing_id": pairing.id,
                    "kind": kind,
                    "description": ACTIVITY_TEXT[kind],
                    "held_on": start + timedelta(days=rng.randrange((end - start).days + 1)),
                    "resources": rng.choice(("", "慰问物资一批", "政策汇编 50 册", "培训场地")),
                    "people_reached": rng.randint(8, 80),
                    "client_key": f"{rng.getrandbits(128):032x}",
                    "created_by_id": guide.get(pairing.branch_id, admin),
                }
            )
    bulk.insert(PairingActivity, rows)
    counts["pairing_activities"] = len(rows)


def _sent_back(rng: random.Random, today: date, reviewer: Account, counts: Counter) -> None:
    """Some visits were sent back for correction: most were corrected within days (one in six
    after more than a week), a few sent back lately still wait on the instructor's phone."""
    visits = db.session.execute(
        select(Visit.id, Visit.visited_at, Visit.received_at, Visit.summary).order_by(Visit.id)
    ).all()
    chosen = [v for v in visits if rng.random() < SENT_BACK_SHARE]
    recent = [
        v for v in visits if (today - v.visited_at.astimezone(clock.LOCAL_TIME).date()).days < 20
    ]
    waiting = rng.sample(recent, min(STILL_RETURNED, len(recent))) if recent else []
    comments, returned, corrected = [], [], []
    for visit in chosen + waiting:
        note = rng.choice(RETURN_NOTES)
        at = min(visit.received_at + timedelta(days=rng.randint(1, 5)), clock.now())
        comment = {"visit_id": visit.id, "text": note, "returned": True, "by_id": reviewer.id}
        comments.append({**comment, "at": at, "corrected_at": None})
        if visit not in waiting:  # its own draw: the rest of the demo stays as it was
            days = random.Random(visit.id).choice((1, 1, 2, 3, 5, 12))  # noqa: S311  (demo data)
            comments[-1]["corrected_at"] = min(at + timedelta(days=days), clock.now())
        if visit in waiting:
            returned.append({"key": visit.id, "returned_at": at, "return_note": note})
        else:
            corrected.append({"key": visit.id, "summary": visit.summary + CORRECTED})
    bulk.insert(VisitComment, comments)
    table = Visit.__table__
    for rows, values in ((returned, ("returned_at", "return_note")), (corrected, ("summary",))):
        if rows:
            db.session.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("key"))
                .values({name: sa.bindparam(name) for name in values}),
                rows,
            )
    counts["visits_sent_back"] = len(comments)


def _spot_checks(rng: random.Random, today: date, reviewer: Account, counts: Counter) -> None:
    """Two visits of each instructor drawn every quarter; past quarters checked."""
    rows = []
    this_quarter = clock.quarter_of(today)
    quarter = clock.quarter_of(today - timedelta(days=365))
    while True:
        first, last = clock.quarter_span(quarter)
        visits = db.session.execute(
            select(Visit.id, Visit.instructor_id)
            .where(
                Visit.visited_at >= clock.local_midnight(first),
                Visit.visited_at < clock.local_midnight(last + timedelta(days=1)),
            )
            .order_by(Visit.id)
        ).all()
        by_instructor: dict[int, list[int]] = {}
        for visit_id, instructor_id in visits:
            by_instructor.setdefault(instructor_id, []).append(visit_id)
        for instructor_id in sorted(by_instructor):
            for visit_id in rng.sample(
                by_instructor[instructor_id], min(2, len(by_instructor[instructor_id]))
            ):
                done = quarter != this_quarter or rng.random() < 0.3
                outcome = (
                    rng.choices(list(CHECK_NOTES), (88, 7, 5))[0] if done else CheckOutcome.PENDING
                )
                rows.append(
                    {
                        "quarter": quarter,
                        "visit_id": visit_id,
                        "drawn_by_id": reviewer.id,
                        "outcome": outcome,
                        "note": CHECK_NOTES.get(outcome, ""),
                        "checked_at": datetime.combine(
                            min(last, today - timedelta(days=1)), time(10), clock.LOCAL_TIME
                        )
                        if done
                        else None,
                    }
                )
        if quarter == this_quarter:
            break
        quarter = clock.quarter_of(last + timedelta(days=1))
    bulk.insert(SpotCheck, rows)
    counts["spot_checks"] = len(rows)


def _alert_notes(rng: random.Random, today: date, reviewer: Account, counts: Counter) -> None:
    """What reviewers noted on part of today's overdue branches and problems."""
    rows = []
    texts = {
        "overdue_visits": (
            "已电话提醒指导员本周内实地走访",
            "指导员反映企业停工，已约定复工后走访",
        ),
        "overdue_problems": ("已协调相关部门加快办理", "已约谈指导员，要求下周报告进展"),
    }
    for rule, notes in texts.items():
        ids = db.session.scalars(
            alerts.statement(rule, reviewer, today).with_only_columns(
                alerts.MODELS[alerts.BY_KEY[rule].object_type].id, maintain_column_froms=True
            )
        ).all()
        for object_id in ids:
            if rng.random() < NOTED_SHARE:
                rows.append(
                    {
                        "rule": rule,
                        "object_id": object_id,
                        "note": rng.choice(notes),
                        "by_id": reviewer.id,
                        "at": clock.local_midnight(today - timedelta(days=rng.randint(1, 6)))
                        + timedelta(hours=rng.randint(9, 17)),
                    }
                )
    bulk.insert(AlertNote, rows)
    counts["alert_notes"] = len(rows)
