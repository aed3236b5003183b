"""The computed part's rules at their edges: a handover shares a branch by the days each
instructor held it, a problem counts for whoever held its branch on its due date, a visit
sent back is in time when corrected within RETURN_FIX_DAYS, and an instructor with nothing
to count has no figure rather than a zero."""

from datetime import UTC, date, datetime, timedelta

import pytest

from crm.assessment import indicators
from crm.extensions import db
from crm.problems.models import ProblemStatus
from crm.review.models import VisitComment
from tests import factories as f

YEAR = indicators.Year(2025, date(2025, 12, 31))


def shares(*instructors) -> dict[int, dict[str, indicators.Share]]:
    return dict(indicators.computed(YEAR, [i.id for i in instructors]))


def test_a_handover_shares_the_branch_by_the_days_each_held_it(app):
    with app.app_context():
        before, after = f.InstructorFactory(), f.InstructorFactory()
        branch = f.BranchFactory()
        f.AssignmentFactory(instructor=before, branch=branch, started_on=date(2024, 3, 1),
                            ended_on=date(2025, 7, 1), end_reason="handover")  # fmt: skip
        f.AssignmentFactory(instructor=after, branch=branch, started_on=date(2025, 7, 1))
        # On site on 10 June and never again: the old instructor is covered to 10 July (gone
        # by then); the new one's grace runs to 31 July, then the branch is overdue.
        f.VisitFactory(instructor=before, branch=branch,
                       visited_at=datetime(2025, 6, 10, 2, tzinfo=UTC))  # fmt: skip
        # Due on the handover day: the new instructor's; solved in time.
        f.ProblemFactory(branch=branch, raised_on=date(2025, 6, 1), due_on=date(2025, 7, 1),
                         status=ProblemStatus.SOLVED, closed_on=date(2025, 7, 1))  # fmt: skip
        db.session.commit()
        got = shares(before, after)
    held_before = (date(2025, 7, 1) - date(2025, 1, 1)).days  # 1 January to 30 June
    held_after = (date(2026, 1, 1) - date(2025, 7, 1)).days
    assert got[before.id]["visits"].out_of == held_before == 181
    assert got[after.id]["visits"].out_of == held_after == 184
    # Before: held since March 2024, never visited before 10 June: overdue from 1 January to
    # 9 June, covered from 10 June to 30 June.
    assert got[before.id]["visits"].met == 21
    # After: 1 to 31 July in grace (31 days), overdue from 1 August.
    assert got[after.id]["visits"].met == 31
    assert (got[after.id]["problems"].met, got[after.id]["problems"].out_of) == (1, 1)
    assert got[before.id]["problems"].value is None


@pytest.mark.parametrize(
    ("after", "in_time"),
    [(timedelta(days=7), True), (timedelta(days=7, seconds=1), False), (None, False)],
)
def test_a_visit_sent_back_is_corrected_in_time_within_seven_days(app, after, in_time):
    with app.app_context():
        instructor = f.InstructorFactory()
        visit = f.VisitFactory(instructor=instructor,
                               visited_at=datetime(2025, 5, 1, 2, tzinfo=UTC))  # fmt: skip
        at = datetime(2025, 5, 3, 1, tzinfo=UTC)
        db.session.add(VisitComment(visit_id=visit.id, text="请补充", returned=True,
                                    by_id=f.AccountFactory().id, at=at,
                                    corrected_at=at + after if after else None))  # fmt: skip
        db.session.add(VisitComment(visit_id=visit.id, text="只是意见", returned=False,
                                    by_id=f.AccountFactory().id, at=at))  # fmt: skip
        db.session.commit()
        got = shares(instructor)[instructor.id]["corrections"]
    assert (got.met, got.out_of) == (int(in_time), 1)


def test_an_instructor_with_nothing_to_count_has_no_figures(app):
    with app.app_context():
        idle = f.InstructorFactory()
        db.session.commit()
        got = shares(idle)[idle.id]
        keys = [indicator.key for indicator in indicators.indicators()]
    assert {key: share.value for key, share in got.items()} == dict.fromkeys(keys)
