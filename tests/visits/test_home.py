from datetime import date, timedelta

from crm import clock
from crm.extensions import db
from crm.visits.models import VisitKind
from tests import factories as f


def test_home_puts_overdue_visits_first_then_late_problems_then_the_rest(app, client, auth):
    today = clock.today()
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")

        def branch(name, visited_days_ago=None, kind=VisitKind.ONSITE):
            b = f.AssignmentFactory(instructor=me, branch__name=name,
                                    started_on=date(2024, 1, 1)).branch  # fmt: skip
            if visited_days_ago is not None:
                f.VisitFactory(instructor=me, branch=b, kind=kind,
                               visited_at=clock.now() - timedelta(days=visited_days_ago))  # fmt: skip
            return b

        branch("甲 走访正常", visited_days_ago=5)
        branch("乙 超期较久", visited_days_ago=50)
        branch("丙 从未走访")
        branch("丁 只打过电话", visited_days_ago=2, kind=VisitKind.REMOTE)
        late = branch("戊 问题超期", visited_days_ago=3)
        branch("己 近期走访", visited_days_ago=20)
        f.ProblemFactory(branch=late, raised_on=today - timedelta(days=40),
                         due_on=today - timedelta(days=1))  # fmt: skip
    auth.login("zdy001")
    page = client.get("/branches/").text
    positions = sorted("甲乙丙丁戊己", key=lambda n: page.index(f"{n} "))
    # 丁 and 丙 have had no on-site visit since 2024 (equally late, so by name: 丁 < 丙 in
    # Unicode); 乙 for 50 days; then 戊's late problem; then 己 (due in 10 days), 甲 (in 25).
    assert positions == ["丁", "丙", "乙", "戊", "己", "甲"]
    assert "从未走访" in page
    assert "2 天前走访（电话/视频，不算实地）" in page  # says what the recent visit was
    assert "5 天前实地走访" in page
    assert "超期 20 天未实地走访" in page


def test_a_newly_assigned_branch_is_not_overdue_at_once(app, client, auth):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        f.AssignmentFactory(instructor=me, started_on=clock.today() - timedelta(days=3))
    auth.login("zdy001")
    page = client.get("/branches/").text
    due = (clock.today() + timedelta(days=27)).isoformat()
    assert f"{due} 前需实地走访" in page
    assert "未实地走访" not in page


def test_the_cadence_is_a_setting(app, client, auth):
    app.config["VISIT_CADENCE_DAYS"] = 7
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        b = f.AssignmentFactory(instructor=me).branch
        f.VisitFactory(instructor=me, branch=b, visited_at=clock.now() - timedelta(days=10))
    auth.login("zdy001")
    assert "超期 3 天未实地走访" in client.get("/branches/").text


def test_visits_returned_for_correction_show_at_the_top(app, client, auth):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        b = f.AssignmentFactory(instructor=me, branch__name="退回的党支部").branch
        f.VisitFactory(instructor=me, branch=b, returned_at=clock.now(),
                       return_note="请补充见到的人")  # fmt: skip
    auth.login("zdy001")
    page = client.get("/branches/").text
    assert page.index("退回修改") < page.index("我联系指导的党组织")
    assert "请补充见到的人" in page


def test_each_row_offers_a_call_and_a_map(app, client, auth):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch = f.AssignmentFactory(instructor=me).branch
        organization = branch.organizations[0]
        organization.latitude, organization.longitude = 25.85, 114.94
        db.session.commit()
        phone = branch.secretary_phone
    auth.login("zdy001")
    page = client.get("/branches/").text
    assert f'href="tel:{phone}"' in page
    assert 'href="geo:25.850000,114.940000?q=' in page
