from uuid import uuid4

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
from crm.assignments.services import guides
from crm.branches.models import Branch
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, shown_again, submit
from crm.core.lists import paginate, sorted_list
from crm.extensions import db
from crm.http import answer_saved, whole_number
from crm.pairings import services
from crm.pairings.forms import ActivityForm, EndPairingForm, PairingForm
from crm.pairings.models import Pairing, PairingActivity, PairingStatus
from crm.rules import RuleError

bp = Blueprint("pairings", __name__, url_prefix="/pairings")

VIEWS = {"all": "全部结对", "unpaired": "未结对的两新党组织", "overloaded": "结对过多的机关党组织"}


PAIRING_SORTS = {
    "started": ("开始", Pairing.started_on),
    "status": ("状态", Pairing.status),
    "ended": ("结束", Pairing.ended_on),
}


@bp.route("/")
@signed_in
def index():
    """The ledger, and the two flags: two-new branches with no pairing in force, agency
    branches holding too many."""
    view = request.args.get("view", "all")
    context = {"view": view, "views": VIEWS, "limit": current_app.config["PAIRINGS_PER_AGENCY_MAX"]}
    if view == "unpaired":
        context["page"] = paginate(services.unpaired_branches(current_user))
    elif view == "overloaded":
        context["agencies"] = services.overloaded_agencies(current_user)
    else:
        statement = services.ledger(current_user)
        if status := PairingStatus.parse(request.args.get("status")):
            statement = statement.where(Pairing.status == status)
        statement, context["sorting"] = sorted_list(
            statement, PAIRING_SORTS, "started", tiebreak=Pairing.id.desc(), newest_first=True
        )
        context["page"] = paginate(statement)
    return render_template("pairings/index.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = PairingForm()
    if request.method == "GET":
        form.agency_branch_id.data = request.args.get("agency_branch_id", type=whole_number)
        form.branch_id.data = request.args.get("branch_id", type=whole_number)
        form.started_on.data = clock.today()
    pairing = submit(
        form,
        lambda: services.create_pairing(
            _branch(form.agency_branch_id),
            _branch(form.branch_id),
            started_on=form.started_on.data,
            purpose=form.purpose.data or "",
        ),
    )
    if pairing:
        flash("已登记结对。", "success")
        return redirect(url_for(".detail", pairing_id=pairing.id), 303)
    return render_template("pairings/form.html", form=form), form_status(form)


def _branch(field) -> Branch:
    branch = db.session.get(Branch, field.data)
    if branch is None:
        raise RuleError(f"编号 {field.data} 的党组织不存在。", field.name)
    return branch


@bp.route("/<int:pairing_id>")
@signed_in
def detail(pairing_id: int):
    pairing = services.visible_pairing(current_user, pairing_id) or abort(404)
    end_form = EndPairingForm(ended_on=clock.today()) if current_user.is_admin else None
    return render_template(
        "pairings/detail.html", pairing=pairing, end_form=end_form, may_log=_may_log(pairing)
    )


def _may_log(pairing: Pairing) -> bool:
    """The two-new branch's instructor (from the phone) and admins log activities."""
    return pairing.status is PairingStatus.ACTIVE and (
        current_user.is_admin or guides(current_user, pairing.branch_id)
    )


@bp.route("/<int:pairing_id>/end", methods=["POST"])
@allow(Role.ADMIN)
def end(pairing_id: int):
    pairing = services.visible_pairing(current_user, pairing_id) or abort(404)
    form = EndPairingForm()
    if submit(form, lambda: services.end_pairing(pairing, on=form.ended_on.data)):
        flash("结对已结束。", "success")
        return redirect(url_for(".detail", pairing_id=pairing.id), 303)
    page = render_template("pairings/detail.html", pairing=pairing, end_form=form, may_log=False)
    return page, form_status(form)


@bp.route("/<int:pairing_id>/activities/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def log_activity(pairing_id: int):
    """Log a joint activity, from a phone as quickly as a visit, and only once."""
    pairing = services.visible_pairing(current_user, pairing_id) or abort(404)
    if not _may_log(pairing):
        abort(403)
    form = ActivityForm()
    if request.method == "GET":
        form.client_key.data, form.held_on.data = uuid4().hex, clock.today()
    elif done := services.activity_by_key(current_user.id, form.client_key.data or ""):
        return _answer(done)
    activity = submit(
        form,
        lambda: services.log_activity(
            pairing,
            services.NewActivity(
                form.client_key.data,
                form.held_on.data,
                form.kind.data,
                form.description.data,
                form.resources.data or "",
                form.people_reached.data,
            ),
            by=current_user,
        ),
    )
    if activity:
        return _answer(activity)
    return shown_again(form, "pairings/activity_form.html", pairing=pairing)


def _answer(activity: PairingActivity):
    url = url_for("pairings.detail", pairing_id=activity.pairing_id)
    return answer_saved(url, url, "共建活动已记录。")
