import pytest
import sqlalchemy as sa

from crm.accounts.models import Role
from crm.branches.models import Branch, BranchKind
from crm.extensions import db
from tests import factories as f


@pytest.fixture
def admin(app, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")


def form(**changes) -> dict:
    return {
        "name": "章贡区文清路个体工商户联合党支部", "kind": "joint", "sector": "two_new",
        "district_id": 1, "secretary_name": "钟书记", "member_count": "7",
        "under_guidance": "y", "organization_codes": "", **changes,
    }  # fmt: skip


def test_a_joint_branch_covers_several_organizations(app, client, admin):
    with app.app_context():
        codes = [f.OrganizationFactory().credit_code for _ in range(3)]
    response = client.post("/branches/new", data=form(organization_codes="\n".join(codes)))
    assert response.status_code == 302
    with app.app_context():
        branch = db.session.execute(sa.select(Branch)).scalar_one()
        assert branch.kind is BranchKind.JOINT
        assert sorted(o.credit_code for o in branch.organizations) == sorted(codes)


def test_a_joint_branch_of_one_organization_is_refused(app, client, admin):
    with app.app_context():
        code = f.OrganizationFactory().credit_code
    response = client.post("/branches/new", data=form(organization_codes=code))
    assert response.status_code == 422
    assert "联合党支部应覆盖至少 2 个组织" in response.text
    assert code in response.text


def test_an_unknown_code_is_named(app, client, admin):
    with app.app_context():
        code = f.OrganizationFactory().credit_code
    response = client.post(
        "/branches/new", data=form(organization_codes=f"{code}\n914403001922038216")
    )
    assert response.status_code == 422
    assert "以下代码尚未登记为组织：914403001922038216" in response.text


def test_an_organization_already_covered_is_refused(app, client, admin):
    with app.app_context():
        taken = f.BranchFactory(name="原有党支部").organizations[0].credit_code
    response = client.post(
        "/branches/new",
        data=form(kind="branch", name="新党支部", organization_codes=taken),
    )
    assert response.status_code == 422
    assert "已由“原有党支部”覆盖" in response.text


def test_an_agency_branch_covers_no_organization_and_is_never_guided(app, client, admin):
    response = client.post(
        "/branches/new",
        data=form(kind="branch", sector="agency", name="赣州市商务局机关党支部"),
    )
    assert response.status_code == 302
    with app.app_context():
        branch = db.session.execute(sa.select(Branch)).scalar_one()
        assert branch.under_guidance is False
