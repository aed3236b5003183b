import time

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
from sqlalchemy.orm import joinedload

from crm.accounts import second_factor, services
from crm.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    RolesForm,
    SetPasswordForm,
)
from crm.accounts.models import PRIVILEGED, Account, Role
from crm.audit import services as audit
from crm.core.access import allow, public, signed_in
from crm.core.forms import committed, form_status, options, submit
from crm.core.lists import paginate, search_text
from crm.core.qr import qr_data_uri
from crm.core.security import limiter, login_rate
from crm.extensions import db, login_manager
from crm.http import local_target, wants_json
from crm.organizations.services import district_choices

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_account(account_id: str) -> Account | None:
    """The session's account, unless it is disabled, its sessions were ended since this one
    began, or this session has idled or lasted too long."""
    account = db.session.get(Account, int(account_id), options=[joinedload(Account.role_rows)])
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
    if account.has_role(Role.SECURITY_ADMIN):
        return url_for("accounts.index")
    if account.has_role(Role.REVIEWER):
        return url_for("review.overview")
    if account.has_role(Role.INSTRUCTOR):
        return url_for("branches.index")
    return url_for("audit.index")


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
        account = committed(lambda: services.authenticate(form.username.data, form.password.data))
        if account is not None:
            next_url = local_target(request.args.get("next"))
            if second_factor.wanted(account):
                session.clear()
                session[PENDING] = {
                    "id": account.id,
                    "at": time.time(),
                    "next": next_url,
                    "v": account.session_version,
                }
                return redirect(url_for(".second_step"))
            return _signed_in(account, next_url)
        form.password.errors.append("用户名或密码不正确。")
    return render_template("accounts/login.html", form=form), 422 if form.errors else 200


PENDING = "pending_sign_in"  # the account whose password was right, awaiting its code
PENDING_SECONDS = 300


def _signed_in(account: Account, next_url: str | None):
    start_session(account)
    if services.password_expired(account):
        flash("密码已超过有效期，请先修改密码。", "warning")
        return redirect(url_for("accounts.change_password"))
    return redirect(next_url or home_url(account))


def _pending_account() -> Account | None:
    pending = session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    account = db.session.get(Account, pending["id"])
    if account is None or not account.active or account.session_version != pending["v"]:
        return None
    return account


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(login_rate, methods=["POST"])
def second_step():
    """The second step of signing in: the authenticator's code, or enrolling one first."""
    account = _pending_account()
    if account is None:
        session.pop(PENDING, None)
        flash("请重新输入用户名和密码。", "warning")
        return redirect(url_for(".login"))
    enrolling = account.totp_secret is None
    if enrolling:
        secret = session[PENDING].setdefault("secret", second_factor.new_secret())
        session.modified = True
    form = CodeForm()
    if form.validate_on_submit():
        code = form.code.data
        if enrolling:
            done = submit(form, lambda: services.enrol_second_factor(account, secret, code))
        else:
            done = committed(lambda: services.check_code(account, code))
            if not done:
                form.code.errors.append("动态口令不正确或已用过，请等下一个数字出现后再试。")
        if done:
            next_url = session[PENDING]["next"]
            return _signed_in(db.session.get(Account, account.id), next_url)
    context = _enrolment(account, secret) if enrolling else {}
    page = render_template("accounts/second_step.html", form=form, account=account, **context)
    return page, form_status(form)


def _enrolment(account: Account, secret: str) -> dict:
    uri = second_factor.setup_uri(account, secret)
    return {"secret": secret, "qr": qr_data_uri(uri)}


@bp.route("/account/second-factor", methods=["GET", "POST"])
@signed_in
def enrol():
    """Anyone may add the second factor to their own sign-in; some roles must."""
    if current_user.totp_secret is not None:
        flash("您的账号已绑定动态口令。", "success")
        return redirect(home_url(current_user))
    secret = session.setdefault("totp_secret", second_factor.new_secret())
    form = CodeForm()
    if submit(form, lambda: services.enrol_second_factor(current_user, secret, form.code.data)):
        session.pop("totp_secret", None)
        flash("已绑定动态口令：以后登录时需输入手机验证器上的数字。", "success")
        return redirect(home_url(current_user), 303)
    page = render_template(
        "accounts/second_step.html",
        form=form,
        account=current_user,
        **_enrolment(current_user, secret),
    )
    return page, form_status(form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():

    def sign_out() -> None:
        audit.record(
            "logout", object_type="account", object_id=current_user.id, summary=str(current_user)
        )
        services.end_sessions(current_user)  # a copy of this session's cookie is worth nothing

    committed(sign_out)
    logout_user()
    session.clear()
    flash("您已安全退出。", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@limiter.limit(login_rate, methods=["POST"])
def change_password():
    """Change one's own password: required before anything else once it has expired. The
    current password is guarded like a sign-in (rate limit, lockout)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        right = committed(lambda: services.check_current(current_user, form.current.data))
        if not right:
            form.current.errors.append("当前密码不正确。")
            if services.locked_out(current_user):
                logout_user()
                session.clear()
                flash("当前密码连续输错，账号已锁定，请稍后重新登录。", "warning")
                return redirect(url_for(".login"), 303)
    changed = not form.errors and submit(
        form,
        lambda: services.change_own_password(current_user, form.current.data, form.password.data),
    )
    if changed:
        # Other sessions ended with the change; this one goes on.
        start_session(current_user._get_current_object())
        flash("密码已修改。", "success")
        return redirect(home_url(current_user), 303)
    page = render_template(
        "accounts/change_password.html",
        form=form,
        expired=services.password_expired(current_user),
        temporary=current_user.must_change_password,
    )
    return page, form_status(form)


# Until an expired password is changed, only these pages answer.
OPEN_WHILE_EXPIRED = {
    "accounts.change_password",
    "accounts.logout",
    "static",
    "core.service_worker",
    "core.healthz",
}


@bp.before_app_request
def expired_password_first():
    if (
        current_user.is_authenticated
        and request.endpoint not in OPEN_WHILE_EXPIRED
        and services.needs_new_password(current_user)
    ):
        if wants_json():
            return jsonify(error="密码已过期，请先在网页上修改密码。"), 403
        return redirect(url_for("accounts.change_password"))
    return None


# --- the security admin's pages: accounts, roles, locks, second factors, sessions --------------


@bp.route("/accounts/")
@allow(Role.SECURITY_ADMIN)
def index():
    """Every account, searchable, with its roles, lock and second factor: and the policies."""
    statement = services.listing(
        search_text(), request.args.get("role", ""), request.args.get("state", "")
    )
    return render_template(
        "accounts/index.html",
        page=paginate(statement),
        roles=Role,
        states=services.STATES.items(),
        asked=services.disable_requests(),
        policy=services.policy_summary(),
    )


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@allow(Role.SECURITY_ADMIN)
def detail(account_id: int):
    """One account: its roles (三权分立 enforced), and the actions that keep it safe."""
    account = db.session.get(Account, account_id) or abort(404)
    form = RolesForm(
        obj=account,
        roles=[r.value for r in account.roles if r in ASSIGNABLE],
        scope_district_id=account.scope_district_id or 0,
    )
    form.roles.choices = options((r.value, r.label) for r in ASSIGNABLE)
    form.scope_district_id.choices = options([(0, "全市"), *district_choices()])
    # The instructor's role follows their record; the privileged ones, the command line.
    kept = account.roles - set(ASSIGNABLE)
    if submit(
        form,
        lambda: services.set_roles(
            account,
            {*kept, *filter(None, map(Role.parse, form.roles.data))},
            form.scope_district_id.data or None,
            by=current_user,
        ),
    ):
        flash(f"已更新 {account.name} 的角色。", "success")
        return redirect(url_for(".detail", account_id=account.id), 303)
    page = render_template(
        "accounts/detail.html",
        account=account,
        form=form,
        own=account.id == current_user.id,
        privileged=PRIVILEGED,
    )
    return page, form_status(form)


ASSIGNABLE = (Role.REVIEWER,)  # the roles the account pages grant; PRIVILEGED: the command line
ACTIONS = {
    "disable": (lambda a: services.set_active(a, False), "已停用 {}，其登录已全部结束。"),
    "enable": (lambda a: services.set_active(a, True), "已启用 {}。"),
    "unlock": (services.unlock, "已解除 {} 的登录锁定。"),
    "second-factor": (services.reset_second_factor, "已重置 {} 的动态口令：下次登录时重新绑定。"),
    "sessions": (services.end_sessions, "已结束 {} 的全部登录。"),
}


@bp.route("/accounts/<int:account_id>/<action>", methods=["POST"])
@allow(Role.SECURITY_ADMIN)
def act(account_id: int, action: str):
    """Disable, enable, unlock, reset the second factor, or end every session, at once."""
    account = db.session.get(Account, account_id) or abort(404)
    change, message = ACTIONS.get(action) or abort(404)
    try:
        services.check_may_change(account, current_user, action)
    except services.AccountError as error:
        flash(error.message, "warning")
        return redirect(url_for(".detail", account_id=account.id), 303)

    def changed() -> None:
        change(account)
        audit.record(
            f"account.{action.replace('-', '_')}",
            object_type="account",
            object_id=account.id,
            summary=message.format(account),
        )

    committed(changed)
    flash(message.format(account.name), "success")
    return redirect(url_for(".detail", account_id=account.id), 303)


@bp.route("/accounts/<int:account_id>/password", methods=["GET", "POST"])
@allow(Role.SECURITY_ADMIN)
def set_password(account_id: int):
    """The security admin sets someone's password: for imported instructors, or a forgotten one."""
    account = db.session.get(Account, account_id) or abort(404)
    form = SetPasswordForm()
    try:
        services.check_may_change(account, current_user, "password")
    except services.AccountError as error:
        flash(error.message, "warning")
        return redirect(url_for(".detail", account_id=account.id), 303)
    if submit(form, lambda: services.set_password(account, form.password.data, temporary=True)):
        flash(f"已为 {account.name} 设置临时密码：本人下次登录时须改为自己的密码。", "success")
        return redirect(url_for(".detail", account_id=account.id), 303)
    page = render_template("accounts/password.html", form=form, account=account)
    return page, form_status(form)
