from uuid import uuid4

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.branches.models import Branch
from crm.core.access import allow, signed_in
from crm.core.forms import options, submit
from crm.corrections import services as corrections
from crm.corrections.forms import WithdrawForm
from crm.corrections.pages import correction_page
from crm.http import answer_saved
from crm.meetings import services
from crm.meetings.forms import MeetingEditForm, MeetingForm
from crm.meetings.models import Meeting, MeetingKind
from crm.members.services import members_of
from crm.photos import uploads
from crm.photos.services import StoredPhoto

bp = Blueprint("meetings", __name__)


@bp.route("/branches/<int:branch_id>/meetings")
@signed_in
def index(branch_id: int):
    branch = visible_branch(current_user, branch_id) or abort(404)
    today = clock.today()
    return render_template(
        "meetings/index.html",
        branch=branch,
        meetings=services.of_branch(branch.id, limit=200),
        kinds=services.kept_up([branch.id], today)[branch.id],
        today=today,
    )


@bp.route("/branches/<int:branch_id>/meetings/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def create(branch_id: int):
    """Record one of the three meetings, from a phone as quickly as a visit, and only once."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    form = _form(branch)
    if request.method == "GET":
        form.client_key.data = uuid4().hex
        form.held_on.data = clock.today()
        form.kind.data = MeetingKind.parse(request.args.get("kind")) or MeetingKind.DECISION
    elif done := services.find_by_key(current_user.id, form.client_key.data or ""):
        return _answer(done)
    pending = uploads.collect(form.photos)

    def record():
        return services.record_meeting(branch, _new_meeting(form, pending), by=current_user)

    meeting = None if form.photos.errors else submit(form, record)
    if meeting:
        return _answer(meeting)
    return uploads.shown_again(
        form, pending, "meetings/form.html", branch=branch, kinds=MeetingKind
    )


def _form(branch: Branch, form: MeetingForm | MeetingEditForm | None = None, keep=()):
    """The form with the branch's members to choose from (and `keep`: those who attended and
    have left since, on a correction)."""
    form = form or MeetingForm()
    people = members_of(branch.id) + [m for m in keep if not m.active]
    form.attendee_ids.choices = options((m.id, f"{m.name}（{m.role.label}）") for m in people)
    return form


def _new_meeting(form: MeetingForm, pending: list[StoredPhoto]) -> services.NewMeeting:
    return services.NewMeeting(
        client_key=form.client_key.data,
        kind=form.kind.data,
        held_on=form.held_on.data,
        topics=form.topics.data,
        outcome=form.outcome.data or "",
        attendee_ids=form.attendee_ids.data or [],
        other_attendees=form.other_attendees.data or "",
        photos=pending,
    )


def _answer(meeting: Meeting):
    return answer_saved(
        url_for("meetings.detail", meeting_id=meeting.id),
        url_for("branches.detail", branch_id=meeting.branch_id),
        f"{meeting.kind.label}已记录。",
    )


@bp.route("/meetings/<int:meeting_id>")
@signed_in
def detail(meeting_id: int):
    meeting = services.visible_meeting(current_user, meeting_id) or abort(404)
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        versions=corrections.history(meeting),
        may_correct=_may_correct(),
    )


def _may_correct() -> bool:
    """Those who record a branch's meetings correct them: its instructor, admins."""
    return current_user.has_role(Role.INSTRUCTOR, Role.ADMIN)


def _correctable(meeting_id: int) -> Meeting:
    meeting = services.visible_meeting(current_user, meeting_id) or abort(404)
    if not _may_correct():
        abort(403)
    return meeting


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def edit(meeting_id: int):
    """Correct a meeting: freely by its author within its month, else with a reason."""
    meeting = _correctable(meeting_id)
    form = _form(meeting.branch, MeetingEditForm(obj=meeting), keep=meeting.attendees)
    if request.method == "GET":
        form.attendee_ids.data = [m.id for m in meeting.attendees]
    if submit(
        form,
        lambda: services.correct_meeting(
            meeting,
            services.MeetingChange(
                form.kind.data,
                form.held_on.data,
                form.topics.data,
                form.outcome.data or "",
                form.attendee_ids.data or [],
                form.other_attendees.data or "",
            ),
            reason=form.reason.data or "",
            by=current_user,
        ),
    ):
        flash("已保存更正。", "success")
        return redirect(url_for(".detail", meeting_id=meeting.id), 303)
    return _correction_page(meeting, form)


@bp.route("/meetings/<int:meeting_id>/withdraw", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def withdraw(meeting_id: int):
    meeting = _correctable(meeting_id)
    form = WithdrawForm()
    if submit(
        form,
        lambda: services.withdraw_meeting(meeting, reason=form.reason.data or "", by=current_user),
    ):
        flash("已撤回，这次会议不再计入统计。", "success")
        return redirect(url_for(".detail", meeting_id=meeting.id), 303)
    edit_form = _form(
        meeting.branch, MeetingEditForm(formdata=None, obj=meeting), keep=meeting.attendees
    )
    edit_form.attendee_ids.data = [m.id for m in meeting.attendees]
    return _correction_page(meeting, edit_form, form)


def _correction_page(meeting: Meeting, form: MeetingEditForm, withdraw_form=None):
    return correction_page(
        meeting,
        form,
        title=f"更正{meeting.kind.label}（{meeting.held_on:%Y-%m-%d}）",
        back=url_for(".detail", meeting_id=meeting.id),
        action=url_for(".edit", meeting_id=meeting.id),
        withdraw_action=url_for(".withdraw", meeting_id=meeting.id),
        withdraw_form=withdraw_form,
    )
