from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import Length

from crm.core.forms import Form, date_field
from crm.http import whole_number


class MoveRowForm(PlainForm):
    """One current branch: to whom it goes (0: it stays)."""

    class Meta:
        locales = ("zh",)

    branch_id = HiddenField()
    to = SelectField("移交给", coerce=whole_number, validate_choice=False)


class HandoverForm(Form):
    on = date_field("移交日期")
    reason = StringField(
        "原因", validators=[Length(max=60)], default="", description="如离职、调岗"
    )
    moves = FieldList(FormField(MoveRowForm), min_entries=0, max_entries=30)
    mark_left = BooleanField("全部移交后将该指导员设为离岗")
