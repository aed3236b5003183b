from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.core.access import public
from crm.extensions import db
from crm.version import __version__

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", version=__version__), 503
    return jsonify(status="ok", version=__version__)


@bp.route("/sw.js")
@public
def service_worker():
    """The service worker, served from the root so it may keep any page of the site."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", max_age=0)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response
