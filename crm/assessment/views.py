"""The annual assessment's pages: the year's scheme (the admin sets it and starts the year),
and the computed part of each instructor the reader may see."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assessment import indicators, services
from crm.assessment import ratings as ratings_service
from crm.assessment.forms import ConfirmForm, RateForm, SchemeForm
from crm.assessment.models import RatingLink
from crm.core.access import allow, public
from crm.core.forms import committed, form_status, submit
from crm.core.links import LinkError
from crm.core.qr import qr_data_uri
from crm.core.security import limiter, link_rate
from crm.extensions import db
from crm.instructors.services import of_account
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
        return _own_page(clock.today().year)
    return render_template("assessment/index.html", years=services.years(clock.today()))


def _own_page(number: int):
    """An instructor's assessment is their own page."""
    me = of_account(current_user.id) or abort(404)
    return redirect(url_for(".instructor", number=number, instructor_id=me.id))


@bp.route("/<int:number>/")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def year(number: int):
    """The computed part (日常工作) of each instructor the reader may see (an instructor is
    taken to their own page)."""
    year = _year(number)
    if not current_user.has_role(Role.ADMIN, Role.REVIEWER):
        return _own_page(number)
    rows = services.daily_part(current_user, year)
    return render_template(
        "assessment/year.html",
        year=year,
        scheme=services.scheme_for(number),
        indicators=indicators.indicators(),
        rows=rows,
        rated=ratings_service.summaries(number, [row.instructor_id for row in rows]),
    )


@bp.route("/<int:number>/instructors/<int:instructor_id>")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def instructor(number: int, instructor_id: int):
    """One instructor's computed part with each indicator's formula and figures; 404 outside
    the reader's scope (another instructor, another district)."""
    year = _year(number)
    row, records = services.instructor_part(current_user, year, instructor_id) or abort(404)
    reviewing = current_user.has_role(Role.ADMIN, Role.REVIEWER)
    return render_template(
        "assessment/instructor.html",
        year=year,
        scheme=services.scheme_for(number),
        indicators=indicators.indicators(),
        row=row,
        records=records,
        rated=ratings_service.summaries(number, [instructor_id])[instructor_id],
        # The comments, without who wrote them, for the committee only: the instructor sees
        # how many of each verdict.
        comments=ratings_service.comments(number, instructor_id) if reviewing else None,
        rating_formula=ratings_service.FORMULA,
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
        form, lambda: services.save_scheme(number, form.values(), form.window(), by=current_user)
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


# --- the branches' ratings --------------------------------------------------------------------


@bp.route("/<int:number>/ratings", methods=["GET", "POST"])
@allow(Role.ADMIN)
def ratings(number: int):
    """Each branch and the instructors it rates, with its link's state; issuing gives every
    branch not yet rated a new link (an open one is revoked), shown once, to print or send."""
    _year(number)
    found = ratings_service.pairs(number)
    form = ConfirmForm()
    issued = submit(form, lambda: ratings_service.issue(number, found, by=current_user))
    return _ratings_page(number, found, form, issued)


@bp.post("/<int:number>/ratings/<int:branch_id>/<int:instructor_id>")
@allow(Role.ADMIN)
def reissue(number: int, branch_id: int, instructor_id: int):
    """A new link for one branch and instructor (the old one lost, or sent astray)."""
    _year(number)
    found = [
        p for p in ratings_service.pairs(number, [instructor_id]) if p.branch_id == branch_id
    ] or abort(404)
    form = ConfirmForm()
    issued = submit(form, lambda: ratings_service.issue(number, found, by=current_user))
    return _ratings_page(number, ratings_service.pairs(number), form, issued)


def _ratings_page(number: int, found, form, issued):
    shown = [
        (pair, url, qr_data_uri(url))
        for pair, token in issued or ()
        for url in [url_for(".rate", token=token, _external=True)]
    ]
    page = render_template(
        "assessment/ratings.html",
        number=number,
        pairs=found,
        form=form,
        issued=shown,
        scheme=services.scheme_for(number),
        min_days=current_app.config["RATING_MIN_DAYS"],
    )
    return page, form_status(form)


@bp.post("/rating-links/<int:link_id>/revoke")
@allow(Role.ADMIN)
def revoke(link_id: int):
    link = db.session.get(RatingLink, link_id) or abort(404)
    if submit(ConfirmForm(), lambda: ratings_service.revoke(link)):
        flash("已收回这个评议链接。", "success")
    else:
        flash("这个链接已使用或已收回。", "warning")
    return redirect(url_for(".ratings", number=link.year), 303)


@bp.route("/rate/<token>", methods=["GET", "POST"])
@public
@limiter.limit(link_rate)
def rate(token: str):
    """The secretary's page: no account, only the link. Records one rating."""
    try:
        link = ratings_service.link_by_token(token)
    except LinkError as error:
        return render_template("link_refused.html", message=error.message), error.status
    form = RateForm()
    try:
        done = submit(
            form, lambda: ratings_service.rate(link, form.verdict.data, form.comment.data or "")
        )
    except LinkError as error:  # the same link, submitted twice at once
        return render_template("link_refused.html", message=error.message), error.status
    if done:
        return render_template("assessment/rate_done.html", year=link.year)
    return render_template(
        "assessment/rate.html", form=form, link=link, **ratings_service.names_of(link)
    ), form_status(form)
