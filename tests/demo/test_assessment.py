"""The annual assessment's computed part (crm.assessment.indicators) on the demo: every
instructor's five indicators, for last year and for this year to date, against the same
figures counted here day by day from the rows (plain SQL), by the formulas the page shows.

Nothing here calls the code under test to get an expected figure: the indicators work in
spans of days and merged intervals; this file walks every day each branch was held.
"""

import bisect
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.assessment import indicators
from crm.extensions import db

pytestmark = [pytest.mark.postgresql, pytest.mark.xdist_group("demo"), pytest.mark.slow]

CADENCE, FIX_DAYS = 30, 7  # the demo's VISIT_CADENCE_DAYS and RETURN_FIX_DAYS (the defaults)


def rows(sql: str, **params) -> list:
    return db.session.execute(sa.text(sql), params).all()


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def as_utc(value) -> datetime:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def expected(number: int, last: date) -> dict[int, dict[str, list[float]]]:
    """[met, out_of] of each indicator for each instructor, counted day by day."""
    first = date(number, 1, 1)
    out: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    assignments = [
        (b, i, as_date(s), as_date(e) if e else None)
        for b, i, s, e in rows(
            "SELECT branch_id, instructor_id, started_on, ended_on FROM assignment"
        )
    ]

    def holder(branch_id: int, day: date) -> int | None:
        for b, i, s, e in assignments:
            if b == branch_id and s <= day and (e is None or day < e):
                return i
        return None

    onsite = defaultdict(list)
    for b, at in rows("SELECT branch_id, visited_at FROM visit WHERE kind = 'onsite'"):
        onsite[b].append(as_utc(at).astimezone(clock.LOCAL_TIME).date())
    for found in onsite.values():
        found.sort()
    kinds = defaultdict(set)  # (branch, quarter) → kinds held
    for b, held_on, kind in rows(
        "SELECT branch_id, held_on, kind FROM meeting WHERE withdrawn_on IS NULL"
    ):
        held_on = as_date(held_on)
        if first <= held_on <= last:
            kinds[(b, (held_on.month - 1) // 3 + 1)].add(kind)
    goal = {b for (b,) in rows("SELECT branch_id FROM goal_card WHERE year = :y", y=number)}
    members = defaultdict(set)
    for m, b, left_on in rows("SELECT id, branch_id, left_on FROM member"):
        if left_on is None or as_date(left_on) >= first:
            members[b].add(m)
    scored = defaultdict(set)
    for m, b, done_on in rows(
        "SELECT member.id, member.branch_id, vanguard_entry.done_on FROM vanguard_entry"
        " JOIN vanguard_card ON vanguard_card.id = vanguard_entry.card_id"
        " JOIN member ON member.id = vanguard_card.member_id"
        " WHERE vanguard_card.year = :y AND vanguard_entry.confirmed_on IS NOT NULL"
        " AND vanguard_entry.withdrawn_on IS NULL",
        y=number,
    ):
        if first <= as_date(done_on) <= last and m in members[b]:
            scored[b].add(m)
    paired, active = set(), set()
    for b, s, e in rows("SELECT branch_id, started_on, ended_on FROM pairing"):
        if as_date(s) <= last and (e is None or as_date(e) > first):
            paired.add(b)
    for b, held_on in rows(
        "SELECT pairing.branch_id, pairing_activity.held_on FROM pairing_activity"
        " JOIN pairing ON pairing.id = pairing_activity.pairing_id"
    ):
        if first <= as_date(held_on) <= last:
            active.add(b)

    for b, i, s, e in assignments:
        for day in days(max(s, first), last):
            if e is not None and day >= e:
                break
            figures = out[i]
            recent = bisect.bisect_left(onsite[b], day - timedelta(days=CADENCE))
            visited = recent < len(onsite[b]) and onsite[b][recent] <= day
            overdue = s < day - timedelta(days=CADENCE) and not visited
            figures["visits"][0] += not overdue
            figures["visits"][1] += 1
            quarter = (day.month - 1) // 3 + 1
            cards = (0.5 if b in goal else 0) + (
                0.5 * len(scored[b]) / len(members[b]) if members[b] else 0
            )
            figures["meetings_cards"][0] += len(kinds[(b, quarter)]) / 3 / 2 + cards / 2
            figures["meetings_cards"][1] += 1
            if b in paired:
                figures["pairings"][0] += b in active
                figures["pairings"][1] += 1

    for b, due_on, status, closed_on in rows(
        "SELECT branch_id, due_on, status, closed_on FROM problem"
    ):
        due_on = as_date(due_on)
        if first <= due_on <= last and (i := holder(b, due_on)) is not None:
            out[i]["problems"][0] += status == "solved" and as_date(closed_on) <= due_on
            out[i]["problems"][1] += 1

    for i, at, corrected_at in rows(
        "SELECT visit.instructor_id, visit_comment.at, visit_comment.corrected_at"
        " FROM visit_comment JOIN visit ON visit.id = visit_comment.visit_id"
        " WHERE visit_comment.returned"
    ):
        at = as_utc(at)
        if first <= at.astimezone(clock.LOCAL_TIME).date() <= last:
            on_time = corrected_at is not None and as_utc(corrected_at) - at <= timedelta(
                days=FIX_DAYS
            )
            out[i]["corrections"][0] += on_time
            out[i]["corrections"][1] += 1
    return out


@pytest.mark.parametrize("years_back", [1, 0])
def test_every_instructors_indicators_agree_with_a_count_day_by_day(app, years_back):
    with app.app_context():
        today = clock.today()
        year = indicators.Year.of(today.year - years_back, today)
        want = expected(year.number, year.last)
        ids = [i for (i,) in rows("SELECT id FROM instructor")]
        got = dict(indicators.computed(year, ids))
    assert set(got) == set(ids)
    compared = defaultdict(int)
    for instructor_id, shares in got.items():
        for key, share in shares.items():
            met, out_of = want[instructor_id][key]
            assert (share.met, share.out_of) == (
                pytest.approx(met),
                pytest.approx(out_of),
            ), (instructor_id, key)
            compared[key] += out_of > 0
    # Every indicator had something to count for most instructors: the check is not empty.
    assert all(compared[key] >= len(ids) // 2 for key in got[ids[0]]), compared


def test_the_demo_holds_last_years_assessment_done_and_this_years_under_way(app):
    from crm.assessment import grading, services

    with app.app_context():
        today = clock.today()
        last = indicators.Year.of(today.year - 1, today)
        standings = grading.standings(last)
        scheme = services.scheme_for(last.number)
        excellent = sum(s.result.grade.value == "excellent" for s in standings)
        appeals = rows("SELECT changed, decided_at FROM assessment_appeal WHERE year = :y",
                       y=last.number)  # fmt: skip
        rated, used, issued = rows(
            "SELECT (SELECT count(*) FROM branch_rating WHERE year = :y),"
            " (SELECT count(*) FROM rating_link WHERE year = :y AND used_at IS NOT NULL),"
            " (SELECT count(*) FROM rating_link WHERE year = :y)",
            y=last.number,
        )[0]
        this_year = rows("SELECT id FROM assessment_scheme WHERE year = :y", y=today.year)
    assert scheme.locked_at is not None
    assert len(standings) == 115
    assert all(s.result is not None for s in standings)
    assert 0 < excellent <= grading.quota(scheme, len(standings))
    assert len(appeals) == 1
    assert appeals[0][1] is not None  # decided
    assert rated == used  # each rating used up its link
    assert 0.8 * issued < rated < issued  # most branches rated; a few never did
    assert len(this_year) == 1


def test_the_registration_form_and_the_summary_read_back(app, client):
    """The documents, read back with pdftotext and openpyxl, against the grades counted here
    from the result rows (plain SQL) and against each other."""
    from collections import Counter

    from tests.documents import pdf_text, sheets

    client.post("/login", data={"username": "reviewer", "password": app.config["DEMO_PASSWORD"]})
    with app.app_context():
        year = clock.today().year - 1
        latest = rows(
            "SELECT r.instructor_id, r.grade, d.name FROM assessment_result r"
            " JOIN instructor i ON i.id = r.instructor_id JOIN district d ON d.id = i.district_id"
            " WHERE r.year = :y AND r.version = (SELECT max(version) FROM assessment_result o"
            " WHERE o.year = r.year AND o.instructor_id = r.instructor_id)",
            y=year,
        )
        (name,) = rows(
            "SELECT a.name FROM instructor i JOIN account a ON a.id = i.account_id WHERE i.id = :i",
            i=latest[0][0],
        )[0]
    labels = {
        "excellent": "优秀",
        "competent": "称职",
        "basic": "基本称职",
        "incompetent": "不称职",
    }
    by_district = Counter((district, labels[grade]) for _, grade, district in latest)

    pdf = client.get(f"/assessment/{year}/instructors/{latest[0][0]}/form.pdf").data
    form = "".join(pdf_text(pdf, layout=False).split())  # cells' wrapped lines joined
    assert "专职党建指导员年度考核登记表" in form
    assert name in form
    for title in (
        "实地走访按期率",
        "问题按期解决率",
        "三会两卡",
        "结对共建活动",
        "退回走访按时修改率",
    ):
        assert title in form
    assert f"考核等次：{labels[latest[0][1]]}" in form
    assert "本人（签字）" in form

    summary = pdf_text(client.get(f"/assessment/{year}/summary.pdf").data)
    assert f"参加考核 {len(latest)} 人" in summary
    book = sheets(client.get(f"/assessment/{year}/summary.xlsx").data)
    people, districts = book["各指导员"], book["各县市区"]
    assert len(people) - 1 == len(latest)  # a header row, then everyone
    header = districts[0]
    for line in districts[1:-1]:
        counted = dict(zip(header[2:6], line[2:6], strict=True))
        assert counted == {g: by_district[(line[0], g)] for g in header[2:6]}, line[0]
    total = districts[-1]
    assert total[0] == "合计"
    assert total[1] == len(latest)
