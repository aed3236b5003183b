from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.problems import services
from crm.problems.models import Problem, ProblemStatus
from crm.rules import RuleError
from tests import factories as f
from tests.visits.conftest import guide, visit_form  # noqa: F401  (fixture)


def problem_of(app, problem_id: int) -> tuple:
    with app.app_context():
        problem = db.session.get(Problem, problem_id)
        steps = [(s.from_status and s.from_status.value, s.to_status.value, s.note, s.by.username)
                 for s in problem.steps]  # fmt: skip
        return problem.status.value, problem.resolution, problem.closed_on, steps


def test_a_problems_whole_life(app, client, guide):  # noqa: F811
    client.post(f"/branches/{guide.branch}/visits/new", data=visit_form())
    with app.app_context():
        problem_id = (
            db.session.execute(sa.select(Problem.id).order_by(Problem.id)).scalars().first()
        )
    today = clock.today().isoformat()

    response = client.post(f"/problems/{problem_id}/advance", data={
        "to_status": "coordinating", "note": "已联系区人社局安排专场招聘会", "on": today,
        "department": "区人社局就业服务中心"})  # fmt: skip
    assert response.status_code == 303
    response = client.post(f"/problems/{problem_id}/advance", data={
        "to_status": "solved", "note": "专场招聘会招到缝纫工 22 人", "on": today})  # fmt: skip
    assert response.status_code == 303

    status, resolution, closed_on, steps = problem_of(app, problem_id)
    assert (status, resolution, closed_on) == (
        "solved",
        "专场招聘会招到缝纫工 22 人",
        clock.today(),
    )
    assert steps == [
        (None, "open", "登记问题", "zdy001"),
        ("open", "coordinating", "已联系区人社局安排专场招聘会", "zdy001"),
        ("coordinating", "solved", "专场招聘会招到缝纫工 22 人", "zdy001"),
    ]
    page = client.get(f"/problems/{problem_id}").text
    assert "解决办法" in page
    assert "区人社局就业服务中心" in page
    assert "更新进展" not in page  # a solved problem stays solved

    response = client.post(f"/problems/{problem_id}/advance", data={
        "to_status": "coordinating", "note": "再次协调", "on": today})  # fmt: skip
    assert response.status_code == 403


def test_solving_needs_how_and_giving_up_needs_why(app, client, guide):  # noqa: F811
    with app.app_context():
        problem = f.ProblemFactory(branch=db.session.get(f.Branch, guide.branch))
        problem_id = problem.id
    today = clock.today().isoformat()
    for status, message in (("solved", "请说明问题是如何解决的"),
                            ("unsolvable", "请说明无法解决的原因")):  # fmt: skip
        response = client.post(f"/problems/{problem_id}/advance",
                               data={"to_status": status, "note": "  ", "on": today})  # fmt: skip
        assert response.status_code == 422
        assert message in response.text
    assert problem_of(app, problem_id)[0] == "open"


def test_a_step_cannot_be_dated_before_the_problem_or_in_the_future(app):
    with app.app_context():
        problem = f.ProblemFactory()
        account = f.AccountFactory()
        with pytest.raises(RuleError, match="不能早于登记日期"):
            services.advance(problem, ProblemStatus.COORDINATING, note="x", by=account,
                             on=problem.raised_on - timedelta(days=1))  # fmt: skip
        with pytest.raises(RuleError, match="不能晚于今天"):
            services.advance(problem, ProblemStatus.COORDINATING, note="x", by=account,
                             on=clock.today() + timedelta(days=1))  # fmt: skip


def test_the_due_date_defaults_to_a_setting(app, client, guide):  # noqa: F811
    app.config["PROBLEM_DUE_DAYS"] = 14
    form = visit_form()
    client.post(f"/branches/{guide.branch}/visits/new", data=form)
    with app.app_context():
        dues = set(db.session.execute(sa.select(Problem.due_on)).scalars())
    # Raised on the day of the visit, which an hour ago may still be yesterday.
    visit_day = datetime.strptime(form["visited_at"], "%Y-%m-%dT%H:%M").date()
    assert dues == {visit_day + timedelta(days=14)}


def test_overdue_problems_are_flagged_to_the_instructor_and_the_reviewer(app, client, auth, guide):  # noqa: F811
    with app.app_context():
        branch = db.session.get(f.Branch, guide.branch)
        late = f.ProblemFactory(branch=branch, description="拖欠工资纠纷",
                                raised_on=clock.today() - timedelta(days=40),
                                due_on=clock.today() - timedelta(days=10))  # fmt: skip
        f.ProblemFactory(branch=branch, description="按期推进的问题")
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        late_id = late.id
    home = client.get("/branches/").text
    assert "1 个已超期" in home
    overdue = client.get("/problems/?show=overdue").text
    assert "拖欠工资纠纷" in overdue
    assert "按期推进的问题" not in overdue
    assert "已超期 10 天" in overdue
    auth.logout()
    auth.login("reviewer")
    assert "拖欠工资纠纷" in client.get("/problems/?show=overdue").text
    page = client.get(f"/problems/{late_id}").text
    assert "已超期" in page
    assert "更新进展" not in page  # reviewers read; the instructor acts


def test_a_problem_raised_outside_a_visit(app, client, guide):  # noqa: F811
    response = client.post(f"/branches/{guide.branch}/problems/new", data={
        "category": "financing", "description": "流动资金紧张，想申请创业担保贷款",
        "department": "", "responsible": "", "due_on": ""})  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        problem = db.session.execute(sa.select(Problem)).scalar_one()
        assert (problem.visit_id, problem.due_on) == (None, clock.today() + timedelta(days=30))
