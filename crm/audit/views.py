from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select

from crm.accounts.access import allow
from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.clock import LOCAL_TIME
from crm.core.lists import paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@allow(Role.AUDITOR)
def index():
    """The audit log, newest first, filtered by actor, action, object and day."""
    filters = {
        key: request.args.get(key, "").strip()[:64]
        for key in ("actor", "action", "object_type", "object_id", "since", "until")
    }
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters["actor"]:
        statement = statement.where(AuditEntry.actor_name == filters["actor"])
    if filters["action"]:
        statement = statement.where(
            AuditEntry.action.startswith(filters["action"], autoescape=True)
        )
    if filters["object_type"]:
        statement = statement.where(AuditEntry.object_type == filters["object_type"])
    if filters["object_id"]:
        statement = statement.where(AuditEntry.object_id == filters["object_id"])
    if since := _day(filters["since"]):
        statement = statement.where(AuditEntry.at >= since)
    if until := _day(filters["until"]):
        statement = statement.where(AuditEntry.at < until + timedelta(days=1))
    return render_template("audit/index.html", page=paginate(statement), filters=filters)


def _day(text: str) -> datetime | None:
    """Midnight in 赣州 of a YYYY-MM-DD day, or None when the text is not one."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME)
