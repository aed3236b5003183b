import secrets
from pathlib import Path

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
from itsdangerous import BadSignature, URLSafeSerializer

from crm.accounts.models import Role
from crm.assignments import listings
from crm.assignments import services as assignments
from crm.audit import services as audit
from crm.core import spreadsheets
from crm.core.access import allow
from crm.core.masking import phone_for_viewer
from crm.extensions import db, writing
from crm.http import XLSX, whole_number
from crm.pairings import services as pairings
from crm.transfer import services, tasks
from crm.transfer.excel import FileRefusedError
from crm.transfer.importers import KINDS

bp = Blueprint("transfer", __name__, url_prefix="/transfer")


@bp.route("/")
@allow(Role.ADMIN)
def index():
    return render_template("transfer/index.html", kinds=KINDS)


@bp.route("/templates/<kind>.xlsx")
@allow(Role.ADMIN)
def template(kind: str):
    if kind not in KINDS:
        abort(404)
    return audit.downloaded(
        services.template(kind),
        f"导入模板-{KINDS[kind][0]}.xlsx",
        XLSX,
        object_type="import_template",
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="import-file")


@bp.route("/preview", methods=["POST"])
@allow(Role.ADMIN)
def preview():
    """Keep the uploaded file and run it dry: what would be created, updated, left alone."""
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    if kind not in KINDS or upload is None or not upload.filename:
        flash("请选择导入类型和文件。", "warning")
        return redirect(url_for(".index"))
    path = (
        services.uploads_folder()
        / f"{secrets.token_hex(16)}{Path(upload.filename).suffix.lower()[:8]}"
    )
    upload.save(path)
    history = request.form.get("history") == "1"
    try:
        with writing():  # a dry run writes too, then rolls back
            result = tasks.preview_file(kind, path, history=history)
    except FileRefusedError as error:
        path.unlink(missing_ok=True)
        return render_template("transfer/index.html", kinds=KINDS, refused=str(error)), 422
    token = _serializer().dumps(
        {
            "file": path.name,
            "kind": kind,
            "name": upload.filename,
            "account": current_user.id,
            "history": history,
        }
    )
    return render_template(
        "transfer/preview.html",
        result=result,
        kind=kind,
        token=token,
        name=upload.filename,
        label=KINDS[kind][0],
        history=history,
    ), 200 if result.ok else 422


@bp.route("/commit", methods=["POST"])
@allow(Role.ADMIN)
def commit():
    """Import the previewed file for real: all rows in one transaction, or none."""
    try:
        ticket = _serializer().loads(request.form.get("token", ""))
    except BadSignature:
        abort(400)
    path = services.uploads_folder() / ticket["file"]
    if ticket["account"] != current_user.id or not path.exists():
        flash("预览已过期，请重新上传。", "warning")
        return redirect(url_for(".index"))
    history = ticket.get("history", False)
    with writing():
        result = tasks.import_file(ticket["kind"], path, history=history)
    if result.committed:
        path.unlink(missing_ok=True)
        c = result.counts
        flash(
            f"导入完成：新增 {c['created']}，更新 {c['updated']}，未变 {c['unchanged']}。",
            "success",
        )
        return redirect(url_for(".index"), 303)
    return render_template(
        "transfer/preview.html",
        result=result,
        kind=ticket["kind"],
        token=request.form["token"],
        name=ticket["name"],
        label=KINDS[ticket["kind"]][0],
        history=history,
    ), 422


# --- exports ------------------------------------------------------------------------------------

EXPORTS = {
    "instructors": "指导员工作量",
    "organizations": "两新组织",
    "branches": "党组织",
    "assignments": "联系指导关系",
    "pairings": "结对共建",
}


@bp.route("/export/<name>.xlsx")
@allow(Role.ADMIN, Role.REVIEWER)
def export(name: str):
    """A list as Excel, with the page's filters; phones masked unless the user may see them.
    Every export is audited."""
    if name not in EXPORTS:
        abort(404)
    headers, rows = _EXPORTERS[name](request.args)
    rows = list(rows)
    body = spreadsheets.write_rows(EXPORTS[name], headers, rows)
    filters = "&".join(f"{k}={v}" for k, v in request.args.items())
    return audit.downloaded(
        body,
        f"{EXPORTS[name]}.xlsx",
        XLSX,
        action="export",
        object_type=name,
        summary=f"{EXPORTS[name]} {len(rows)} 行 {filters}",
    )


def _instructors(args):
    rows = assignments.caseloads(
        current_user,
        q=args.get("q", ""),
        district_id=args.get("district_id", type=whole_number),
        departed=args.get("flag") == "left",
    )
    if (flag := args.get("flag")) in ("under", "over"):
        rows = [row for row in rows if row.flag == flag]
    return (
        ["姓名", "用户名", "县市区", "手机号码", "状态", "联系指导数"],
        (
            [
                r.instructor.name,
                r.instructor.username,
                r.instructor.district,
                phone_for_viewer(r.instructor.phone),
                r.instructor.status.label,
                r.count,
            ]
            for r in rows
        ),
    )


def _organizations(args):
    statement = listings.organizations(current_user, args)
    return (
        [
            "组织名称",
            "统一社会信用代码",
            "组织类型",
            "县市区",
            "行业",
            "地址",
            "从业人数",
            "党员人数",
            "党组织",
        ],
        (
            [
                o.name,
                o.credit_code,
                o.kind.label,
                o.district.name,
                o.industry,
                o.address,
                o.headcount,
                o.party_member_count,
                o.branch.name if o.branch else "",
            ]
            for o in db.session.execute(statement.execution_options(yield_per=1000)).scalars()
        ),
    )


def _branches(args):
    statement = listings.branches(current_user, args)
    return (
        [
            "党组织名称",
            "类别",
            "组织形式",
            "县市区",
            "书记",
            "书记电话",
            "党员人数",
            "列入联系指导",
        ],
        (
            [
                b.name,
                b.sector.label,
                b.kind.label,
                b.district.name,
                b.secretary_name,
                phone_for_viewer(b.secretary_phone),
                b.member_count,
                "是" if b.under_guidance else "否",
            ]
            for b in db.session.execute(statement.execution_options(yield_per=1000)).scalars()
        ),
    )


def _assignments(args):
    statement = listings.assignments(current_user, args)
    return (
        ["党组织", "县市区", "指导员", "指导员用户名", "开始日期"],
        (
            [
                a.branch.name,
                a.branch.district.name,
                a.instructor.name,
                a.instructor.account.username,
                a.started_on,
            ]
            for a in db.session.execute(statement).scalars()
        ),
    )


def _pairings(args):
    return (
        ["机关党组织", "两新党组织", "开始日期", "状态", "共建内容"],
        (
            [p.agency_branch.name, p.branch.name, p.started_on, p.status.label, p.purpose]
            for p in db.session.execute(pairings.ledger(current_user)).scalars()
        ),
    )


_EXPORTERS = {
    "instructors": _instructors,
    "organizations": _organizations,
    "branches": _branches,
    "assignments": _assignments,
    "pairings": _pairings,
}
