from types import SimpleNamespace

import pytest

from crm.accounts.models import Role
from tests import factories as f


@pytest.fixture
def branch(app):
    """A branch guided by instructor zdy001, with secretary 钟华 and members 甲乙丙丁, and
    reviewer `reviewer` (city-wide)."""
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        branch = f.AssignmentFactory(instructor=me).branch
        secretary = f.MemberFactory(branch=branch, name="钟华", role=f.MemberRole.SECRETARY)
        members = [f.MemberFactory(branch=branch, name=name) for name in "甲乙丙丁"]
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        return SimpleNamespace(id=branch.id, secretary=secretary.id,
                               members={m.name: m.id for m in members})  # fmt: skip
