from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user

from crm.core.access import signed_in
from crm.core.forms import committed
from crm.http import wants_json
from crm.privacy import services

bp = Blueprint("privacy", __name__)


@bp.route("/reveal/<holder>/<int:holder_id>", methods=["POST"])
@signed_in
def reveal(holder: str, holder_id: int):
    """Show one masked number whole; the reveal is in the audit log. A POST: it is recorded."""
    phone = committed(lambda: services.reveal(current_user, holder, holder_id))
    if phone is None:
        abort(404)
    if wants_json():
        return jsonify(phone=phone)
    return render_template("privacy/revealed.html", phone=phone)
