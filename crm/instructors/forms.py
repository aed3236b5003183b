from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from crm.core.forms import (
    Form,
    date_field,
    district_field,
    enum_field,
    required_text,
    version_field,
)
from crm.instructors.models import InstructorStatus


class InstructorForm(Form):
    name = required_text("姓名", 50)
    phone = required_text("手机号码", 20)
    district_id = district_field()
    hired_on = date_field("聘用日期")
    status = enum_field("状态", InstructorStatus)

    version = version_field()
    FIELDS = ("name", "phone", "district_id", "hired_on", "status")

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


class NewInstructorForm(InstructorForm):
    username = StringField(
        "登录用户名",
        validators=[
            DataRequired("此项必填。"),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message="只能用字母、数字、点、下划线和连字符。"),
        ],
    )
    # No password: the account waits for the security admin to open it (crm.accounts).
