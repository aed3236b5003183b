from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length

from crm.branches.models import BranchKind, Sector
from crm.core.forms import (
    Form,
    count_field,
    date_field,
    district_field,
    enum_field,
    optional_text,
    required_text,
    version_field,
)


class BranchForm(Form):
    name = required_text("党组织名称", 100)
    kind = enum_field("组织形式", BranchKind)
    sector = enum_field("类别", Sector)
    district_id = district_field()
    secretary_name = optional_text("书记姓名", 50)
    secretary_phone = optional_text("书记电话", 20)
    member_count = count_field("党员人数")
    founded_on = date_field("成立日期", required=False)
    under_guidance = BooleanField("列入指导员联系指导")
    organization_codes = TextAreaField(
        "覆盖组织（统一社会信用代码，每行一个）",
        validators=[Length(max=2000)],
        description="联合党支部填写多个；机关企事业单位党组织留空。",
    )

    version = version_field()
    FIELDS = (
        "name",
        "kind",
        "sector",
        "district_id",
        "secretary_name",
        "secretary_phone",
        "member_count",
        "founded_on",
        "under_guidance",
    )

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}

    def codes(self) -> list[str]:
        return [
            line.strip()
            for line in (self.organization_codes.data or "").splitlines()
            if line.strip()
        ]
