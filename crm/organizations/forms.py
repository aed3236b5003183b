from wtforms import BooleanField

from crm.core.forms import (
    Form,
    count_field,
    district_field,
    enum_field,
    optional_text,
    required_text,
    version_field,
)
from crm.organizations.models import OrganizationKind


class OrganizationForm(Form):
    name = required_text("组织名称", 100)
    kind = enum_field("组织类型", OrganizationKind)
    credit_code = required_text("统一社会信用代码", 40, description="18 位，可含字母")
    district_id = district_field()
    industry = optional_text("所属行业", 40)
    address = optional_text("地址", 200)
    headcount = count_field("从业人数")
    party_member_count = count_field("党员人数")
    owner_name = optional_text("业主（负责人）姓名", 50)
    owner_is_member = BooleanField("业主是党员")
    owner_is_secretary = BooleanField("业主兼任党组织书记")

    version = version_field()
    FIELDS = (
        "name",
        "kind",
        "credit_code",
        "district_id",
        "industry",
        "address",
        "headcount",
        "party_member_count",
        "owner_name",
        "owner_is_member",
        "owner_is_secretary",
    )

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}
