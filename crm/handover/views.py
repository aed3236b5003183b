from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm import clock
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.assignments.services import Move, visible_branch
from crm.branches.models import Branch
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, options, submit
from crm.extensions import db
from crm.handover import services
from crm.handover.forms import HandoverForm
from crm.http import whole_number
from crm.instructors import services as instructors
from crm.instructors.models import Instructor, InstructorStatus
from crm.rules import RuleError

bp = Blueprint("handover", __name__)


@bp.route("/instructors/<int:instructor_id>/handover", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create(instructor_id: int):
    """Move all or chosen branches of an instructor to others, in one step, all or none."""
    leaving = db.session.get(Instructor, instructor_id) or abort(404)
    held = [a for a in assignments.history_of_instructor(leaving.id) if a.is_current]
    form = HandoverForm()
    if request.method == "GET":
        form.on.data = clock.today()
        for assignment in held:
            form.moves.append_entry({"branch_id": assignment.branch_id, "to": 0})
    choices = _receivers(leaving)
    for row in form.moves:
        row.form.to.choices = choices
    made = submit(form, lambda: _hand_over(leaving, form))
    if made:
        flash(f"已移交 {len(made)} 个党组织，交接单见下。", "success")
        return redirect(
            url_for(".notes", instructor_id=leaving.id, branch=[a.branch_id for a in made]), 303
        )
    names = {a.branch_id: a.branch.name for a in held}
    page = render_template("handover/form.html", form=form, leaving=leaving, names=names)
    return page, form_status(form)


def _receivers(leaving: Instructor) -> list:
    """Active instructors of the same district, each with how many branches they hold."""
    others = (
        db.session.execute(
            select(Instructor).where(
                Instructor.district_id == leaving.district_id,
                Instructor.status == InstructorStatus.ACTIVE,
                Instructor.id != leaving.id,
            )
        )
        .scalars()
        .all()
    )
    counts = assignments.current_counts(i.id for i in others)
    _, high = assignments.caseload_bounds()
    return options(
        [
            (0, "不移交"),
            *(
                (i.id, f"{i.name}（已指导 {counts[i.id]}/{high}）")
                for i in sorted(others, key=lambda i: counts[i.id])
            ),
        ]
    )


def _hand_over(leaving: Instructor, form: HandoverForm):
    moves = []
    for row in form.moves:
        if row.form.to.data:
            branch = db.session.get(Branch, int(row.form.branch_id.data))
            to = db.session.get(Instructor, row.form.to.data)
            if branch is None or to is None:
                raise RuleError("移交对象不存在，请刷新后重试。")
            moves.append(Move(branch, to))
    made = assignments.hand_over(leaving, moves, on=form.on.data, reason=form.reason.data or "")
    if form.mark_left.data:
        if assignments.current_count(leaving.id):
            raise RuleError("还有党组织没有移交，不能设为离岗。", "mark_left")
        instructors.set_status(leaving, InstructorStatus.LEFT, on=form.on.data)
        leaving.account.active = False
    return made


@bp.route("/instructors/<int:instructor_id>/handover/notes")
@allow(Role.ADMIN, Role.REVIEWER)
def notes(instructor_id: int):
    """The handover notes of the branches just moved, to read and to print."""
    instructor = assignments.visible_instructor(current_user, instructor_id) or abort(404)
    ids = request.args.getlist("branch", type=whole_number)
    branches = [b for b in (visible_branch(current_user, i) for i in ids) if b is not None]
    return render_template(
        "handover/notes.html", instructor=instructor, notes=[services.note_for(b) for b in branches]
    )


@bp.route("/branches/<int:branch_id>/handover")
@signed_in
def note(branch_id: int):
    """One branch's handover note."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    return render_template(
        "handover/notes.html", instructor=None, notes=[services.note_for(branch)]
    )
