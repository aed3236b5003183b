from wtforms import Form as PlainForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.core.forms import Form, date_field, enum_field, optional_text
from crm.problems.models import ProblemCategory


class ProblemFields:
    """The fields of a problem, shared by the visit form's rows and the stand-alone form."""

    category = enum_field("问题类别", ProblemCategory)
    description = TextAreaField("问题描述", validators=[Optional(), Length(max=1000)])
    department = optional_text("协调部门", 100, description="如结对机关党组织、市场监管所")
    responsible = optional_text("责任人", 50)
    due_on = date_field("办结期限", required=False)


class ProblemRowForm(ProblemFields, PlainForm):
    """One problem row inside the visit form (no CSRF token of its own); a row left without
    a description is ignored."""

    class Meta:
        locales = ("zh",)


class ProblemForm(ProblemFields, Form):
    description = TextAreaField(
        "问题描述", validators=[DataRequired("请描述问题。"), Length(max=1000)]
    )


class AdvanceForm(Form):
    """Choices of to_status are the problem's next statuses, filled by the view."""

    to_status = SelectField("改为", validators=[DataRequired("请选择。")])
    # Required, but by the service: it says what the note must hold for each status.
    note = TextAreaField("处理情况", validators=[Length(max=1000)])
    on = date_field("日期")
    department = StringField("协调部门", validators=[Length(max=100)], default="")
