"""Reviewing records: comments, sending a visit back for correction, quarterly spot checks."""

import random
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.review.models import CheckOutcome, SpotCheck, VisitComment
from crm.rules import RuleError
from crm.visits.models import Visit
from crm.visits.services import visit_scope


def comment(visit: Visit, text: str, *, by: Account, send_back: bool) -> VisitComment:
    """Comment on a visit; sending it back puts it at the top of the instructor's phone until
    they correct it. Raises RuleError for an empty comment."""
    if not text.strip():
        raise RuleError("请填写意见。", "text")
    entry = VisitComment(visit_id=visit.id, text=text.strip(), returned=send_back, by_id=by.id)
    db.session.add(entry)
    if send_back:
        visit.returned_at, visit.return_note = clock.now(), text.strip()[:500]
    db.session.flush()
    return entry


def visit_corrected(visit: Visit) -> Visit:
    """After the instructor corrects a visit sent back: each time it was sent back is marked
    corrected now, and a spot check still waiting on it waits for a second look (待复核), not
    for a first."""
    for sent_back in db.session.scalars(
        select(VisitComment).where(
            VisitComment.visit_id == visit.id,
            VisitComment.returned,
            VisitComment.corrected_at.is_(None),
        )
    ):
        sent_back.corrected_at = clock.now()
    for check in db.session.scalars(
        select(SpotCheck).where(
            SpotCheck.visit_id == visit.id, SpotCheck.outcome == CheckOutcome.PENDING
        )
    ):
        check.outcome = CheckOutcome.RECHECK
    db.session.flush()
    return visit


def comments_on(visit_id: int) -> list[VisitComment]:
    return list(
        db.session.execute(
            select(VisitComment)
            .where(VisitComment.visit_id == visit_id)
            .options(selectinload(VisitComment.by))
            .order_by(VisitComment.at)
        ).scalars()
    )


def draw_sample(quarter: str, *, by: Account) -> list[SpotCheck]:
    """Draw SPOT_CHECKS_PER_INSTRUCTOR random visits of each instructor in the quarter, among
    the visits the reviewer may see; drawing again adds none already drawn. Raises RuleError."""
    try:
        first, last = clock.quarter_span(quarter)
    except (ValueError, IndexError) as error:
        raise RuleError("季度应写成 2026Q3 的形式。", "quarter") from error
    each = current_app.config["SPOT_CHECKS_PER_INSTRUCTOR"]
    already = set(
        db.session.execute(select(SpotCheck.visit_id).where(SpotCheck.quarter == quarter)).scalars()
    )
    rows = db.session.execute(
        select(Visit.id, Visit.instructor_id).where(
            visit_scope(by),
            Visit.visited_at >= clock.local_midnight(first),
            Visit.visited_at < clock.local_midnight(date.fromordinal(last.toordinal() + 1)),
        )
    ).all()
    per_instructor: dict[int, list[int]] = {}
    for visit_id, instructor_id in rows:
        per_instructor.setdefault(instructor_id, []).append(visit_id)
    rng = random.SystemRandom()
    drawn = []
    for instructor_id in sorted(per_instructor):
        ids = per_instructor[instructor_id]
        have = sum(1 for i in ids if i in already)
        fresh = [i for i in ids if i not in already]
        for visit_id in rng.sample(fresh, max(0, min(each - have, len(fresh)))):
            drawn.append(SpotCheck(quarter=quarter, visit_id=visit_id, drawn_by_id=by.id))
    db.session.add_all(drawn)
    db.session.flush()
    return drawn


def checks(quarter: str, account: Account) -> list[SpotCheck]:
    return list(
        db.session.execute(
            select(SpotCheck)
            .join(Visit, Visit.id == SpotCheck.visit_id)
            .where(SpotCheck.quarter == quarter, visit_scope(account))
            .options(
                selectinload(SpotCheck.visit).selectinload(Visit.branch),
                selectinload(SpotCheck.visit)
                .selectinload(Visit.instructor)
                .selectinload(Instructor.account),
            )
            .order_by(SpotCheck.id)
        ).scalars()
    )


def record_check(check: SpotCheck, outcome: CheckOutcome, note: str) -> SpotCheck:
    """Record what a check found; a problem needs a note. Raises RuleError."""
    if outcome is CheckOutcome.PROBLEM and not note.strip():
        raise RuleError("请说明发现的问题。", "note")
    check.outcome, check.note, check.checked_at = outcome, note.strip(), clock.now()
    db.session.flush()
    return check
