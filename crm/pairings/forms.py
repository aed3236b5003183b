from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from crm.core.forms import Form, NumberField, client_key_field, date_field, enum_field
from crm.pairings.models import ActivityKind


class PairingForm(Form):
    """Branch ids are typed (or picked from a branch page): lists of thousands make poor selects."""

    agency_branch_id = NumberField(
        "机关企事业单位党组织编号", validators=[InputRequired("请填写编号。")]
    )
    branch_id = NumberField("两新组织党组织编号", validators=[InputRequired("请填写编号。")])
    started_on = date_field("开始日期")
    purpose = StringField("共建内容", validators=[Length(max=200)], default="")


class EndPairingForm(Form):
    ended_on = date_field("结束日期")


class ActivityForm(Form):
    client_key = client_key_field()
    held_on = date_field("活动日期")
    kind = enum_field("活动类型", ActivityKind)
    description = TextAreaField(
        "活动内容", validators=[DataRequired("请填写活动内容。"), Length(max=2000)]
    )
    resources = StringField(
        "提供的资源",
        validators=[Length(max=200)],
        default="",
        description="如资金、场地、岗位、培训",
    )
    people_reached = NumberField(
        "受益人数",
        default=0,
        validators=[
            InputRequired("请填写人数，没有填 0。"),
            NumberRange(min=0, max=1_000_000, message="请填写 0 或正整数。"),
        ],
    )
