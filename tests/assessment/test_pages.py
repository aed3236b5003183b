"""The assessment's pages: the admin's scheme (refused beside the field at fault with what was
typed kept, locked once the year starts), and the computed part, which each reader sees only
within their scope: an instructor their own, a district's reviewer their district."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Role
from crm.assessment import services
from crm.assessment.models import Grade, Scheme
from crm.branches.models import Branch
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.organizations.models import District
from tests import factories as f
from tests.documents import pdf_text, sheets

SCHEME = {
    "rating_from": f"{clock.today().year - 1}-12-01", "rating_until": f"{clock.today().year}-01-15",
    "daily_weight": "40", "rating_weight": "30", "committee_weight": "30",
    "visits_weight": "30", "problems_weight": "25", "meetings_cards_weight": "20",
    "pairings_weight": "15", "corrections_weight": "10",
    "excellent_min": "90", "competent_min": "70", "basic_min": "60", "excellent_quota": "20",
}  # fmt: skip
LAST_YEAR = clock.today().year - 1


@pytest.fixture
def admin(app, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")


def stored(app) -> Scheme | None:
    with app.app_context():
        return db.session.scalars(sa.select(Scheme).where(Scheme.year == LAST_YEAR)).first()


def test_the_admin_sets_the_years_scheme(app, client, admin):
    changed = {**SCHEME, "daily_weight": "50", "committee_weight": "20", "excellent_quota": "15"}
    answer = client.post(f"/assessment/{LAST_YEAR}/scheme", data=changed)
    assert answer.status_code == 303
    scheme = stored(app)
    assert (scheme.daily_weight, scheme.committee_weight, scheme.excellent_quota) == (50, 20, 15)


@pytest.mark.parametrize(
    ("changes", "message", "beside"),
    [
        ({"daily_weight": "50"}, "三部分权重合计应为 100%，现为 110%。", "daily_weight"),
        (
            {"pairings_weight": "5"},
            "日常工作五项指标的权重合计应为 100%，现为 90%。",
            "visits_weight",
        ),
        ({"competent_min": "95"}, "分数线应从高到低", "competent_min"),
        ({"excellent_quota": "120"}, "请填写 0 到 100 之间的整数。", "excellent_quota"),
        ({"basic_min": "六十"}, "请填写一个不太大的非负整数。", "basic_min"),
        ({"rating_weight": ""}, "请填写 0 到 100 之间的整数。", "rating_weight"),
    ],
)
def test_a_bad_scheme_is_refused_beside_its_field_and_kept_as_typed(
    app, client, admin, changes, message, beside
):
    answer = client.post(f"/assessment/{LAST_YEAR}/scheme", data={**SCHEME, **changes})
    assert answer.status_code == 422
    assert message in answer.text
    error_at = answer.text.rindex(message)  # beside the field (a summary may lead the form)
    assert answer.text.rindex(f'id="{beside}"', 0, error_at) > answer.text.rindex(
        "<fieldset", 0, error_at
    )
    for name, value in changes.items():
        assert f'name="{name}" type="number" value="{value}"' in answer.text
    assert stored(app) is None


def test_starting_the_year_locks_the_scheme(app, client, admin):
    assert client.post(f"/assessment/{LAST_YEAR}/start").status_code == 303
    scheme = stored(app)
    assert scheme.locked_at is not None
    assert scheme.daily_weight == 40  # the defaults, locked
    client.post(f"/assessment/{LAST_YEAR}/scheme", data={**SCHEME, "daily_weight": "50",
                                                         "committee_weight": "20"})  # fmt: skip
    assert stored(app).daily_weight == 40
    page = client.get(f"/assessment/{LAST_YEAR}/scheme").text
    assert "方案已锁定" in page
    assert "保存方案" not in page
    again = client.post(f"/assessment/{LAST_YEAR}/start", follow_redirects=True).text
    assert "年度考核已于" in again


def test_a_year_outside_the_platforms_is_not_found(app, client, admin):
    assert client.get(f"/assessment/{clock.today().year + 1}/").status_code == 404
    assert client.get("/assessment/2018/scheme").status_code == 404


def test_each_reader_sees_the_computed_part_within_their_scope(app, client, auth):
    with app.app_context():
        first, second = db.session.scalars(sa.select(District).order_by(District.id).limit(2))
        me = f.InstructorFactory(account__username="zdy", district=first,
                                 hired_on=date(2020, 1, 1))  # fmt: skip
        colleague = f.InstructorFactory(district=first, hired_on=date(2020, 1, 1))
        elsewhere = f.InstructorFactory(district=second, hired_on=date(2020, 1, 1))
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER], scope_district=first)
        f.AccountFactory(username="auditor", roles=[Role.AUDITOR])
        db.session.commit()
        names = {i.id: i.name for i in (me, colleague, elsewhere)}
        ids = (me.id, colleague.id, elsewhere.id)

    def page(instructor_id: int) -> int:
        return client.get(f"/assessment/{LAST_YEAR}/instructors/{instructor_id}").status_code

    auth.login("zdy")
    own = f"/assessment/{LAST_YEAR}/instructors/{ids[0]}"
    assert client.get(f"/assessment/{LAST_YEAR}/").location == own  # the table: only their own
    assert (
        client.get("/assessment/").location == f"/assessment/{LAST_YEAR + 1}/instructors/{ids[0]}"
    )
    assert names[ids[0]] in client.get(own).text
    assert [page(i) for i in ids] == [200, 404, 404]
    forms = [client.get(f"/assessment/{LAST_YEAR}/instructors/{i}/form.pdf") for i in ids]
    assert [form.status_code for form in forms] == [200, 404, 404]
    assert client.get(f"/assessment/{LAST_YEAR}/summary.pdf").status_code == 403
    assert client.get(f"/assessment/{LAST_YEAR}/scheme").status_code == 403
    auth.logout()

    auth.login("reviewer")
    table = client.get(f"/assessment/{LAST_YEAR}/").text
    assert [names[i] in table for i in ids] == [True, True, False]
    assert [page(i) for i in ids] == [200, 200, 404]
    summary = client.get(f"/assessment/{LAST_YEAR}/summary.xlsx").data
    from tests.documents import sheets

    listed = [line[1] for line in sheets(summary)["各指导员"][1:]]
    assert sorted(listed) == sorted([names[ids[0]], names[ids[1]]])  # their district only
    auth.logout()

    auth.login("auditor")
    assert client.get("/assessment/").status_code == 403


@pytest.mark.parametrize("page", ["", "grades", "ratings"])
def test_the_years_lists_run_as_many_statements_for_many_instructors_as_for_few(
    app, client, admin, count_queries, page
):
    with app.app_context():
        db.session.add(Scheme(year=LAST_YEAR, locked_at=clock.now(), **services.defaults(),
                              **services.rating_window(LAST_YEAR)))  # fmt: skip
        db.session.commit()

    def fill(n: int) -> None:
        with app.app_context():
            for _ in range(n):
                assignment = f.AssignmentFactory(instructor__hired_on=date(2020, 1, 1))
                f.VisitFactory(instructor=assignment.instructor, branch=assignment.branch)
            db.session.commit()

    fill(2)
    with count_queries() as few:
        assert client.get(f"/assessment/{LAST_YEAR}/{page}").status_code == 200
    fill(8)
    with count_queries() as many:
        assert client.get(f"/assessment/{LAST_YEAR}/{page}").status_code == 200
    assert len(many) == len(few), "\n".join(many)


def test_each_figure_drills_down_to_the_records_behind_it(app, client, auth):
    from datetime import UTC, datetime

    from crm.problems.models import ProblemStatus
    from crm.review.models import VisitComment

    with app.app_context():
        reviewer = f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        assignment = f.AssignmentFactory(instructor__hired_on=date(2020, 1, 1),
                                         branch__name="赣南脐橙合作社党支部")  # fmt: skip
        instructor, branch = assignment.instructor, assignment.branch
        late = f.ProblemFactory(branch=branch, raised_on=date(LAST_YEAR, 3, 1),
                                due_on=date(LAST_YEAR, 3, 31), status=ProblemStatus.SOLVED,
                                closed_on=date(LAST_YEAR, 4, 2))  # fmt: skip
        visit = f.VisitFactory(instructor=instructor, branch=branch,
                               visited_at=datetime(LAST_YEAR, 5, 1, 2, tzinfo=UTC))  # fmt: skip
        sent = datetime(LAST_YEAR, 5, 2, 2, tzinfo=UTC)
        db.session.add(VisitComment(visit_id=visit.id, text="请补充", returned=True,
                                    by_id=reviewer.id, at=sent,
                                    corrected_at=sent + timedelta(days=2)))  # fmt: skip
        db.session.commit()
        ids = (instructor.id, branch.id, late.id, visit.id)
    auth.login("reviewer")
    table = client.get(f"/assessment/{LAST_YEAR}/").text
    drill = f"/assessment/{LAST_YEAR}/instructors/{ids[0]}#problems"
    assert f'href="{drill}">0%</a>' in table  # the figure links to its records
    page = client.get(f"/assessment/{LAST_YEAR}/instructors/{ids[0]}").text
    assert f'href="/branches/{ids[1]}">赣南脐橙合作社党支部</a>' in page
    assert f'href="/problems/{ids[2]}">赣南脐橙合作社党支部 · ' in page
    assert f"{LAST_YEAR}-03-31 到期，{LAST_YEAR}-04-02 已解决：未按期解决" in page
    assert f'href="/visits/{ids[3]}">' in page
    assert "10:00 修改：按时" in page
    assert f"{LAST_YEAR}-01-01 至 {LAST_YEAR}-12-31 联系 365 天" in page


def test_the_committee_scores_within_its_scope_confirms_and_the_instructor_sees_the_result(
    app, client, auth
):
    with app.app_context():
        first, second = db.session.scalars(sa.select(District).order_by(District.id).limit(2))
        me = f.InstructorFactory(account__username="zdy", district=first,
                                 hired_on=date(2020, 1, 1))  # fmt: skip
        far = f.InstructorFactory(district=second, hired_on=date(2020, 1, 1))
        for person in (me, far):
            f.AssignmentFactory(instructor=person, started_on=date(LAST_YEAR - 1, 1, 1))
        f.AccountFactory(username="district", roles=[Role.REVIEWER], scope_district=first)
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        scheme = Scheme(year=LAST_YEAR, locked_at=clock.now(),
                        **services.defaults(), **services.rating_window(LAST_YEAR))  # fmt: skip
        db.session.add(scheme)
        db.session.commit()
        mine, theirs = me.id, far.id
    page = f"/assessment/{LAST_YEAR}/instructors/{mine}"

    auth.login("district")
    assert client.post(f"/assessment/{LAST_YEAR}/instructors/{theirs}/score",
                       data={"score": "80"}).status_code == 404  # fmt: skip
    refused = client.post(f"{page}/score", data={"score": "120", "note": "踏实"})
    assert refused.status_code == 422
    assert "请填写 0 到 100 之间的整数。" in refused.text
    assert "踏实</textarea>" in refused.text
    assert client.post(f"{page}/score", data={"score": "88"}).status_code == 303
    not_theirs = client.post(f"{page}/confirm", data={"grade": "competent"})
    assert not_theirs.status_code == 422
    assert "只有市级考核委员会（全市审阅）可以确认等次和处理申诉。" in not_theirs.text
    auth.logout()

    auth.login("zdy")
    own = client.get(page).text
    assert "考核委员会尚未确认等次" in own
    assert "建议等次" not in own  # the proposal is the committee's until confirmed
    auth.logout()

    auth.login("city")
    changed = client.post(f"{page}/confirm", data={"grade": "basic", "reason": ""})
    assert changed.status_code == 422
    assert "请写明理由" in changed.text
    done = client.post(f"{page}/confirm", data={"grade": "basic", "reason": "年中两次违纪"})
    assert done.status_code == 303
    again = client.post(f"{page}/confirm", data={"grade": "excellent", "reason": "复议"})
    assert "已确认并锁定" in again.text
    assert "已确认并锁定" in client.post(f"{page}/score", data={"score": "95"}).text
    auth.logout()

    auth.login("zdy")
    assert "年度考核等次：<strong>基本称职</strong>" in client.get(page).text


def table(page: str) -> str:
    return page[page.index("<table") : page.index("</table>")]


def test_the_standings_are_kept_until_a_record_changes_them(app, client, auth, count_queries):
    """Everyone's standings are counted from every record of the year, so they are kept between
    requests (crm.core.kept); a score saved shows at once, and the confirmed grade too."""
    with app.app_context():
        people = [f.InstructorFactory(account__name=f"指导员{n}", hired_on=date(2020, 1, 1))
                  for n in range(2)]  # fmt: skip
        for person in people:
            f.AssignmentFactory(instructor=person, started_on=date(LAST_YEAR - 1, 1, 1))
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        db.session.add(Scheme(year=LAST_YEAR, locked_at=clock.now(),
                              **services.defaults(), **services.rating_window(LAST_YEAR)))  # fmt: skip
        db.session.commit()
        scored = people[0].id
    auth.login("city")
    grades = f"/assessment/{LAST_YEAR}/grades"
    with count_queries() as counted:
        before = table(client.get(grades).text)
    with count_queries() as kept:
        assert table(client.get(grades).text) == before  # the page's CSRF token is timed
    assert len(kept) < len(counted) - 5
    assert before.count("待评分") == 2
    page = f"/assessment/{LAST_YEAR}/instructors/{scored}"
    assert client.post(f"{page}/score", data={"score": "88"}).status_code == 303
    after = client.get(grades).text
    assert after.count("待评分") == 1
    assert '<td class="num">88</td>' in after
    assert (
        client.post(f"{page}/confirm", data={"grade": "basic", "reason": "测试"}).status_code == 303
    )
    assert "基本称职" in client.get(grades).text


def test_a_confirmed_result_keeps_its_figures_on_every_page_after_a_late_correction(
    app, client, auth
):
    """A visit of the year recorded after the grade was confirmed changes what the records
    give; the result keeps the figures it was confirmed with, on the grades page, the
    instructor's page, the summary sheet and the registration form, which say so."""
    with app.app_context():
        person = f.InstructorFactory(account__name="谢晓", hired_on=date(2020, 1, 1))
        held = f.AssignmentFactory(instructor=person, started_on=date(LAST_YEAR - 1, 1, 1))
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        db.session.add(Scheme(year=LAST_YEAR, locked_at=clock.now(),
                              **services.defaults(), **services.rating_window(LAST_YEAR)))  # fmt: skip
        db.session.commit()
        mine, branch_id = person.id, held.branch_id
    auth.login("city")
    page = f"/assessment/{LAST_YEAR}/instructors/{mine}"
    assert client.post(f"{page}/score", data={"score": "90"}).status_code == 303
    assert (
        client.post(f"{page}/confirm", data={"grade": "basic", "reason": "测试"}).status_code == 303
    )
    with app.app_context():
        (daily, total), = db.session.execute(
            sa.text("SELECT daily, total FROM assessment_result WHERE instructor_id = :i"),
            {"i": mine},
        ).all()  # fmt: skip
        person, branch = db.session.get(Instructor, mine), db.session.get(Branch, branch_id)
        for month in range(1, 13):  # an on-site visit each month, entered late
            f.VisitFactory(instructor=person, branch=branch, visited_at=datetime.combine(
                date(LAST_YEAR, month, 5), time(10), clock.LOCAL_TIME))  # fmt: skip
        db.session.commit()

    grades = client.get(f"/assessment/{LAST_YEAR}/grades").text
    assert f'<td class="num">{total:.2f}<br><small class="muted">现按记录' in grades
    (row,) = [r for r in sheets(client.get(f"/assessment/{LAST_YEAR}/summary.xlsx").data)["各指导员"]
              if r[1] == "谢晓"]  # fmt: skip
    assert (row[2], row[5], row[7]) == (round(daily, 1), total, "基本称职")
    shown = client.get(page).text
    assert "日常工作得分现为" in shown
    assert f"（确认时 {daily:.1f}）" in shown
    assert f"总分 {total:.2f}" in shown
    form = "".join(pdf_text(client.get(f"{page}/form.pdf").data, layout=False).split())
    assert f"确认时得分：日常工作{daily:.1f}" in form
    assert "考核结果按确认时的得分，不变" in form
    assert f"总分{total:.2f}" in form


def test_the_committee_reads_one_districts_grades_and_takes_its_summary(app, client, auth):
    with app.app_context():
        first, second = db.session.scalars(sa.select(District).order_by(District.id).limit(2))
        for name, district in (("城区甲", first), ("城区乙", first), ("南康丙", second)):
            person = f.InstructorFactory(account__name=name, district=district,
                                         hired_on=date(2020, 1, 1))  # fmt: skip
            f.AssignmentFactory(instructor=person, started_on=date(LAST_YEAR - 1, 1, 1))
        f.AccountFactory(username="city", roles=[Role.REVIEWER])
        db.session.add(Scheme(year=LAST_YEAR, **services.defaults(),
                              **services.rating_window(LAST_YEAR)))  # fmt: skip
        db.session.commit()
        chosen, named = second.id, second.name
    auth.login("city")
    page = client.get(f"/assessment/{LAST_YEAR}/grades", query_string={"district_id": chosen})
    assert page.status_code == 200
    assert "南康丙" in page.text
    assert "城区甲" not in page.text
    assert f"下表为{named}的 1 人" in page.text
    assert "参加考核 3 人" in page.text  # the quota is still over everyone
    link = re.search(r'href="([^"]*summary\.xlsx[^"]*)"', page.text).group(1)
    assert f"district_id={chosen}" in link
    people = sheets(client.get(link.replace("&amp;", "&")).data)["各指导员"]
    assert [row[1] for row in people[1:]] == ["南康丙"]
    everyone = sheets(client.get(f"/assessment/{LAST_YEAR}/summary.xlsx").data)["各指导员"]
    assert sorted(row[1] for row in everyone[1:]) == ["南康丙", "城区乙", "城区甲"]
    for unknown in ("999999", str(2**63)):
        answer = client.get(
            f"/assessment/{LAST_YEAR}/grades", query_string={"district_id": unknown}
        )
        assert answer.status_code == (404 if unknown == "999999" else 200)


def test_an_appeal_within_ten_working_days_and_a_changed_grade_as_a_new_version(app, client, auth):
    from datetime import datetime

    import time_machine

    from crm.assessment import grading
    from crm.assessment.indicators import Year

    # Confirmed on Friday 25 September 2026. National Day is 1-7 October and Saturday
    # 10 October is worked: the ten working days are 28, 29, 30 September and 8, 9, 10, 12,
    # 13, 14, 15 October.
    confirmed = datetime(2026, 9, 25, 10, tzinfo=clock.LOCAL_TIME)
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy", hired_on=date(2020, 1, 1))
        f.AssignmentFactory(instructor=me, started_on=date(2024, 1, 1))
        city = f.AccountFactory(username="city", roles=[Role.REVIEWER])
        db.session.add(Scheme(year=2025, locked_at=clock.now(), **services.defaults(),
                              **services.rating_window(2025)))  # fmt: skip
        grading.save_score(2025, me.id, 60, "", by=city)
        with time_machine.travel(confirmed, tick=False):
            result = grading.confirm(Year(2025, date(2025, 12, 31)), me.id, Grade.BASIC,
                                     "按总分", by=city)  # fmt: skip
            assert grading.appeal_until(result) == date(2026, 10, 15)
        db.session.commit()
        mine = me.id
    page = f"/assessment/2025/instructors/{mine}"

    with time_machine.travel(datetime(2026, 10, 16, 9, tzinfo=clock.LOCAL_TIME)):
        auth.login("zdy")
        late = client.post(f"{page}/appeal", data={"text": "走访数据漏计"})
        assert "申诉期已于 2026-10-15 结束。" in late.text
        auth.logout()
    with time_machine.travel(datetime(2026, 10, 15, 9, tzinfo=clock.LOCAL_TIME)):
        auth.login("zdy")
        empty = client.post(f"{page}/appeal", data={"text": " "})
        assert empty.status_code == 422
        assert "请写明申诉的理由和依据。" in empty.text
        assert client.post(f"{page}/appeal", data={"text": "走访数据漏计"}).status_code == 303
        again = client.post(f"{page}/appeal", data={"text": "再申诉"})
        assert "本年度已提出过申诉。" in again.text
        auth.logout()

    auth.login("city")
    decided = client.post(
        f"{page}/appeal/decide", data={"grade": "competent", "reason": "核实漏计 3 次走访"}
    )
    assert decided.status_code == 303
    auth.logout()

    auth.login("zdy")
    own = client.get(page).text
    assert "年度考核等次：<strong>称职</strong>" in own
    assert "第 1 版：基本称职" in own
    assert "第 2 版：称职" in own
    assert "改变等次。核实漏计 3 次走访" in own
