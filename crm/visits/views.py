from dataclasses import dataclass
from uuid import uuid4

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, submit
from crm.http import answer_saved
from crm.instructors.services import of_account
from crm.photos import uploads
from crm.photos.services import StoredPhoto
from crm.review import services as review
from crm.visits import services
from crm.visits.forms import CorrectionForm, VisitForm
from crm.visits.models import Clarity, Visit

bp = Blueprint("visits", __name__)


@bp.route("/branches/<int:branch_id>/visits/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR)
def create(branch_id: int):
    """Log a visit. The same form (by its client key) sent twice is answered as the first."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    instructor = of_account(current_user.id) or abort(404)
    form = VisitForm()
    if request.method == "GET":
        _defaults(form, instructor.id)
    elif done := services.find_by_key(instructor.id, form.client_key.data or ""):
        return _answer(_Saved.of(done))
    pending = uploads.collect(form.photos)

    def record():
        return _Saved.of(services.record_visit(instructor, branch, _new_visit(form, pending)))

    saved = None if form.photos.errors else submit(form, record)
    if saved:
        return _answer(saved)
    return uploads.shown_again(form, pending, "visits/form.html", branch=branch, clarities=Clarity)


def _defaults(form: VisitForm, instructor_id: int) -> None:
    form.client_key.data = uuid4().hex
    form.visited_at.data = clock.now().replace(second=0, microsecond=0, tzinfo=None)
    form.kind.data = services.most_used_kind(instructor_id)


def _new_visit(form: VisitForm, pending: list[StoredPhoto]) -> services.NewVisit:
    location = None
    if form.latitude.data is not None and form.longitude.data is not None:
        location = services.Location(form.latitude.data, form.longitude.data, form.accuracy_m.data)
    return services.NewVisit(
        client_key=form.client_key.data,
        visited_at=clock.local(form.visited_at.data),
        kind=form.kind.data,
        summary=form.summary.data,
        people_met=form.people_met.data or "",
        clarified=frozenset(Clarity(value) for value in form.clarified.data or ()),
        location=location,
        problems=form.new_problems(),
        photos=pending,
    )


@dataclass(frozen=True)
class _Saved:
    """What the answer to a saved visit says, read before the commit expires the visit (so
    answering does not load it again)."""

    id: int
    branch_id: int
    backfilled: bool

    @classmethod
    def of(cls, visit: Visit) -> "_Saved":
        return cls(visit.id, visit.branch_id, visit.backfilled)


def _answer(saved: _Saved):
    return answer_saved(
        url_for("visits.detail", visit_id=saved.id),
        url_for("branches.detail", branch_id=saved.branch_id),
        "走访已记录。" + ("（补录）" if saved.backfilled else ""),
    )


@bp.route("/visits/<int:visit_id>")
@signed_in
def detail(visit_id: int):
    visit = services.visible_visit(current_user, visit_id) or abort(404)
    return render_template("visits/detail.html", visit=visit, clarities=Clarity)


@bp.route("/visits/<int:visit_id>/correct", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR)
def correct(visit_id: int):
    """The instructor corrects a visit a reviewer sent back; it leaves the top of the phone."""
    visit = services.visible_visit(current_user, visit_id) or abort(404)
    if visit.instructor.account_id != current_user.id or visit.returned_at is None:
        abort(404)
    form = CorrectionForm(obj=visit)
    if request.method == "GET":
        form.clarified.data = [item.value for item in visit.clarified]
    if submit(
        form,
        lambda: review.visit_corrected(
            services.correct(
                visit,
                summary=form.summary.data,
                people_met=form.people_met.data or "",
                clarified=frozenset(Clarity(v) for v in form.clarified.data or ()),
                by=current_user,
            )
        ),
    ):
        return redirect(url_for("visits.detail", visit_id=visit.id, corrected=1), 303)
    page = render_template("visits/correct.html", form=form, visit=visit)
    return page, form_status(form)
