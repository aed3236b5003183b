"""Totals, bands, the 优秀 quota and ties at its edge, and the committee's confirmation that
locks a result. The expected grades are written out by hand for each case."""

from datetime import date

import pytest

from crm.assessment import grading, services
from crm.assessment.indicators import Year
from crm.assessment.models import CommitteeScore, Grade, Scheme
from crm.extensions import db
from crm.rules import RuleError
from tests import factories as f

E, C, B, I = Grade.EXCELLENT, Grade.COMPETENT, Grade.BASIC, Grade.INCOMPETENT  # noqa: E741


def scheme(quota: int = 20) -> Scheme:
    return Scheme(year=2025, **{**services.defaults(), "excellent_quota": quota})


@pytest.mark.parametrize(
    ("totals", "quota", "grades", "tied"),
    [
        # Ten assessed, 20 %: two places. Three in the band: the third is proposed 称职.
        ([95, 93, 92, 85, 80, 75, 70, 65, 55, 50], 20, [E, E, C, C, C, C, C, B, I, I], set()),
        # The second place and the first one out have the same total: both wait, named.
        ([95, 93, 93, 85, 80, 75, 70, 65, 60, 50], 20, [E, None, None, C, C, C, C, B, B, I], {1, 2}),
        # All three tied for two places: all three wait.
        ([93, 93, 93, 85, 80, 75, 70, 65, 60, 50], 20, [None, None, None, C, C, C, C, B, B, I],
         {0, 1, 2}),
        # A tie below the edge is no tie: 95 and 94 take the places, both 92s are 称职.
        ([95, 94, 92, 92, 80, 75, 70, 65, 60, 50], 20, [E, E, C, C, C, C, C, B, B, I], set()),
        # No quota: nobody 优秀, nobody tied.
        ([95, 93, 85, 80, 75], 0, [C, C, C, C, C], set()),
        # Fewer in the band than places: all of them.
        ([95, 85, 80, 75, 70, 65, 60, 55, 50, 45], 20, [E, C, C, C, C, B, B, I, I, I], set()),
        # No total yet (the committee has not scored): no proposal, not a tie.
        ([95, None, 85, 80, 70], 20, [E, None, C, C, C], set()),
    ],
)  # fmt: skip
def test_the_quota_and_the_ties_at_its_edge(totals, quota, grades, tied):
    proposed, waiting = grading._proposals(scheme(quota), dict(enumerate(totals)))
    assert [proposed[i] for i in range(len(totals))] == grades
    assert waiting == tied


def test_a_part_with_nothing_to_count_gives_its_weight_to_the_others():
    rules = scheme()  # 40 / 30 / 30
    assert grading.total(rules, 80, 70, 90) == pytest.approx((80 * 40 + 70 * 30 + 90 * 30) / 100)
    assert grading.total(rules, 80, None, 90) == pytest.approx(round((80 * 40 + 90 * 30) / 70, 2))
    assert grading.total(rules, 80, 70, None) is None  # the committee's score is required


def test_the_committee_confirms_and_the_result_locks(app):
    year = Year(2025, date(2025, 12, 31))
    with app.app_context():
        reviewer = f.AccountFactory(roles=[f.Role.REVIEWER])
        people = [f.InstructorFactory(hired_on=date(2020, 1, 1)) for _ in range(5)]
        for person in people:
            f.AssignmentFactory(instructor=person, started_on=date(2024, 1, 1))
        rules = services.scheme_for(2025)
        rules.locked_at = f.clock.now()
        db.session.add(rules)
        for person, score in zip(people, (100, 90, 80, 70, 60), strict=True):
            grading.save_score(2025, person.id, score, "", by=reviewer)
        db.session.commit()
        found = {s.instructor_id: s for s in grading.standings(year)}
        first = people[0].id
        assert grading.quota(rules, 5) == 1
        with pytest.raises(RuleError, match="请写明理由"):
            grading.confirm(year, first, Grade.BASIC, "", by=reviewer)
        proposed = found[first].proposed
        grading.confirm(year, first, proposed, "", by=reviewer)
        with pytest.raises(RuleError, match="已确认并锁定"):
            grading.confirm(year, first, proposed, "", by=reviewer)
        with pytest.raises(RuleError, match="组织评价不能再修改"):
            grading.save_score(2025, first, 50, "", by=reviewer)
        if proposed is Grade.EXCELLENT:  # the one place is taken
            with pytest.raises(RuleError, match="优秀名额（1 名）已满"):
                grading.confirm(year, people[1].id, Grade.EXCELLENT, "表现突出", by=reviewer)
        db.session.commit()
        assert db.session.get(CommitteeScore, 1) is not None
        assert grading.latest_results(2025)[first].grade is proposed
