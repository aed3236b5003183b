from uuid import uuid4

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from crm import clock
from crm.accounts.access import allow, signed_in
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.core.forms import form_status, submit
from crm.http import wants_json
from crm.instructors.services import of_account
from crm.photos import services as photos
from crm.photos.services import PhotoError, StoredPhoto
from crm.visits import services
from crm.visits.forms import VisitForm
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
        return _answer(done)
    pending = _collect_photos(form)
    if not form.photos.errors:
        visit = submit(
            form, lambda: services.record_visit(instructor, branch, _new_visit(form, pending))
        )
        if visit is not None:
            return _answer(visit)
    elif request.method == "POST":
        refused = form.photos.errors
        form.validate()  # show every other field's errors too; validate() clears the photos'
        form.photos.errors = refused
    if request.method == "POST" and wants_json():
        return jsonify(errors=form.errors), 422
    tokens = [photos.pending_token(photo, current_user.id) for photo in pending]
    return render_template(
        "visits/form.html", form=form, branch=branch, tokens=tokens, clarities=Clarity,
        limit=_limit(),
    ), form_status(form)  # fmt: skip


def _defaults(form: VisitForm, instructor_id: int) -> None:
    form.client_key.data = uuid4().hex
    form.visited_at.data = clock.now().replace(second=0, microsecond=0, tzinfo=None)
    form.kind.data = services.most_used_kind(instructor_id)


def _limit() -> int:
    return current_app.config["PHOTOS_PER_RECORD"]


def _collect_photos(form: VisitForm) -> list[StoredPhoto]:
    """Photos kept from an earlier try of this form, then the ones just chosen; each refusal
    goes beside the photo field and the others are kept."""
    kept, errors = [], []
    for token in request.form.getlist("photo_token"):
        try:
            kept.append(photos.redeem(token, current_user.id))
        except PhotoError as error:
            errors.append(error.message)
    for upload in request.files.getlist(form.photos.name):
        if not upload.filename:
            continue
        try:
            kept.append(photos.store_upload(upload.stream, upload.filename))
        except PhotoError as error:
            errors.append(error.message)
    if len(kept) > _limit():
        errors.append(f"每次最多 {_limit()} 张照片，现有 {len(kept)} 张，请去掉几张。")
    form.photos.errors = errors
    return kept


def _new_visit(form: VisitForm, pending: list[StoredPhoto]) -> services.NewVisit:
    location = None
    if form.latitude.data is not None and form.longitude.data is not None:
        location = services.Location(form.latitude.data, form.longitude.data, form.accuracy_m.data)
    return services.NewVisit(
        client_key=form.client_key.data, visited_at=clock.local(form.visited_at.data),
        kind=form.kind.data, summary=form.summary.data, people_met=form.people_met.data or "",
        clarified=frozenset(Clarity(value) for value in form.clarified.data or ()),
        location=location, problems=form.new_problems(), photos=pending,
    )  # fmt: skip


def _answer(visit: Visit):
    """The answer to a saved visit, the same for its first sending and any repeat."""
    url = url_for("visits.detail", visit_id=visit.id)
    if wants_json():
        return jsonify(id=visit.id, url=url), 201
    flash("走访已记录。" + ("（补录）" if visit.backfilled else ""), "success")
    return redirect(url_for("branches.detail", branch_id=visit.branch_id), 303)


@bp.route("/visits/<int:visit_id>")
@signed_in
def detail(visit_id: int):
    visit = services.visible_visit(current_user, visit_id) or abort(404)
    return render_template("visits/detail.html", visit=visit, clarities=Clarity)
