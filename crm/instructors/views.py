from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.assignments.forms import AssignForm, assign_form
from crm.core.access import allow
from crm.core.forms import form_status, options, submit
from crm.core.lists import paginate, paginate_list, search_text
from crm.extensions import db
from crm.http import whole_number
from crm.instructors import services
from crm.instructors.forms import InstructorForm, NewInstructorForm
from crm.instructors.models import Instructor
from crm.meetings import services as meetings
from crm.organizations.services import district_choices
from crm.review import alerts, caseload, scale
from crm.visits import services as visits

bp = Blueprint("instructors", __name__, url_prefix="/instructors")


@bp.route("/")
@allow(Role.ADMIN, Role.REVIEWER)
def index():
    """The caseload table: sortable, by district, searchable by name or pinyin initials."""
    chosen = Caseloads(
        q=search_text(),
        district_id=request.args.get("district_id", type=whole_number),
        flag=request.args.get("flag", ""),
        sort=request.args.get("sort", "name"),
        descending=request.args.get("order") == "desc",
    )
    today = clock.today()
    page, counted_at = _caseload_page(chosen, today)
    low, high = assignments.caseload_bounds()
    return render_template(
        "instructors/index.html",
        page=page,
        low=low,
        high=high,
        **vars(chosen),
        sorts=caseload.SORTS,
        counted_at=counted_at,
        quarter=clock.quarter_label(today),
        quarter_start=meetings.quiet_since(today),
        districts=assignments.districts_in_scope(current_user),
    )


@dataclass(frozen=True)
class Caseloads:
    """What the reviewer chose to see of the caseload table."""

    q: str
    district_id: int | None
    flag: str  # under, over, left or none
    sort: str
    descending: bool


def _caseload_page(chosen: Caseloads, today: date):
    """A page of the table, counted on the request or read from the stored figures (a scope
    over REVIEW_LIVE_LIMIT), with when those were counted (None when counted now)."""
    if chosen.flag == "left" or scale.counted_live(current_user, chosen.district_id):
        rows = caseload.rows(
            current_user,
            today,
            q=chosen.q,
            district_id=chosen.district_id,
            sort=chosen.sort,
            descending=chosen.descending,
            counted=False,
            departed=chosen.flag == "left",
        )
        if chosen.flag in ("under", "over"):
            rows = [row for row in rows if row.caseload.flag == chosen.flag]
        page = paginate_list(rows)
        caseload.fill_in(page.items, today)  # only the rows shown, unless the sort counted them all
        return page, None
    counted_at = scale.counted_at_or_now(caseload.TABLE, today)
    page = paginate(
        caseload.stored_rows(
            current_user,
            q=chosen.q,
            district_id=chosen.district_id,
            flag=chosen.flag,
            sort=chosen.sort,
            descending=chosen.descending,
        )
    )
    page.items = caseload.from_stored(page.items)
    return page, counted_at


@bp.route("/<int:instructor_id>")
@allow(Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR)
def detail(instructor_id: int):
    instructor = assignments.visible_instructor(current_user, instructor_id) or abort(404)
    form = None
    if current_user.is_admin:
        form = assign_form(instructor=instructor)
    return _detail_page(instructor, form)


def _detail_page(instructor: Instructor, form: AssignForm | None):
    low, high = assignments.caseload_bounds()
    history = assignments.history_of_instructor(instructor.id)
    today = clock.today()
    due = {row.branch.id: row for row in visits.due_list(instructor, today)}
    # The most overdue first: what a reviewer opens this page to find.
    current = sorted(
        (a for a in history if a.is_current),
        key=lambda a: (-due[a.branch_id].days_overdue, a.branch.name),
    )
    return render_template(
        "instructors/detail.html",
        instructor=instructor,
        current=current,
        due=due,
        follow_ups=alerts.notes_about(
            branch_ids=[a.branch_id for a in current], instructor_ids=[instructor.id]
        )
        if current_user.has_role(Role.ADMIN, Role.REVIEWER)
        else None,
        rules=alerts.BY_KEY,
        branch_names={a.branch_id: a.branch.name for a in current},
        kinds=meetings.kept_up([a.branch_id for a in current], clock.today()),
        figures=caseload.row_of(instructor, clock.today()),
        timeline=visits.recent_by(instructor.id),
        past=[a for a in history if not a.is_current],
        low=low,
        high=high,
        form=form,
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = NewInstructorForm()
    form.district_id.choices = options(district_choices())
    instructor = submit(
        form, lambda: services.create_instructor(username=form.username.data, **form.values())
    )
    if instructor:
        flash(
            f"已添加指导员 {instructor.name}。登录账号 {instructor.account.username} 待安全管理员"
            "设置临时密码并启用。",
            "success",
        )
        return redirect(url_for(".detail", instructor_id=instructor.id))
    return render_template("instructors/form.html", form=form, instructor=None), form_status(form)


@bp.route("/<int:instructor_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(instructor_id: int):
    instructor = db.session.get(Instructor, instructor_id) or abort(404)
    form = InstructorForm(obj=instructor)
    form.district_id.choices = options(district_choices())
    if submit(
        form, lambda: services.update_instructor(instructor, **form.values()), record=instructor
    ):
        flash("已保存。", "success")
        return redirect(url_for(".detail", instructor_id=instructor.id))
    return render_template("instructors/form.html", form=form, instructor=instructor), form_status(
        form
    )
