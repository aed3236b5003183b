from flask import Blueprint, render_template, request

from crm.accounts.models import Role
from crm.audit import services
from crm.core.access import allow
from crm.core.lists import paginate
from crm.core.spreadsheets import write_rows
from crm.core.templating import local_datetime
from crm.extensions import db
from crm.http import XLSX

bp = Blueprint("audit", __name__, url_prefix="/audit")

EXPORT_HEADERS = [
    "编号",
    "时间（北京时间）",
    "操作人",
    "地址",
    "操作",
    "对象类型",
    "对象编号",
    "摘要",
    "变更",
    "哈希",
]


@bp.route("/")
@allow(Role.AUDITOR)
def index():
    """The audit log, newest first, filtered by actor, action, object and day."""
    filters = services.filters_from(request.args)
    return render_template(
        "audit/index.html", filters=filters, page=paginate(services.search(filters))
    )


@bp.route("/export.xlsx")
@allow(Role.AUDITOR)
def export():
    """The entries the page's filters select, oldest first, as Excel; the export is logged."""
    filters = services.filters_from(request.args)
    statement = services.search(filters, newest_first=False).execution_options(yield_per=2000)
    rows = (
        [
            e.id,
            local_datetime(e.at),
            e.actor_name,
            e.ip or "",
            e.action,
            e.object_type or "",
            e.object_id or "",
            e.summary,
            services.changes_text(e.changes),
            e.hash,
        ]
        for e in db.session.scalars(statement)
    )
    body = write_rows("审计日志", EXPORT_HEADERS, rows)
    return services.downloaded(
        body,
        "审计日志.xlsx",
        XLSX,
        action="audit.export",
        object_type="audit_entry",
        summary=services.filters_text(filters),
    )
