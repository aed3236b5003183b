from wtforms import BooleanField, Field, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import RadioInput

from crm.assessment.models import Grade, Verdict
from crm.core.forms import CheckboxList, Form, NumberField, date_field, enum_field, options


def _percent(label: str) -> Field:
    return NumberField(label, description="%")


class SchemeForm(Form):
    daily_weight = _percent("日常工作（按记录计算）")
    rating_weight = _percent("服务对象评议（党组织书记评议）")
    committee_weight = _percent("组织评价（考核委员会评分）")
    visits_weight = _percent("实地走访按期率")
    problems_weight = _percent("问题按期解决率")
    meetings_cards_weight = _percent("三会两卡")
    pairings_weight = _percent("结对共建活动")
    corrections_weight = _percent("退回走访按时修改率")
    excellent_min = NumberField("优秀：总分不低于")
    competent_min = NumberField("称职：总分不低于")
    basic_min = NumberField("基本称职：总分不低于", description="低于此分为不称职。")
    excellent_quota = _percent("优秀比例上限")
    rating_from = date_field("服务对象评议开始日期")
    rating_until = date_field("服务对象评议截止日期")

    def values(self) -> dict[str, int | None]:
        return {
            name: field.data
            for name, field in self._fields.items()
            if isinstance(field, NumberField)
        }

    def window(self) -> dict:
        return {"rating_from": self.rating_from.data, "rating_until": self.rating_until.data}


class RateForm(Form):
    verdict = RadioField(
        "您对这位指导员一年来的指导工作",
        choices=options((v.value, v.label) for v in Verdict),
        coerce=lambda value: value if isinstance(value, Verdict) else Verdict(value),
        validators=[InputRequired("请选择满意、基本满意或不满意。")],
        widget=CheckboxList(),
        option_widget=RadioInput(),
    )
    comment = TextAreaField(
        "意见和建议（选填）",
        validators=[Length(max=500, message="请写在 500 字以内。")],
        description="请不要写入他人的电话号码等个人信息。",
    )


class ConfirmForm(Form):
    """A button that changes something (start the year, revoke a link): the CSRF token only."""


class ScoreForm(Form):
    score = NumberField("组织评价得分（0–100）")
    note = TextAreaField("评价意见", validators=[Length(max=500, message="请写在 500 字以内。")])


class ConfirmGradeForm(Form):
    grade = enum_field("确认等次", Grade)
    reason = TextAreaField(
        "调整理由",
        validators=[Length(max=500, message="请写在 500 字以内。")],
        description="确认的等次与建议不同、或并列待定时必填。",
    )


class AppealForm(Form):
    text = TextAreaField(
        "申诉理由和依据",
        validators=[Length(max=2000, message="请写在 2000 字以内。")],
    )


class DecideForm(Form):
    grade = enum_field("复核后的等次", Grade)
    reason = TextAreaField("复核意见", validators=[Length(max=500, message="请写在 500 字以内。")])


class SelfReportForm(Form):
    text = TextAreaField(
        "述职报告", description="一年来联系指导的主要工作、成效、不足和下一步打算。"
    )


class IssueForm(Form):
    """Issue rating links: printed, or also sent by SMS to the secretaries' mobiles."""

    send = BooleanField("同时以短信发送给登记了手机号的书记")
