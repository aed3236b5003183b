"""The annual assessment's pages: the year's scheme (the admin sets it and starts the year),
and the computed part of each instructor the reader may see."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assessment import indicators, services
from crm.assessment.forms import SchemeForm
from crm.core.access import allow
from crm.core.forms import committed, form_status, submit
from crm.extensions import db
from crm.rules import RuleError

bp = Blueprint("assessment", __name__, url_prefix="/assessment")


def _year(number: int) -> indicators.Year:
    today = clock.today()
    try:
        services.check_year(number, today)
    except LookupError:
        abort(404)
    return indicators.Year.of(number, today)


@bp.route("/")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def index():
    if not current_user.has_role(Role.ADMIN, Role.REVIEWER):
        return redirect(url_for(".year", number=clock.today().year))
    return render_template("assessment/index.html", years=services.years(clock.today()))


@bp.route("/<int:number>/")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def year(number: int):
    """The computed part (日常工作) of each instructor the reader may see: an instructor sees
    only their own."""
    year = _year(number)
    return render_template(
        "assessment/year.html",
        year=year,
        scheme=services.scheme_for(number),
        indicators=indicators.indicators(),
        rows=services.daily_part(current_user, year),
    )


@bp.route("/<int:number>/instructors/<int:instructor_id>")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def instructor(number: int, instructor_id: int):
    """One instructor's computed part with each indicator's formula and figures; 404 outside
    the reader's scope (another instructor, another district)."""
    year = _year(number)
    row, records = services.instructor_part(current_user, year, instructor_id) or abort(404)
    return render_template(
        "assessment/instructor.html",
        year=year,
        scheme=services.scheme_for(number),
        indicators=indicators.indicators(),
        row=row,
        records=records,
    )


@bp.route("/<int:number>/scheme", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.REVIEWER)
def scheme(number: int):
    """The year's scheme: the admin edits it until the year's assessment starts; reviewers
    read it."""
    _year(number)
    scheme = services.scheme_for(number)
    form = SchemeForm(obj=scheme)
    editable = current_user.is_admin and scheme.locked_at is None
    if editable and submit(
        form, lambda: services.save_scheme(number, form.values(), by=current_user)
    ):
        flash(f"{number}年度考核方案已保存。", "success")
        return redirect(url_for(".scheme", number=number), 303)
    page = render_template(
        "assessment/scheme.html",
        form=form,
        scheme=scheme,
        number=number,
        editable=editable,
        indicators=indicators.indicators(),
    )
    return page, form_status(form)


@bp.post("/<int:number>/start")
@allow(Role.ADMIN)
def start(number: int):
    """Assessment of the year starts: the scheme locks."""
    _year(number)
    try:
        committed(lambda: services.start(number, by=current_user))
    except RuleError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(f"{number}年度考核已开始，考核方案已锁定。", "success")
    return redirect(url_for(".scheme", number=number), 303)
