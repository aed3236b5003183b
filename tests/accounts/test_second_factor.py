"""The TOTP second factor and 三权分立 (separation of duties)."""

import re
import time
from urllib.parse import unquote

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from crm import create_app
from crm.accounts import second_factor, services
from crm.accounts.models import Account, Role, SignInFailure
from crm.audit.models import AuditEntry
from crm.config import Defaults
from crm.extensions import db
from tests import factories as f
from tests.conftest import PASSWORD, settings


@pytest.fixture
def app(migrated, tmp_path):
    """The application with the default second-factor rule, which the other tests turn off."""
    app = create_app(settings(migrated, TOTP_REQUIRED_ROLES=Defaults.TOTP_REQUIRED_ROLES))
    yield app
    with app.app_context():
        from tests.conftest import empty_tables

        empty_tables()
        db.engine.dispose()


def test_by_default_the_three_separated_roles_must_give_a_code():
    assert set(Defaults.TOTP_REQUIRED_ROLES) == {"admin", "security_admin", "auditor"}


def account(app, username: str) -> Account:
    with app.app_context():
        found = db.session.scalar(
            sa.select(Account).where(Account.username == username)
            .options(sa.orm.selectinload(Account.role_rows))
        )  # fmt: skip
        db.session.expunge_all()
        return found


def enrol(client, username: str) -> str:
    """Sign in with the password, read the key off the enrolment page, answer with its code."""
    page = client.post("/login", data={"username": username, "password": PASSWORD},
                       follow_redirects=True).text  # fmt: skip
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    done = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    return secret


def test_an_admin_enrols_at_the_first_sign_in_and_is_not_signed_in_before(app, client):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert answer.headers["Location"] == "/login/code"
    assert client.get("/instructors/").status_code == 302  # the password alone opens nothing
    page = client.get("/login/code").text
    assert "绑定动态口令" in page
    qr = page.split('src="data:image/svg+xml;charset=utf-8,')[1].split('"')[
        0
    ]  # drawn on the server
    assert "xmlns" in unquote(qr)  # with its namespace: without it a browser draws nothing
    wrong = client.post("/login/code", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "动态口令不正确" in wrong.text
    assert account(app, "admin").totp_secret is None

    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    done = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/instructors/"
    assert client.get("/instructors/").status_code == 200
    with app.app_context():
        assert second_factor.secret_of(account(app, "admin")) == secret


def test_each_later_sign_in_needs_a_fresh_code(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="auditor", roles=[Role.AUDITOR])
    secret = enrol(client, "auditor")
    auth.logout()
    used = pyotp.TOTP(secret).now()
    client.post("/login", data={"username": "auditor", "password": PASSWORD})
    replay = client.post("/login/code", data={"code": used})
    assert replay.status_code == 422  # the code that enrolled cannot sign in again
    assert "已用过" in replay.text
    with time_machine.travel(time.time() + 30, tick=False):
        fresh = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
        assert fresh.headers["Location"] == "/audit/"


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, client):
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
    secret = enrol(client, "security")
    client.post("/logout")
    client.post("/login", data={"username": "security", "password": PASSWORD})
    for _ in range(app.config["LOCKOUT_FAILURES"]):
        assert client.post("/login/code", data={"code": "123456"}).status_code == 422
    with time_machine.travel(time.time() + 60, tick=False):
        right = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 422
    with app.app_context():
        here = db.session.scalar(sa.select(SignInFailure))
        assert here.is_locked  # this address, like wrong passwords


def test_a_pending_sign_in_lapses_after_five_minutes(app, client):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    with time_machine.travel(time.time() + 301, tick=False):
        answer = client.get("/login/code")
    assert answer.headers["Location"] == "/login"


def test_an_instructor_may_add_a_second_factor_and_then_needs_it(app, client, auth):
    with app.app_context():
        f.InstructorFactory(account__username="zdy")
    assert auth.login("zdy").headers["Location"] == "/branches/"  # not required of instructors
    page = client.get("/account/second-factor").text
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert client.post("/account/second-factor",
                       data={"code": pyotp.TOTP(secret).now()}).status_code == 303  # fmt: skip
    auth.logout()
    assert auth.login("zdy").headers["Location"] == "/login/code"


def test_the_security_admin_resets_a_lost_phone(app, client, auth):
    app.config["TOTP_REQUIRED_ROLES"] = [*app.config["TOTP_REQUIRED_ROLES"], "reviewer"]
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        f.AccountFactory(username="li", roles=[Role.REVIEWER])
    phone = app.test_client()
    enrol(phone, "li")
    target = account(app, "li")
    enrol(client, "security")
    assert client.post(f"/accounts/{target.id}/second-factor").status_code == 303
    assert phone.get("/review/").status_code == 302  # its sessions ended too
    assert account(app, "li").totp_secret is None
    assert "绑定动态口令" in phone.post("/login", data={"username": "li", "password": PASSWORD},
                                     follow_redirects=True).text  # fmt: skip


def test_a_privileged_account_s_credentials_change_only_on_the_command_line(app, client, runner):
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        f.AccountFactory(username="auditor", roles=[Role.AUDITOR])
    other = app.test_client()
    enrol(other, "auditor")
    target = account(app, "auditor")
    enrol(client, "security")
    refused = client.post(f"/accounts/{target.id}/second-factor", follow_redirects=True)
    assert "只能在服务器命令行重置" in refused.text
    assert account(app, "auditor").totp_secret == target.totp_secret
    assert client.get(f"/accounts/{target.id}/password").status_code == 303
    posted = client.post(f"/accounts/{target.id}/password",
                         data={"password": "Another-pass-2026", "confirm": "Another-pass-2026"})  # fmt: skip
    assert posted.status_code == 303
    assert account(app, "auditor").password_hash == target.password_hash
    assert other.get("/audit/").status_code == 200  # untouched
    result = runner.invoke(args=["accounts", "reset-second-factor", "auditor"])
    assert result.exit_code == 0, result.output
    assert account(app, "auditor").totp_secret is None


# --- 三权分立 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({Role.ADMIN, Role.AUDITOR}, "三权分立"),
        ({Role.ADMIN, Role.SECURITY_ADMIN}, "三权分立"),
        ({Role.SECURITY_ADMIN, Role.AUDITOR}, "三权分立"),
        ({Role.SECURITY_ADMIN, Role.REVIEWER}, "安全管理员不能同时担任其他角色"),
        ({Role.AUDITOR, Role.INSTRUCTOR}, "审计员不能同时担任其他角色"),
    ],
)
def test_no_account_holds_two_separated_duties(roles, message):
    with pytest.raises(services.RoleConflictError, match=message):
        services.check_roles(roles)


def test_an_admin_may_also_review_and_instruct():
    assert services.check_roles({Role.ADMIN, Role.REVIEWER}) == {Role.ADMIN, Role.REVIEWER}


def test_the_roles_page_grants_no_privileged_role_and_never_one_s_own(app, client):
    with app.app_context():
        me = f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN]).id
        target = f.AccountFactory(username="wang", roles=[Role.ADMIN]).id
        teacher = f.InstructorFactory(account__username="zdy115").account_id
    enrol(client, "security")
    for account_id, roles in ((me, ["auditor"]), (me, ["reviewer"]), (teacher, ["admin"]),
                              (target, ["auditor"])):  # fmt: skip
        refused = client.post(f"/accounts/{account_id}", data={"roles": roles,
                                                               "scope_district_id": 0})  # fmt: skip
        assert refused.status_code == 422, (account_id, roles)
        assert "命令行" in refused.text
    assert account(app, "security").roles == {Role.SECURITY_ADMIN}
    assert account(app, "zdy115").roles == {Role.INSTRUCTOR}
    assert account(app, "wang").roles == {Role.ADMIN}  # not removed from the page either
    kept = client.post(f"/accounts/{target}", data={"roles": ["reviewer"], "scope_district_id": 0})
    assert kept.status_code == 303
    assert account(app, "wang").roles == {Role.ADMIN, Role.REVIEWER}  # the duty stays
    assert client.get("/audit/").status_code == 403
    done = client.post(f"/accounts/{teacher}", data={"roles": ["reviewer"], "scope_district_id": 0})
    assert done.status_code == 303
    assert account(app, "zdy115").roles == {Role.INSTRUCTOR, Role.REVIEWER}
    own = client.get(f"/accounts/{me}").text
    assert "这是您自己的账号" in own
    assert 'name="roles"' not in own


def test_granting_a_duty_is_the_command_line_s_and_every_change_is_audited(app, client, runner):
    with app.app_context():
        f.AccountFactory(username="wang", roles=[Role.REVIEWER])
    result = runner.invoke(args=["accounts", "grant", "wang", "auditor"])
    assert result.exit_code != 0  # an auditor holds no other role: 三权分立
    assert "审计员不能同时担任其他角色" in result.output
    assert runner.invoke(args=["accounts", "grant", "wang", "admin"]).exit_code == 0
    assert runner.invoke(args=["accounts", "revoke", "wang", "reviewer"]).exit_code == 0
    assert account(app, "wang").roles == {Role.ADMIN}
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "account.roles")
            .order_by(AuditEntry.id)).all()  # fmt: skip
    who = f"{account(app, 'wang').name}（wang）"
    assert entries == [f"{who} 的角色：审阅 → 管理员、审阅", f"{who} 的角色：管理员、审阅 → 管理员"]


def test_the_security_admin_cannot_read_the_log_nor_the_admin_the_accounts(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    enrol(client, "security")
    assert client.get("/audit/").status_code == 403
    assert client.get("/instructors/").status_code == 403
    other = app.test_client()
    enrol(other, "admin")
    assert other.get("/accounts/").status_code == 403
    assert other.get("/audit/").status_code == 403


def test_disabling_an_account_ends_its_sessions_at_once(app, client):
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        target = f.InstructorFactory(account__username="zdy").account_id
    phone = app.test_client()
    phone.post("/login", data={"username": "zdy", "password": PASSWORD})
    assert phone.get("/branches/").status_code == 200
    enrol(client, "security")
    assert client.post(f"/accounts/{target}/disable").status_code == 303
    assert phone.get("/branches/").status_code == 302
    assert phone.post("/login", data={"username": "zdy", "password": PASSWORD}).status_code == 422


OLD_SECRET = pyotp.random_base32()  # as stored before secrets were sealed


def test_the_secret_is_stored_sealed_and_a_copy_of_the_database_cannot_make_codes(
    app, client, runner
):
    """Issue 17.9: TOTP secrets were stored in clear."""
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.AccountFactory(username="old", roles=[Role.ADMIN], totp_secret=OLD_SECRET)
    secret = enrol(client, "admin")
    stored = account(app, "admin").totp_secret
    assert secret not in stored
    assert stored.startswith("v1:")
    other = create_app(settings(app.config["DATABASE_URL"], AUDIT_KEY="another-servers-key"))
    with other.app_context():  # the same database, without this server's key
        copy = db.session.scalar(sa.select(Account).where(Account.username == "admin"))
        assert services.check_code(copy, pyotp.TOTP(secret).now()) is False
        db.session.rollback()
    result = runner.invoke(args=["accounts", "seal-secrets"])
    assert result.exit_code == 0, result.output
    assert "已加密 1 个" in result.output
    assert account(app, "old").totp_secret.startswith("v1:")
    later = app.test_client()
    later.post("/login", data={"username": "old", "password": PASSWORD})
    assert later.post("/login/code",
                      data={"code": pyotp.TOTP(OLD_SECRET).now()}).status_code == 302  # fmt: skip
