import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import selectinload

from crm.accounts import services
from crm.accounts.access import allow, public, signed_in
from crm.accounts.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from crm.accounts.models import Account, Role
from crm.audit import services as audit
from crm.core.forms import form_status, submit
from crm.core.security import limiter, login_rate
from crm.extensions import db, login_manager, writing
from crm.http import wants_json

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_account(account_id: str) -> Account | None:
    """The session's account, unless it is disabled, its sessions were ended since this one
    began, or this session has idled or lasted too long."""
    account = db.session.get(Account, int(account_id), options=[selectinload(Account.role_rows)])
    if account is None or not account.active or session.get("v") != account.session_version:
        return None
    now = time.time()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if (
        now - session.get("seen", 0) > idle
        or now - session.get("began", 0) > current_app.config["SESSION_MAX_HOURS"] * 3600
    ):
        session.clear()
        flash("登录已超时，请重新登录。", "warning")
        return None
    session["seen"] = now
    return account


def start_session(account: Account) -> None:
    """A new session at sign-in: nothing from before carries over."""
    session.clear()
    login_user(account)
    session["v"], session["began"] = account.session_version, time.time()
    session["seen"] = session["began"]


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the visitor to sign in and back; the phone's outbox gets a 401 to show."""
    if wants_json():
        return jsonify(error="登录已过期，请重新登录后再同步。"), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def home_url(account: Account) -> str:
    """Where each role starts: its own home page."""
    if account.is_admin:
        return url_for("instructors.index")
    if account.has_role(Role.REVIEWER):
        return url_for("review.overview")
    if account.has_role(Role.INSTRUCTOR):
        return url_for("branches.index")
    return url_for("audit.index")


def local_target(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: never redirect off-site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/")
@signed_in
def home():
    return redirect(home_url(current_user))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(login_rate, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        with writing():
            account = services.authenticate(form.username.data, form.password.data)
            db.session.commit()
        if account is not None:
            start_session(account)
            if services.password_expired(account):
                flash("密码已超过有效期，请先修改密码。", "warning")
                return redirect(url_for("accounts.change_password"))
            return redirect(local_target(request.args.get("next")) or home_url(account))
        form.password.errors.append("用户名或密码不正确。")
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    with writing():
        audit.record(
            "logout", object_type="account", object_id=current_user.id, summary=str(current_user)
        )
        services.end_sessions(current_user)  # a copy of this session's cookie is worth nothing
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change one's own password: required before anything else once it has expired."""
    form = ChangePasswordForm()
    changed = submit(form, lambda: services.change_own_password(
        current_user, form.current.data, form.password.data))  # fmt: skip
    if changed:
        # Other sessions ended with the change; this one goes on.
        start_session(current_user._get_current_object())
        flash("密码已修改。", "success")
        return redirect(home_url(current_user), 303)
    page = render_template("accounts/change_password.html", form=form,
                           expired=services.password_expired(current_user))  # fmt: skip
    return page, form_status(form)


# Until an expired password is changed, only these pages answer.
OPEN_WHILE_EXPIRED = {"accounts.change_password", "accounts.logout", "static", "core.service_worker",
                      "core.healthz"}  # fmt: skip


@bp.before_app_request
def expired_password_first():
    if (current_user.is_authenticated and request.endpoint not in OPEN_WHILE_EXPIRED
            and services.password_expired(current_user)):  # fmt: skip
        if wants_json():
            return jsonify(error="密码已过期，请先在网页上修改密码。"), 403
        return redirect(url_for("accounts.change_password"))
    return None


@bp.route("/accounts/<int:account_id>/sessions", methods=["POST"])
@allow(Role.ADMIN)
def end_sessions(account_id: int):
    """An admin signs someone out everywhere, at once."""
    account = db.session.get(Account, account_id) or abort(404)
    with writing():
        services.end_sessions(account)
        audit.record("account.sessions_ended", object_type="account", object_id=account.id,
                     summary=f"结束 {account} 的全部登录")  # fmt: skip
        db.session.commit()
    flash(f"已结束 {account.name} 的全部登录。", "success")
    return redirect(url_for("accounts.home"), 303)


@bp.route("/accounts/<int:account_id>/password", methods=["GET", "POST"])
@allow(Role.ADMIN)
def set_password(account_id: int):
    """An admin sets someone's password: for imported instructors, or a forgotten one."""
    account = db.session.get(Account, account_id) or abort(404)
    form = SetPasswordForm()
    if submit(form, lambda: services.set_password(account, form.password.data)):
        flash(f"已为 {account.name} 设置新密码。", "success")
        return redirect(url_for("accounts.home"), 303)
    page = render_template("accounts/password.html", form=form, account=account)
    return page, form_status(form)
