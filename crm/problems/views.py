from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.branches.models import Branch
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, options, submit
from crm.core.lists import paginate, search_text, sorted_list
from crm.problems import services
from crm.problems.forms import AdvanceForm, ProblemForm
from crm.problems.models import Problem, ProblemCategory, ProblemStatus
from crm.problems.services import NewProblem

bp = Blueprint("problems", __name__)

SHOWS = {"open": "未办结", "overdue": "已超期", "closed": "已办结", "all": "全部"}


@bp.route("/problems/")
@signed_in
def index():
    """The problem ledger: open ones first by due date; overdue ones flagged."""
    show = request.args.get("show", "open")
    today = clock.today()
    text = search_text()
    category = ProblemCategory.parse(request.args.get("category"))
    statement = services.ledger(current_user, show, today, text=text, category=category)
    statement, sorting = sorted_list(
        statement,
        PROBLEM_SORTS,
        "closed" if show == "closed" else "due",
        tiebreak=Problem.id,
        newest_first=show == "closed",
    )
    return render_template(
        "problems/index.html",
        page=paginate(statement),
        show=show,
        shows=SHOWS,
        today=today,
        categories=ProblemCategory,
        sorting=sorting,
        q=text,
    )


PROBLEM_SORTS = {
    "branch": ("党组织", Branch.name),
    "due": ("期限", Problem.due_on),
    "raised": ("登记日期", Problem.raised_on),
    "closed": ("办结日期", Problem.closed_on),
}


@bp.route("/problems/<int:problem_id>")
@signed_in
def detail(problem_id: int):
    """A problem with every step, and for its instructor (or an admin) the form to move it on."""
    problem = services.visible_problem(current_user, problem_id) or abort(404)
    return _detail_page(problem, _advance_form(problem))


@bp.route("/problems/<int:problem_id>/advance", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def advance(problem_id: int):
    problem = services.visible_problem(current_user, problem_id) or abort(404)
    form = _advance_form(problem) or abort(403)
    if submit(
        form,
        lambda: services.advance(
            problem,
            ProblemStatus(form.to_status.data),
            note=form.note.data,
            on=form.on.data,
            by=current_user,
            department=form.department.data,
        ),
    ):
        flash(f"问题已改为“{problem.status.label}”。", "success")
        return redirect(url_for(".detail", problem_id=problem.id), 303)
    return _detail_page(problem, form)


def _detail_page(problem: Problem, form: AdvanceForm | None):
    page = render_template("problems/detail.html", problem=problem, form=form, today=clock.today())
    return page, form_status(form) if form else 200


def _advance_form(problem: Problem) -> AdvanceForm | None:
    """The form to move the problem along, for its branch's instructor and admins only."""
    if problem.status.is_closed or not current_user.has_role(Role.INSTRUCTOR, Role.ADMIN):
        return None
    if not current_user.is_admin and visible_branch(current_user, problem.branch_id) is None:
        return None
    form = AdvanceForm()
    form.to_status.choices = options(
        (s.value, s.label) for s in services.NEXT_STATUSES[problem.status]
    )
    if request.method == "GET":
        form.on.data = clock.today()
        form.department.data = problem.department
    return form


@bp.route("/branches/<int:branch_id>/problems/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def create(branch_id: int):
    """Record a problem the branch raised outside a visit."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    form = ProblemForm()
    if request.method == "GET":
        form.due_on.data = services.default_due(clock.today())
    problem = submit(
        form,
        lambda: services.raise_problem(
            branch,
            NewProblem(
                form.category.data,
                form.description.data,
                form.department.data,
                form.responsible.data,
                form.due_on.data,
            ),
            by=current_user,
            on=clock.today(),
        ),
    )
    if problem:
        flash("问题已登记。", "success")
        return redirect(url_for(".detail", problem_id=problem.id), 303)
    return render_template("problems/form.html", form=form, branch=branch), form_status(form)
