from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Role
from crm.assignments import listings, services
from crm.assignments.forms import EndForm, assign_form
from crm.assignments.models import Assignment
from crm.branches.models import Branch
from crm.core.access import allow
from crm.core.forms import form_status, submit
from crm.core.lists import paginate, search_text
from crm.extensions import db
from crm.http import whole_number
from crm.instructors.models import Instructor
from crm.organizations.services import districts

bp = Blueprint("assignments", __name__, url_prefix="/assignments")


@bp.route("/")
@allow(Role.ADMIN)
def index():
    """Current assignments, searchable by branch or instructor name."""
    return render_template(
        "assignments/index.html",
        page=paginate(listings.assignments(current_user, request.args)),
        q=search_text(),
        district_id=request.args.get("district_id", type=whole_number),
        districts=districts(),
    )


@bp.route("/unassigned")
@allow(Role.ADMIN)
def unassigned():
    """The queue of branches marked for guidance that nobody holds."""
    district_id = request.args.get("district_id", type=whole_number)
    statement = services.unassigned_branches().options(selectinload(Branch.district))
    if district_id:
        statement = statement.where(Branch.district_id == district_id)
    statement = statement.order_by(Branch.district_id, Branch.name)
    return render_template(
        "assignments/unassigned.html",
        page=paginate(statement),
        district_id=district_id,
        districts=districts(),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    """Assign a branch to an instructor, from the branch's side or the instructor's."""
    instructor = _chosen(Instructor, "instructor_id")
    branch = None if instructor else _chosen(Branch, "branch_id")
    if instructor is None and branch is None:
        abort(404)
    form = assign_form(instructor=instructor, branch=branch)
    assignment = submit(
        form,
        lambda: services.assign(
            db.session.get(Instructor, form.instructor_id.data),
            db.session.get(Branch, form.branch_id.data),
            on=form.started_on.data,
            reassign=form.reassign.data,
        ),
    )
    if assignment:
        flash(f"已将“{assignment.branch.name}”分配给 {assignment.instructor.name}。", "success")
        return redirect(url_for("instructors.detail", instructor_id=assignment.instructor_id))
    return render_template(
        "assignments/form.html", form=form, instructor=instructor, branch=branch
    ), form_status(form)


def _chosen(model, name: str):
    """The object named in the query string: `?instructor_id=` fixes the instructor and offers
    branches, `?branch_id=` fixes the branch and offers instructors."""
    object_id = request.args.get(name, type=whole_number)
    return db.session.get(model, object_id) if object_id else None


@bp.route("/<int:assignment_id>/end", methods=["GET", "POST"])
@allow(Role.ADMIN)
def end(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id) or abort(404)
    form = EndForm()
    if request.method == "GET":
        form.ended_on.data = clock.today()
    if submit(
        form,
        lambda: services.end_assignment(assignment, on=form.ended_on.data, reason=form.reason.data),
    ):
        flash(
            f"已结束 {assignment.instructor.name} 对“{assignment.branch.name}”的联系指导。",
            "success",
        )
        return redirect(url_for("instructors.detail", instructor_id=assignment.instructor_id))
    page = render_template("assignments/end.html", form=form, assignment=assignment)
    return page, form_status(form)
