from wtforms import (
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    MultipleFileField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.core.forms import Form, checkbox_list, client_key_field, enum_field, options
from crm.problems.forms import ProblemRowForm
from crm.problems.services import NewProblem
from crm.visits.models import Clarity, VisitKind


class VisitForm(Form):
    client_key = client_key_field()
    visited_at = DateTimeLocalField(
        "走访时间", format="%Y-%m-%dT%H:%M", validators=[InputRequired("请填写走访时间。")]
    )
    kind = enum_field("走访方式", VisitKind)
    summary = TextAreaField(
        "做了什么",
        validators=[DataRequired("请简要写下这次走访做了什么。"), Length(max=2000)],
    )
    people_met = StringField("见到的人", validators=[Length(max=200)], default="")
    clarified = SelectMultipleField(
        "本次摸清了（五清五促）",
        choices=options(Clarity.choices()),
        **checkbox_list(),
        validate_choice=True,
    )
    latitude = DecimalField(places=6, validators=[Optional(), NumberRange(-90, 90)])
    longitude = DecimalField(places=6, validators=[Optional(), NumberRange(-180, 180)])
    accuracy_m = IntegerField(validators=[Optional(), NumberRange(0, 100_000)])
    problems = FieldList(FormField(ProblemRowForm), min_entries=1, max_entries=10)
    photos = MultipleFileField("照片（最多 6 张）")

    def new_problems(self) -> list[NewProblem]:
        """The problem rows that were filled in; a row without a description is left out."""
        return [
            _new_problem(row) for row in self.problems if (row.form.description.data or "").strip()
        ]


def _new_problem(row) -> NewProblem:
    return NewProblem(
        category=row.form.category.data,
        description=row.form.description.data,
        department=row.form.department.data or "",
        responsible=row.form.responsible.data or "",
        due_on=row.form.due_on.data,
    )


class CorrectionForm(Form):
    """What an instructor may correct in a visit sent back: what was done and clarified."""

    summary = VisitForm.summary
    people_met = VisitForm.people_met
    clarified = VisitForm.clarified
