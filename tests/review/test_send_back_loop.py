"""The spot check → send back → correct → confirm loop (issue 19.4), with the state each page
shows at each step. A corrected visit left no trace for the reviewer: the history showed only
the send-back, the check still said 待核查, and the instructor was told 走访已记录."""

import re
from datetime import timedelta

import sqlalchemy as sa

from crm.accounts.models import Role
from crm.extensions import db
from crm.review.models import VisitComment
from tests import factories as f


def check_state(client, quarter: str, visit_id: int) -> str:
    page = client.get(f"/review/checks?quarter={quarter}").text
    row = next(
        r for r in re.findall(r"<tr.*?</tr>", page, re.S) if f"/review/visits/{visit_id}" in r
    )
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_a_visit_sent_back_and_corrected_goes_back_to_the_reviewer(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        me = f.InstructorFactory(account__username="zdy")
        branch = f.AssignmentFactory(instructor=me).branch
        visit = f.VisitFactory(instructor=me, branch=branch, summary="走访了。")
        check = f.SpotCheckFactory(visit=visit)
        db.session.commit()
        ids, quarter = (visit.id, check.id), check.quarter

    auth.login("reviewer")
    assert "待核查" in check_state(client, quarter, ids[0])
    sent = client.post(f"/review/visits/{ids[0]}",
                       data={"text": "请写清见到了谁、谈了什么。", "action": "return"})  # fmt: skip
    assert sent.status_code in (302, 303)
    auth.logout()

    auth.login("zdy")
    assert "请写清见到了谁" in client.get(f"/visits/{ids[0]}/correct").text
    same = client.post(f"/visits/{ids[0]}/correct", data={"summary": "走访了。"})
    assert same.status_code == 422
    assert "没有任何改动" in same.text
    done = client.post(f"/visits/{ids[0]}/correct", follow_redirects=True, data={
        "summary": "与书记王芳谈换届准备，查看了党员名册。", "people_met": "书记王芳"})  # fmt: skip
    assert "更正已保存，已重新提交审阅" in done.text
    assert "走访已记录" not in done.text
    auth.logout()
    with app.app_context():  # when it was corrected, for the annual assessment
        sent_back = db.session.scalars(
            sa.select(VisitComment).where(VisitComment.visit_id == ids[0])
        ).one()
        assert sent_back.returned
        assert timedelta(0) <= sent_back.corrected_at - sent_back.at < timedelta(minutes=1)

    auth.login("reviewer")
    history = client.get(f"/review/visits/{ids[0]}").text
    sent_at, corrected_at = history.index("退回修改"), history.index("指导员已更正")
    assert sent_at < corrected_at  # in the order they happened
    assert "走访情况由“走访了。”改为“与书记王芳谈换届准备，查看了党员名册。”" in history
    assert "见到的人由“”改为“书记王芳”" in history
    assert "待复核" in check_state(client, quarter, ids[0])
    confirmed = client.post(f"/review/checks/{ids[1]}", data={"outcome": "confirmed", "note": ""})
    assert confirmed.status_code == 303
    assert "属实" in check_state(client, quarter, ids[0])
