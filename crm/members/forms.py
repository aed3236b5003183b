from wtforms import BooleanField

from crm.core.forms import Form, date_field, enum_field, optional_text, required_text, version_field
from crm.members.models import MemberRole


class MemberForm(Form):
    name = required_text("姓名", 50)
    role = enum_field("支部职务", MemberRole, default=MemberRole.MEMBER)  # most hold no office
    phone = optional_text("手机号码", 20)
    joined_on = date_field("入党日期", required=False)
    is_owner = BooleanField("是业主")
    is_manager = BooleanField("是管理人员")
    is_staff_rep = BooleanField("是职工代表")
    left_on = date_field("转出日期", required=False)

    version = version_field()
    FIELDS = (
        "name",
        "role",
        "phone",
        "joined_on",
        "is_owner",
        "is_manager",
        "is_staff_rep",
        "left_on",
    )

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}
