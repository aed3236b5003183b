"""A branch's card read as columns, for many at once, says what the branch object says."""

from decimal import Decimal

import sqlalchemy as sa

from crm.branches import services
from crm.branches.models import Branch, BranchKind
from crm.extensions import db
from tests import factories as f


def test_cards_read_as_columns_agree_with_the_branch(app):
    with app.app_context():
        # A joint branch of three organizations, in name order: the first has no address and no
        # position, so the address is the second's and the position the third's.
        first = f.OrganizationFactory(name="第1公司", address="", latitude=None, longitude=None)
        second = f.OrganizationFactory(name="第2公司", address="文清路2号")
        third = f.OrganizationFactory(
            name="第3公司",
            address="文清路3号",
            latitude=Decimal("25.850000"),
            longitude=Decimal("114.940000"),
        )
        joint = f.BranchFactory(kind=BranchKind.JOINT, organizations=[third, first, second])
        bare = f.BranchFactory(organizations=[])
        db.session.commit()
        joint_id, bare_id = joint.id, bare.id
        ids = [joint_id, bare_id]
        db.session.expunge_all()

        by_list = services.cards(ids)
        by_statement = services.cards(sa.select(Branch.id).where(Branch.id.in_(ids)))
        for branch in db.session.scalars(sa.select(Branch).where(Branch.id.in_(ids))):
            assert by_list[branch.id] == services.BranchCard.of(branch)
            assert by_statement[branch.id] == services.BranchCard.of(branch)
        assert by_list[joint_id].address == "文清路2号"
        assert by_list[joint_id].place == (Decimal("25.850000"), Decimal("114.940000"))
        assert (by_list[bare_id].address, by_list[bare_id].place) == ("", None)
