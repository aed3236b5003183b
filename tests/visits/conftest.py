from decimal import Decimal
from types import SimpleNamespace

import pytest

from crm import clock
from tests import factories as f


@pytest.fixture
def guide(app, auth):
    """Instructor zdy001, signed in, guiding one branch whose organization is registered at
    25.850000, 114.940000."""
    with app.app_context():
        instructor = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        organization = f.OrganizationFactory(latitude=Decimal("25.850000"),
                                             longitude=Decimal("114.940000"))  # fmt: skip
        branch = f.BranchFactory(organizations=[organization])
        f.AssignmentFactory(instructor=instructor, branch=branch)
        ids = SimpleNamespace(instructor=instructor.id, branch=branch.id,
                              account=instructor.account_id)  # fmt: skip
    auth.login("zdy001")
    return ids


def visit_form(**changes) -> dict:
    """A filled-in visit form as the phone posts it, with two problems."""
    # This minute: a time an hour ago would be yesterday just after midnight.
    when = clock.now().strftime("%Y-%m-%dT%H:%M")
    return {
        "client_key": "k" + "0" * 31, "visited_at": when, "kind": "onsite",
        "summary": "与书记座谈，了解招工和党员教育情况。", "people_met": "书记钟华、业主刘强",
        "clarified": ["people", "needs"],
        "problems-0-category": "hiring", "problems-0-description": "缺少熟练缝纫工 20 人",
        "problems-0-department": "区人社局", "problems-0-due_on": "",
        "problems-1-category": "policy", "problems-1-description": "想了解稳岗补贴政策",
        "problems-1-department": "", "problems-1-due_on": "",
        **changes,
    }  # fmt: skip
