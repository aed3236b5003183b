"""The problem ledger at a desk and on a phone (issue 19.7): a reviewer reads one line a problem
and sorts by branch or date; anyone searches by branch name or what the problem says, within
what they may see."""

import re
from datetime import timedelta

import pytest

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from tests import factories as f

pytestmark = pytest.mark.postgresql  # LIKE with its escape character, sorted text


def build(app) -> None:
    today = clock.today()
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        mine = f.AssignmentFactory(instructor__account__username="liu", branch__name="乙公司党支部")
        other = f.AssignmentFactory(branch__name="甲商会党支部")
        f.ProblemFactory(
            branch=mine.branch, description="招工难，缺焊工", due_on=today - timedelta(days=3)
        )
        f.ProblemFactory(branch=mine.branch, description="活动场地不足")
        f.ProblemFactory(branch=other.branch, description="招工难，缺普工")
        db.session.commit()


def titles(page: str) -> list[str]:
    return re.findall(r'<a (?:class="title" )?href="/problems/\d+">[^：<]*：([^<]+)</a>', page)


def test_a_reviewer_reads_a_table_sorted_and_searched(app, client, auth):
    build(app)
    auth.login("reviewer")
    page = client.get("/problems/?sort=branch").text
    assert '<th scope="col" aria-sort="ascending"><a' in page
    branch_cells = re.findall(r"<td>(\S+党支部)</td>", page)
    assert branch_cells == sorted(["乙公司党支部", "乙公司党支部", "甲商会党支部"])
    assert sorted(titles(client.get("/problems/?q=招工").text)) == sorted(
        ["招工难，缺普工", "招工难，缺焊工"]
    )
    assert titles(client.get("/problems/?q=甲商会").text) == ["招工难，缺普工"]
    assert "没有符合条件的问题。" in client.get("/problems/?q=%25").text
    page = client.get("/problems/?q=招工&sort=due&order=desc").text
    assert '<input type="hidden" name="sort" value="due">' in page  # kept when searching again


def test_an_instructor_searches_only_their_own(app, client, auth):
    build(app)
    auth.login("liu")
    page = client.get("/problems/?q=招工").text
    assert '<ul class="cards">' in page
    assert titles(page) == ["招工难，缺焊工"]  # the other branch's 招工 problem is not theirs
