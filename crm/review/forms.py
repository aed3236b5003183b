from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from crm.core.forms import Form, NumberField, enum_field, options
from crm.review.models import CheckOutcome


class AlertNoteForm(Form):
    rule = HiddenField()
    object_id = NumberField()
    note = StringField("处理情况", validators=[Length(max=500)])


class CommentForm(Form):
    text = TextAreaField("审阅意见", validators=[DataRequired("请填写意见。"), Length(max=500)])
    action = SelectField(
        "处理", choices=options([("comment", "仅留言"), ("return", "退回指导员修改")])
    )


class CheckForm(Form):
    outcome = enum_field("核查结果", CheckOutcome)
    note = StringField("说明", validators=[Length(max=500)], default="")
