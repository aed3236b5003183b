from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from crm import clock
from crm.accounts.models import Role
from crm.audit import services as audit
from crm.core.access import allow
from crm.core.forms import form_status, options, submit
from crm.core.lists import paginate
from crm.extensions import db
from crm.http import XLSX
from crm.reports import services, tasks
from crm.reports.forms import BatchForm, MakeReportForm
from crm.rules import RuleError, show_on_form

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def index():
    """The reports the user may read, every version, and a form to make one for a past month."""
    form, batch_form = _forms()
    if form.validate_on_submit():
        try:
            month = services.parse_month(form.month.data, clock.today())
            subject = services.Subject.parse(form.subject.data)
            report = services.make(subject, month, by=current_user)  # its own transactions
        except RuleError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            flash(
                f"已生成《{report.title}》{report.month:%Y-%m} 第 {report.version} 版"
                f"（SHA-256 {report.sha256[:12]}…）。{report.change_summary}"
                + "".join(f"\n{line}" for line in (report.changes or [])[:20]),
                "success",
            )
            return redirect(url_for(".index"), 303)
    return _page(form, batch_form), form_status(form)


@bp.route("/batches", methods=["POST"])
@allow(Role.ADMIN, Role.REVIEWER)
def request_batch():
    """A whole month's reports (every instructor, district and the city), made by the
    scheduler process; the reports page shows the progress."""
    form, batch_form = _forms()
    queued = submit(
        batch_form,
        lambda: tasks.request_month(
            services.parse_month(batch_form.month.data, clock.today()), by=current_user
        ),
    )
    if queued:
        flash(
            f"已排队生成 {queued.month:%Y-%m} 的全部 {queued.total} 份月报，进度见下表。", "success"
        )
        return redirect(url_for(".index"), 303)
    return _page(form, batch_form), form_status(batch_form)


def _forms() -> tuple[MakeReportForm, BatchForm]:
    """The two forms of the reports page, offering the ended months and the allowed subjects."""
    months = options(
        [(f"{m:%Y-%m}", f"{m.year} 年 {m.month} 月") for m in services.past_months(clock.today())]
    )
    form, batch_form = MakeReportForm(), BatchForm()
    form.subject.choices = [
        SelectChoice(key, label, optgroup=group)
        for key, label, group in services.subjects_for(current_user)
    ]
    form.month.choices = batch_form.month.choices = months
    return form, batch_form


def _page(form: MakeReportForm, batch_form: BatchForm):
    batches = tasks.recent_batches() if current_user.sees_everything else []
    return render_template(
        "reports/index.html",
        form=form,
        batch_form=batch_form,
        batches=batches,
        page=paginate(services.reports_of(current_user)),
    )


@bp.route("/<int:report_id>.pdf")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def download(report_id: int):
    """The stored PDF, byte for byte as made, to read in the browser (预览) or, with
    ?download=1, saved under its Chinese name (下载); every download is in the audit log."""
    report = services.visible_report(current_user, report_id) or abort(404)
    response = send_file(services.file_of(report), mimetype="application/pdf", max_age=0)
    response.headers["X-Content-SHA256"] = report.sha256
    return audit.downloaded(
        response,
        f"{report.title}-{report.month:%Y-%m}-v{report.version}.pdf",
        action="report.download",
        object_type="report",
        object_id=report.id,
        summary=str(report),
        inline=not request.args.get("download"),
    )


@bp.route("/<int:report_id>.xlsx")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def workbook(report_id: int):
    """The report's figures as a workbook, one sheet a table, kept with its version."""
    report = services.visible_report(current_user, report_id) or abort(404)
    path = services.file_of(report).with_suffix(".xlsx")
    if not path.exists():  # a version made before workbooks were kept
        abort(404)
    response = send_file(path, mimetype=XLSX, max_age=0)
    return audit.downloaded(
        response,
        f"{report.title}-{report.month:%Y-%m}-v{report.version}.xlsx",
        action="report.download",
        object_type="report",
        object_id=report.id,
        summary=f"{report}（Excel）",
    )
