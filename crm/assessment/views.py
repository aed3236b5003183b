"""The annual assessment's pages: the year's scheme (the admin sets it and starts the year),
and the computed part of each instructor the reader may see."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assessment import grading, indicators, services
from crm.assessment import ratings as ratings_service
from crm.assessment.forms import (
    AppealForm,
    ConfirmForm,
    ConfirmGradeForm,
    DecideForm,
    IssueForm,
    RateForm,
    SchemeForm,
    ScoreForm,
    SelfReportForm,
)
from crm.assessment.models import Grade, RatingLink
from crm.assignments.services import districts_in_scope
from crm.audit import services as audit
from crm.core.access import allow, public
from crm.core.forms import errors_in, form_status, submit
from crm.core.links import LinkError
from crm.core.pdf import render_pdf
from crm.core.qr import qr_data_uri
from crm.core.security import limiter, link_rate
from crm.core.spreadsheets import write_sheets
from crm.extensions import db
from crm.http import XLSX, whole_number
from crm.instructors.models import Instructor
from crm.instructors.services import of_account
from crm.organizations.models import District

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
    return _instructor_page(year, row, records)


def _instructor_page(
    year,
    row,
    records,
    score_form=None,
    grade_form=None,
    appeal_form=None,
    decide_form=None,
    report_form=None,
):
    case = grading.case(year, row.instructor_id, current_user)
    proposed = case.standing.proposed if case.standing else None
    score_form = score_form or ScoreForm(obj=case.score)
    grade_form = grade_form or ConfirmGradeForm(grade=proposed)
    appeal_form = appeal_form or AppealForm()
    decide_form = decide_form or DecideForm(grade=case.result.grade if case.result else None)
    report_form = report_form or SelfReportForm(obj=case.report)
    forms = (score_form, grade_form, appeal_form, decide_form, report_form)
    page = render_template(
        "assessment/instructor.html",
        case=case,
        since_confirmed=grading.since_confirmed(case.result, row.score, case.rated.score),
        report_form=report_form,
        appeal_form=appeal_form,
        decide_form=decide_form,
        score_form=score_form,
        grade_form=grade_form,
        can_score=current_user.has_role(Role.REVIEWER),
        can_confirm=_confirms(current_user),
        total_formula=grading.TOTAL_FORMULA,
        year=year,
        scheme=services.scheme_for(year.number),
        indicators=indicators.indicators(),
        row=row,
        records=records,
        rating_formula=ratings_service.FORMULA,
    )
    return page, max(form_status(form) for form in forms)


def _confirms(account) -> bool:
    return grading.confirms(account)


@bp.post("/<int:number>/instructors/<int:instructor_id>/score")
@allow(Role.REVIEWER)
def score(number: int, instructor_id: int):
    """The committee's score, by a reviewer whose scope holds the instructor."""
    form = ScoreForm()
    return _act(
        number,
        instructor_id,
        form,
        "score_form",
        "组织评价已保存。",
        lambda year: grading.save_score(
            number, instructor_id, form.score.data, form.note.data or "", by=current_user
        ),
    )


@bp.post("/<int:number>/instructors/<int:instructor_id>/confirm")
@allow(Role.REVIEWER)
def confirm(number: int, instructor_id: int):
    """The committee confirms the instructor's grade; the result locks."""
    form = ConfirmGradeForm()
    return _act(
        number,
        instructor_id,
        form,
        "grade_form",
        "考核等次已确认并锁定。",
        lambda year: grading.confirm(
            year, instructor_id, form.grade.data, form.reason.data or "", by=current_user
        ),
    )


@bp.post("/<int:number>/instructors/<int:instructor_id>/report")
@allow(Role.INSTRUCTOR)
def self_report(number: int, instructor_id: int):
    """The instructor writes or revises their own 述职报告."""
    _own(instructor_id)
    form = SelfReportForm()
    return _act(
        number,
        instructor_id,
        form,
        "report_form",
        "述职报告已保存。",
        lambda year: grading.save_self_report(number, instructor_id, form.text.data or ""),
    )


@bp.post("/<int:number>/instructors/<int:instructor_id>/appeal")
@allow(Role.INSTRUCTOR)
def appeal(number: int, instructor_id: int):
    """The instructor appeals their own confirmed grade."""
    _own(instructor_id)
    form = AppealForm()
    return _act(
        number,
        instructor_id,
        form,
        "appeal_form",
        "申诉已提交，考核委员会将复核并答复。",
        lambda year: grading.file_appeal(number, instructor_id, form.text.data or ""),
    )


@bp.post("/<int:number>/instructors/<int:instructor_id>/appeal/decide")
@allow(Role.REVIEWER)
def decide(number: int, instructor_id: int):
    """The committee decides the appeal: the grade kept, or changed as a new version."""
    appeal = grading.appeal_of(number, instructor_id) or abort(404)
    form = DecideForm()
    return _act(
        number,
        instructor_id,
        form,
        "decide_form",
        "申诉已处理。",
        lambda year: grading.decide(
            year, appeal, form.grade.data, form.reason.data or "", by=current_user
        ),
    )


def _own(instructor_id: int) -> None:
    """An instructor acts on their own assessment only: another's answers 404."""
    me = of_account(current_user.id)
    if me is None or me.id != instructor_id:
        abort(404)


def _act(number: int, instructor_id: int, form, slot: str, said: str, action):
    """A form posted on an instructor's page (within the reader's scope, else 404): done, back
    to the page saying so; refused, the page again with the form as typed and why."""
    year = _year(number)
    row, records = services.instructor_part(current_user, year, instructor_id) or abort(404)
    if submit(form, lambda: action(year)):
        flash(said, "success")
        return redirect(url_for(".instructor", number=number, instructor_id=instructor_id), 303)
    return _instructor_page(year, row, records, **{slot: form})


@bp.post("/<int:number>/grades/confirm")
@allow(Role.REVIEWER)
def confirm_all(number: int):
    """The committee confirms every proposal at once; ties and changes stay one by one."""
    year = _year(number)
    _button(
        lambda: grading.confirm_proposals(year, by=current_user),
        lambda count: f"已确认 {count} 人的建议等次并锁定。",
    )
    return redirect(url_for(".grades", number=number), 303)


def _button(action, said) -> None:
    """A button that does one thing (no fields but the CSRF token): done, it says what
    `said(result)` says; refused, why."""
    form = ConfirmForm()
    result = submit(form, action)
    if form.errors:
        flash("；".join(error.message for error in errors_in(form)), "error")
    else:
        flash(said(result), "success")


@bp.route("/<int:number>/grades")
@allow(Role.ADMIN, Role.REVIEWER)
def grades(number: int):
    """Everyone's parts, total, proposed grade (the quota applied over everyone assessed;
    ties at its edge shown) and the confirmed grade, within the reader's scope."""
    year = _year(number)
    scheme = services.scheme_for(number)
    everyone = grading.standings(year)
    shown = grading.standings(year, current_user) if not current_user.sees_everything else everyone
    shown, area, district = _in_district(shown)
    return render_template(
        "assessment/grades.html",
        year=year,
        scheme=scheme,
        rows=shown,
        area=area,
        district=district,
        districts=districts_in_scope(current_user) if current_user.sees_everything else [],
        assessed=len(everyone),
        places=grading.quota(scheme, len(everyone)),
        tied=[s for s in everyone if s.tied],
        total_formula=grading.TOTAL_FORMULA,
        can_confirm=_confirms(current_user)
        and scheme.locked_at is not None
        and any(s.result is None and s.proposed is not None for s in everyone),
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
    _button(
        lambda: services.start(number, by=current_user),
        lambda _: f"{number}年度考核已开始，考核方案已锁定。",
    )
    return redirect(url_for(".scheme", number=number), 303)


# --- the branches' ratings --------------------------------------------------------------------


@bp.route("/<int:number>/ratings", methods=["GET", "POST"])
@allow(Role.ADMIN)
def ratings(number: int):
    """Each branch and the instructors it rates, with its link's state; issuing gives every
    pair not yet rated and without an open link a new one, shown once, to print or send."""
    _year(number)
    found = ratings_service.pairs(number)
    form = IssueForm()
    issued = submit(
        form,
        lambda: ratings_service.issue_missing(number, found, by=current_user, send=form.send.data),
    )
    return _ratings_page(number, found if issued is None else None, form, issued)


@bp.post("/<int:number>/ratings/<int:branch_id>/<int:instructor_id>")
@allow(Role.ADMIN)
def reissue(number: int, branch_id: int, instructor_id: int):
    """A new link for one branch and instructor (the old one lost, or sent astray)."""
    _year(number)
    found = [
        p for p in ratings_service.pairs(number, [instructor_id]) if p.branch_id == branch_id
    ] or abort(404)
    form = IssueForm()
    issued = submit(
        form, lambda: ratings_service.issue(number, found, by=current_user, send=form.send.data)
    )
    return _ratings_page(number, None, form, issued)


def _ratings_page(number: int, found, form, issued):
    """The pairs (read again after issuing: their links changed), and the links just issued
    with their QR codes."""
    page = render_template(
        "assessment/ratings.html",
        number=number,
        pairs=ratings_service.pairs(number) if found is None else found,
        form=form,
        issued=[(one, qr_data_uri(one.url)) for one in issued or ()],
        sms_refusal=ratings_service.sms_refusal(),
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


# --- documents ------------------------------------------------------------------------------


@bp.route("/<int:number>/instructors/<int:instructor_id>/form.pdf")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def form_pdf(number: int, instructor_id: int):
    """年度考核登记表: one instructor's year on A4 (their own, or within the reader's scope)."""
    year = _year(number)
    row, _ = services.instructor_part(current_user, year, instructor_id) or abort(404)
    score = grading.committee_score(number, instructor_id)
    instructor = db.session.get(Instructor, instructor_id)
    rated = ratings_service.summaries(number, [instructor_id])[instructor_id]
    result = grading.latest_results(number).get(instructor_id)
    pdf = render_pdf(
        "assessment/form_pdf.html",
        year=year,
        row=row,
        scheme=services.scheme_for(number),
        indicators=indicators.indicators(),
        rated=rated,
        rating_formula=ratings_service.FORMULA,
        report=grading.self_report(number, instructor_id),
        committee=score.score if score else None,
        committee_note=score.note if score else "",
        result=result,
        since_confirmed=grading.since_confirmed(result, row.score, rated.score),
        hired_on=instructor.hired_on,
        printed=clock.now(),
    )
    return audit.downloaded(
        pdf,
        f"年度考核登记表-{row.name}-{number}.pdf",
        "application/pdf",
        object_type="instructor",
        object_id=instructor_id,
        inline=True,
    )


def _summary(number: int):
    """The reader's scope (a district's reviewer: their district); a city-wide reader may ask
    for one district (`?district_id=`)."""
    year = _year(number)
    rows, area, _ = _in_district(grading.standings(year, current_user))
    return year, rows, area


def _in_district(rows):
    """The rows of the district asked for (`?district_id=`; 404 for no such district), the
    area's name and the district's id (None: the reader's whole scope)."""
    district = request.args.get("district_id", type=whole_number)
    if district is not None:
        found = db.session.get(District, district) or abort(404)
        return [r for r in rows if r.district == found.name], found.name, district
    if not current_user.sees_everything and rows:
        return rows, rows[0].district, None
    return rows, "全市", None


@bp.route("/<int:number>/summary.pdf")
@allow(Role.ADMIN, Role.REVIEWER)
def summary_pdf(number: int):
    """The committee's summary table: each district's grades, then each instructor."""
    year, rows, area = _summary(number)
    pdf = render_pdf(
        "assessment/summary_pdf.html",
        year=year,
        rows=rows,
        area=area,
        grades=list(Grade),
        districts=grading.by_district(rows),
        whole=grading.tally(area, rows),
        printed=clock.now(),
    )
    return audit.downloaded(
        pdf,
        f"年度考核汇总表-{area}-{number}.pdf",
        "application/pdf",
        object_type="assessment_scheme",
        inline=True,
    )


@bp.route("/<int:number>/summary.xlsx")
@allow(Role.ADMIN, Role.REVIEWER)
def summary_xlsx(number: int):
    """The summary's figures as a workbook: each instructor, then each district's grades."""
    year, rows, area = _summary(number)
    tallies = [*grading.by_district(rows), grading.tally("合计", rows)]
    body = write_sheets(
        [
            ("各指导员", grading.SUMMARY_HEADERS, grading.summary_rows(rows)),
            (
                "各县市区",
                ("县市区", "人数", *(g.label for g in Grade), "未确认"),
                [(t.name, t.total, *t.counts.values(), t.pending) for t in tallies],
            ),
        ],
        title=f"{year.number}年度考核汇总表-{area}",
    )
    return audit.downloaded(
        body, f"年度考核汇总表-{area}-{number}.xlsx", XLSX, object_type="assessment_scheme"
    )
