import pytest
import sqlalchemy as sa

from crm.accounts.models import Role
from crm.extensions import db
from crm.organizations.models import Organization
from tests import factories as f

HUAWEI = "914403001922038216"


@pytest.fixture
def admin(app, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")


def form(**changes) -> dict:
    return {
        "name": "赣州华兴电子科技有限公司", "kind": "enterprise", "credit_code": HUAWEI,
        "district_id": 1, "industry": "电子信息", "address": "赣州市章贡区文清路8号",
        "headcount": "120", "party_member_count": "9", "owner_name": "刘华",
        "owner_is_member": "y", **changes,
    }  # fmt: skip


def organizations(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91440300192203821", "应为 18 位，现为 17 位"),
        ("91440300192203821O", "第 18 位“O”不是统一社会信用代码使用的字符"),
        ("914403001922038217", "校验位不符"),
    ],
)
def test_a_bad_credit_code_is_explained_beside_the_field(app, client, admin, code, message):
    response = client.post("/organizations/new", data=form(credit_code=code))
    assert response.status_code == 422
    page = response.text
    field = page[page.index('for="credit_code"') :]
    assert message in field[: field.index("</div>")]
    for kept in (code, "赣州华兴电子科技有限公司", "刘华", "赣州市章贡区文清路8号"):
        assert f'value="{kept}"' in page
    assert organizations(app) == 0


def test_a_valid_organization_is_saved_with_its_code_normalised(app, client, admin):
    response = client.post(
        "/organizations/new", data=form(credit_code=" ９１４４０３００１９２２０３８２１６ ")
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.execute(sa.select(Organization)).scalar_one()
        assert (saved.credit_code, saved.headcount, saved.owner_is_member) == (HUAWEI, 120, True)


def test_a_code_already_registered_names_its_holder(app, client, admin):
    with app.app_context():
        f.OrganizationFactory(name="已登记的公司", credit_code=HUAWEI)
    response = client.post("/organizations/new", data=form())
    assert response.status_code == 422
    assert "已登记为“已登记的公司”" in response.text
    assert organizations(app) == 1


def test_counts_must_be_whole_numbers(app, client, admin):
    response = client.post("/organizations/new", data=form(headcount="很多"))
    assert response.status_code == 422
    assert "不是有效的整数" in response.text
    assert 'value="很多"' in response.text


def test_the_list_searches_by_name_and_code(app, client, admin):
    with app.app_context():
        f.OrganizationFactory(name="赣南脐橙有限公司", credit_code=HUAWEI)
        f.OrganizationFactory(name="章江物流有限公司")
    assert "赣南脐橙有限公司" in client.get("/organizations/?q=脐橙").text
    assert "章江物流有限公司" not in client.get("/organizations/?q=脐橙").text
    assert "赣南脐橙有限公司" in client.get("/organizations/?q=91440300").text
