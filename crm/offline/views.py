from dataclasses import asdict

from flask import Blueprint, jsonify
from flask_login import current_user

from crm.accounts.models import Role
from crm.core.access import allow
from crm.offline import services

bp = Blueprint("offline", __name__, url_prefix="/offline")


@bp.route("/pages.json")
@allow(Role.INSTRUCTOR)
def pages():
    """The pages this phone keeps for offline use (static/js/sw.js fetches them)."""
    return jsonify(asdict(services.offline_set(current_user)))  # private, no-store as every page
