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


def test_the_branchs_secretary_is_the_secretary_on_its_member_list(app, client, auth):
    """One person, one phone number: the member list decides the branch's 书记 and 书记电话."""
    from datetime import date

    from crm.members import services as members
    from crm.members.models import MemberRole

    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        branch = f.BranchFactory(secretary_name="旧书记", secretary_phone="13900000001")
        member = members.add_member(branch, name="闫红", role=MemberRole.SECRETARY,
                                    phone="13911112222", joined_on=date(2015, 7, 1))  # fmt: skip
        db.session.commit()
        assert (branch.secretary_name, branch.secretary_phone) == ("闫红", "13911112222")
        members.update_member(member, phone="13933334444")
        db.session.commit()
        assert branch.secretary_phone == "13933334444"
        branch_id = branch.id
        posted = form(name=branch.name, kind="branch", district_id=branch.district_id,
                      organization_codes=branch.organizations[0].credit_code,
                      version=branch.version, secretary_name="别人",
                      secretary_phone="13800000000")  # fmt: skip
    auth.login("admin")
    page = client.get(f"/branches/{branch_id}/edit").text
    assert "由党员名册中的书记决定" in page
    saved = client.post(f"/branches/{branch_id}/edit", data=posted)
    assert saved.status_code in (302, 303), saved.text
    with app.app_context():
        again = db.session.get(f.Branch, branch_id)
        assert (again.secretary_name, again.secretary_phone) == ("闫红", "13933334444")
