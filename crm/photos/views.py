from flask import Blueprint, abort, request, send_file
from flask_login import current_user

from crm.accounts.models import Role
from crm.core.access import allow, signed_in
from crm.meetings import services as meetings
from crm.photos import services
from crm.photos.services import PhotoError
from crm.visits import services as visits

bp = Blueprint("photos", __name__, url_prefix="/photos")


@bp.route("/<int:photo_id>")
@signed_in
def show(photo_id: int):
    """A photo, to those who may see the record it belongs to; 404 to everyone else."""
    photo = (
        visits.visible_photo(current_user, photo_id)
        or meetings.visible_photo(current_user, photo_id)
        or abort(404)
    )
    return _send(photo.stored_name, photo.content_type)


@bp.route("/pending/<token>")
@allow(Role.INSTRUCTOR)
def pending(token: str):
    """A photo chosen in a form not yet saved, to the person who chose it."""
    try:
        photo = services.redeem(token, current_user.id)
    except PhotoError:
        abort(404)
    return _send(photo.stored_name, photo.content_type)


def _send(stored_name: str, content_type: str):
    """The photo, or with `?size=thumb` its small rendition (a JPEG of a few KB)."""
    if request.args.get("size") == "thumb":
        path, content_type = services.thumbnail_path(stored_name), "image/jpeg"
    else:
        path = services.path_of(stored_name)
    response = send_file(path, mimetype=content_type, max_age=86400, conditional=True)
    response.cache_control.public = False  # send_file says public: never in a shared cache
    response.cache_control.private = True
    return response
