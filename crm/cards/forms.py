from wtforms import (
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length

from crm.cards.models import Rating, VanguardCategory
from crm.cards.services import NewGoal
from crm.core.forms import (
    Form,
    NumberField,
    checkbox_list,
    client_key_field,
    date_field,
    enum_field,
)
from crm.corrections.forms import reason_field
from crm.http import whole_number


class GoalRowForm(PlainForm):
    """One goal row; a row without a title is left out."""

    class Meta:
        locales = ("zh",)

    title = StringField("目标", validators=[Length(max=200)])
    target = StringField("指标", validators=[Length(max=200)])
    measure = StringField("衡量方式", validators=[Length(max=200)])


class GoalCardForm(Form):
    year = NumberField("年度", validators=[InputRequired("请填写年度。")])
    goals = FieldList(FormField(GoalRowForm), min_entries=4, max_entries=12)

    def new_goals(self) -> list[NewGoal]:
        return [
            NewGoal(
                row.form.title.data.strip(),
                (row.form.target.data or "").strip(),
                (row.form.measure.data or "").strip(),
            )
            for row in self.goals
            if (row.form.title.data or "").strip()
        ]


class GoalForm(Form):
    title = StringField("目标", validators=[DataRequired("请填写目标。"), Length(max=200)])
    target = StringField("指标", validators=[Length(max=200)])
    measure = StringField("衡量方式", validators=[Length(max=200)])


class NoteForm(Form):
    on = date_field("日期")
    text = TextAreaField("进展", validators=[DataRequired("请填写进展。"), Length(max=2000)])


class AssessmentForm(Form):
    self_assessment = TextAreaField("年终自评", validators=[Length(max=4000)])


class RatingForm(Form):
    rating = enum_field("评定", Rating)
    comment = TextAreaField("评语", validators=[Length(max=1000)])


class UnlockForm(Form):
    reason = TextAreaField("解锁原因", validators=[Length(max=200)])


class EntryForm(Form):
    """Member choices are the branch's members, filled by the view."""

    client_key = client_key_field()
    # Nobody is chosen until the user chooses (a first person preselected once sent a deed to
    # the wrong member); the service says why a member who left cannot be chosen.
    member_id = SelectField(
        "党员",
        coerce=lambda v: int(v) if str(v).isdigit() else None,
        validate_choice=False,
        validators=[InputRequired("请选择党员。")],
    )
    done_on = date_field("日期")
    category = enum_field("类别", VanguardCategory)
    deed = TextAreaField("事迹", validators=[DataRequired("请写下做了什么。"), Length(max=500)])
    points = NumberField("积分", validators=[InputRequired("请填写积分。")])


class ConfirmForm(Form):
    """A button's form: only its CSRF token."""


class LinkConfirmForm(Form):
    """The secretary's choice of deeds to confirm; the choices are filled by the view."""

    entry_ids = SelectMultipleField("确认以下储绩", coerce=whole_number, **checkbox_list())


class GoalEditForm(GoalForm):
    reason = reason_field()


class NoteEditForm(NoteForm):
    reason = reason_field()


class EntryEditForm(Form):
    """A correction of a deed; who it is for stays (withdraw it and record it again)."""

    done_on = date_field("日期")
    category = enum_field("类别", VanguardCategory)
    deed = TextAreaField("事迹", validators=[DataRequired("请写下做了什么。"), Length(max=500)])
    points = NumberField("积分", validators=[InputRequired("请填写积分。")])
    reason = reason_field()
