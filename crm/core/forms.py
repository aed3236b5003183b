"""Form pieces shared by every feature."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import jsonify, render_template, request
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput

from crm.db import LabeledEnum, Versioned
from crm.extensions import db, writing
from crm.http import wants_json, wants_page_back, whole_number
from crm.rules import RuleError, show_on_form

T = TypeVar("T")

REQUIRED = "此项必填。"


class Form(FlaskForm):
    """A CSRF-protected form whose built-in messages are in Chinese."""

    class Meta:
        locales = ("zh",)


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def required_text(label: str, max_length: int, **kwargs) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(max=max_length, message=f"最多 {max_length} 个字。"),
        ],
        filters=[_strip],
        **kwargs,
    )


def optional_text(label: str, max_length: int, **kwargs) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=max_length, message=f"最多 {max_length} 个字。")],
        filters=[_strip],
        default="",
        **kwargs,
    )


class NumberField(IntegerField):
    """A whole number as a database column holds it (crm.http.whole_number): anything larger,
    negative or not a number is refused beside the field, never stored or looked up."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = whole_number(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError("请填写一个不太大的非负整数。") from None


def count_field(label: str) -> IntegerField:
    return IntegerField(
        label,
        default=0,
        validators=[
            InputRequired("请填写数字，没有填 0。"),
            NumberRange(min=0, max=1_000_000, message="请填写 0 或正整数。"),
        ],
    )


def date_field(label: str, *, required: bool = True) -> DateField:
    return DateField(
        label,
        validators=[InputRequired("请选择日期。") if required else Optional()],
        format="%Y-%m-%d",
    )


def enum_field(
    label: str, enum: type[LabeledEnum], *, names: dict | None = None, default=None
) -> SelectField:
    """A choice of an enum's members, shown by their labels (or by `names`, member: text)."""
    shown = names or {member: member.label for member in enum}
    return SelectField(
        label,
        default=default,
        choices=options((member.value, shown[member]) for member in enum),
        coerce=lambda value: value if isinstance(value, enum) else enum(value),
        validators=[InputRequired("请选择。")],
    )


class CheckboxList:
    """A list of checkboxes, each inside its own label: the whole row is one thumb-sized target."""

    def __call__(self, field, **kwargs) -> Markup:
        row = Markup('<li><label class="check-label">{} {}</label></li>')
        rows = Markup("").join(row.format(option(), option.label.text) for option in field)
        return Markup('<ul id="{}" class="{}">{}</ul>').format(
            kwargs.get("id", field.id), kwargs.get("class_", kwargs.get("class", "")), rows
        )


def checkbox_list() -> dict:
    """The widgets of a multiple choice drawn as checkboxes."""
    return {"widget": CheckboxList(), "option_widget": CheckboxInput()}


def district_field(label: str = "所属县市区") -> SelectField:
    """Choices are filled by the view from the districts table."""
    return SelectField(label, coerce=whole_number, validators=[InputRequired("请选择县市区。")])


CONFLICT = (
    "保存失败：您打开这个页面之后，别人已修改并保存了这条记录。为免覆盖对方的修改，"
    "请刷新页面看过最新内容后再改；您填写的内容仍在下面。"
)


def submit(
    form: FlaskForm, action: Callable[[], T], *, record: Versioned | None = None
) -> T | None:
    """Run `action` (a service call) for a valid posted form and commit what it did.

    Returns what the action returned, or None when the form is not posted or not valid, or
    when a rule refused: then nothing is written and the rule's message sits beside its field.
    With `record` (an edit form with a `version` field), a form made from an older version of
    the record is refused as a conflict, and so is a save that loses a race to another.
    """
    if not form.validate_on_submit():
        return None
    with writing():
        try:
            if record is not None:
                _check_version(form, record)
            result = action()
            db.session.commit()
        except RuleError as error:
            db.session.rollback()
            show_on_form(form, error)
            return None
        except StaleDataError:
            db.session.rollback()
            show_on_form(form, RuleError(CONFLICT))
            return None
    return result


def committed(action: Callable[[], T]) -> T:
    """Run `action` (a service call that writes: an audit entry at least) and commit what it
    did, under the write lock: `submit()` for the actions that come without a form to check
    (a sign-in, a sign-out, a reveal, an account disabled)."""
    with writing():
        result = action()
        db.session.commit()
    return result


def version_field() -> HiddenField:
    """The version of the record an edit form was made from (crm.db.Versioned)."""
    return HiddenField(filters=[lambda value: int(value) if str(value or "").isdigit() else None])


NO_VERSION = "表单缺少版本信息，无法确认您看到的是最新内容：请刷新页面后再保存。"


def _check_version(form: FlaskForm, record: Versioned) -> None:
    """The form must say which version it was made from: a missing or garbled version is
    refused like an old one, never taken as "no check". Raises RuleError."""
    shown = form.version.data
    if shown is None or not form.version.raw_data:  # absent: data would be the record's own
        raise RuleError(NO_VERSION)
    if shown != record.version:
        raise RuleError(CONFLICT)


def client_key_field() -> HiddenField:
    """The key a phone's form carries so that sending it twice saves it once."""
    return HiddenField(
        validators=[
            DataRequired("表单缺少编号，请刷新后重试。"),
            Regexp(r"^[A-Za-z0-9-]{8,64}$", message="表单编号无效，请刷新后重试。"),
        ]
    )


def form_status(form: FlaskForm) -> int:
    """422 when a posted form is shown again with its errors, else 200."""
    return 422 if form.errors else 200


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def shown_again(form: FlaskForm, template: str, **context):
    """A form that was not saved, shown again with every value and message; the phone's
    outbox script, which asks for JSON, gets the messages as JSON."""
    if request.method == "POST" and wants_json() and not wants_page_back():
        return jsonify(errors=form.errors), 422
    return render_template(template, form=form, **context), form_status(form)


@dataclass(frozen=True)
class FieldError:
    """One message of a form shown again, for the summary at the top of the page: `target` is
    the id of the control it is about ("" for the form as a whole)."""

    target: str
    label: str
    message: str


def errors_in(form: FlaskForm) -> list[FieldError]:
    """Every message of a form, in the order of its fields, the form's own first."""
    found = [FieldError("", "", message) for message in form.form_errors]
    found += _field_errors(form, "")
    return found


def _field_errors(form: FlaskForm, prefix: str) -> Iterator[FieldError]:
    for field in form:
        if isinstance(field, FieldList):
            for number, entry in enumerate(field.entries, 1):
                yield from _field_errors(entry.form, f"{prefix}{field.label.text} {number} · ")
        elif isinstance(field, FormField):
            yield from _field_errors(field.form, prefix)
        else:
            # A list of checkboxes has no control of its own id: go to its first box.
            target = f"{field.id}-0" if isinstance(field.widget, CheckboxList) else field.id
            label = "" if field.type in ("HiddenField", "CSRFTokenField") else field.label.text
            for message in field.errors:
                yield FieldError(target, prefix + label, message)
