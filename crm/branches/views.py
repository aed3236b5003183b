from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments import listings
from crm.assignments import services as assignments
from crm.branches import services
from crm.branches.forms import BranchForm
from crm.branches.models import Branch, Sector
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, options, submit
from crm.core.lists import paginate, search_text, sorted_list
from crm.extensions import db
from crm.http import whole_number
from crm.instructors.services import of_account
from crm.meetings import services as meetings
from crm.members import services as members
from crm.organizations.services import district_choices
from crm.pairings import services as pairings
from crm.problems import services as problem_services
from crm.review import alerts
from crm.visits import services as visit_services

bp = Blueprint("branches", __name__, url_prefix="/branches")


@bp.route("/")
@signed_in
def index():
    if not current_user.has_role(Role.ADMIN, Role.REVIEWER):
        return _my_branches()
    statement, sorting = sorted_list(
        listings.branches(current_user, request.args), BRANCH_SORTS, "district", tiebreak=Branch.id
    )
    page = paginate(statement)
    return render_template(
        "branches/index.html",
        page=page,
        sorting=sorting,
        guides=assignments.current_instructors(branch.id for branch in page.items),
        q=search_text(),
        sector=request.args.get("sector", ""),
        district_id=request.args.get("district_id", type=whole_number),
        sectors=Sector,
        districts=assignments.districts_in_scope(current_user),
    )


BRANCH_SORTS = {
    "name": ("名称", Branch.name),
    "district": ("县市区", Branch.district_id),
    "members": ("党员", Branch.member_count),
}


def _my_branches():
    """The instructor's home: their branches, most urgent first, and visits sent back."""
    instructor = of_account(current_user.id)
    if instructor is None:
        return render_template("branches/mine.html", rows=[], returned=[])
    return render_template(
        "branches/mine.html",
        rows=visit_services.due_list(instructor, clock.today()),
        returned=visit_services.returned_visits(instructor),
    )


@bp.route("/<int:branch_id>")
@signed_in
def detail(branch_id: int):
    branch = assignments.visible_branch(current_user, branch_id) or abort(404)
    guide = assignments.current_assignment(branch.id)
    return render_template(
        "branches/detail.html",
        branch=branch,
        history=assignments.history_of_branch(branch.id),
        pairings=pairings.of_branch(branch),
        visits=visit_services.recent_visits(branch.id),
        problems=problem_services.of_branch(branch.id),
        gaps=visit_services.clarity_gaps(branch.id),
        is_guide=guide is not None and guide.instructor.account_id == current_user.id,
        kinds=meetings.kept_up([branch.id], clock.today())[branch.id],
        may_record=current_user.has_role(Role.INSTRUCTOR, Role.ADMIN),
        today=clock.today(),
        due=visit_services.due_of(branch.id, clock.today()),
        follow_ups=alerts.notes_about(branch_ids=[branch.id])
        if current_user.has_role(Role.ADMIN, Role.REVIEWER)
        else None,
        rules=alerts.BY_KEY,
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = _form()
    branch = submit(
        form,
        lambda: services.create_branch(
            services.organizations_by_codes(form.codes()), **form.values()
        ),
    )
    if branch:
        flash(f"已登记“{branch.name}”。", "success")
        return redirect(url_for(".detail", branch_id=branch.id))
    return render_template("branches/form.html", form=form, branch=None), form_status(form)


@bp.route("/<int:branch_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(branch_id: int):
    branch = db.session.get(Branch, branch_id) or abort(404)
    form = _form(obj=branch)
    if request.method == "GET":
        form.organization_codes.data = "\n".join(org.credit_code for org in branch.organizations)
    secretary = members.secretary_of(branch.id)
    if secretary is not None:  # the member list holds the secretary's name and phone
        form.secretary_name.data, form.secretary_phone.data = secretary.name, secretary.phone
        form.secretary_name.render_kw = form.secretary_phone.render_kw = {"readonly": True}
        form.secretary_name.description = "由党员名册中的书记决定，请在党员名册中修改。"
    if present := members.present_count(branch.id):  # so does the number of members
        form.member_count.data = present
        form.member_count.render_kw = {"readonly": True}
        form.member_count.description = "按党员名册中在册的党员计算。"
    if submit(
        form,
        lambda: services.update_branch(
            branch, services.organizations_by_codes(form.codes()), **form.values()
        ),
        record=branch,
    ):
        flash("已保存。", "success")
        return redirect(url_for(".detail", branch_id=branch.id))
    return render_template("branches/form.html", form=form, branch=branch), form_status(form)


def _form(**kwargs) -> BranchForm:
    form = BranchForm(**kwargs)
    form.district_id.choices = options(district_choices())
    if request.method == "GET" and not kwargs:
        form.founded_on.data = None
        form.under_guidance.data = True
    return form
