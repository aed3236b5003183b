from wtforms import MultipleFileField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from crm.core.forms import Form, checkbox_list, client_key_field, date_field, enum_field
from crm.corrections.forms import reason_field
from crm.http import whole_number
from crm.meetings.models import MeetingKind


class MeetingForm(Form):
    """The attendee choices are the branch's members, filled by the view; whether a chosen
    id belongs to the branch is the service's rule, with its own message."""

    client_key = client_key_field()
    kind = enum_field("会议类别", MeetingKind, names={k: k.full_name for k in MeetingKind})
    held_on = date_field("会议日期")
    attendee_ids = SelectMultipleField(
        "参会党员",
        coerce=whole_number,
        validate_choice=False,
        **checkbox_list(),
    )
    other_attendees = StringField(
        "其他参会人员",
        validators=[Length(max=200)],
        default="",
        description="如业主、职工代表，非党员填在这里",
    )
    topics = TextAreaField("议题", validators=[DataRequired("请填写会议议题。"), Length(max=2000)])
    outcome = TextAreaField("结果", validators=[Length(max=2000)], default="")
    photos = MultipleFileField("照片（可选，最多 6 张）")


class MeetingEditForm(Form):
    """A correction of a meeting: what it was, who came, what was said; photos stay as sent."""

    kind = enum_field("会议类别", MeetingKind, names={k: k.full_name for k in MeetingKind})
    held_on = date_field("会议日期")
    attendee_ids = SelectMultipleField(
        "参会党员", coerce=whole_number, validate_choice=False, **checkbox_list()
    )
    other_attendees = StringField("其他参会人员", validators=[Length(max=200)], default="")
    topics = TextAreaField("议题", validators=[DataRequired("请填写会议议题。"), Length(max=2000)])
    outcome = TextAreaField("结果", validators=[Length(max=2000)], default="")
    reason = reason_field()
