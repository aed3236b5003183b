import pytest
import sqlalchemy as sa

from crm import create_app
from crm.accounts import services
from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.extensions import db
from tests import factories as f
from tests.conftest import PASSWORD, settings


def actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()
        return [(e.action, e.actor_name) for e in entries if e.action.startswith("log")]


@pytest.mark.parametrize(
    ("roles", "home"),
    [
        ([Role.ADMIN], "/instructors/"),
        ([Role.REVIEWER], "/review/"),
        ([Role.INSTRUCTOR], "/branches/"),
        ([Role.AUDITOR], "/audit/"),
    ],
)
def test_each_role_lands_on_its_home(app, client, auth, roles, home):
    with app.app_context():
        f.AccountFactory(username="someone", roles=roles)
    response = auth.login("someone")
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get("/").headers["Location"] == home


def test_sign_in_and_sign_out_are_logged(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="zdy001")
    auth.login("zdy001")
    assert client.get("/branches/").status_code == 200
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert client.get("/branches/").status_code == 302
    assert actions(app) == [("login.success", "zdy001"), ("logout", "zdy001")]


def test_wrong_password_and_unknown_user_get_the_same_answer(app, auth):
    with app.app_context():
        f.AccountFactory(username="zdy001")
    wrong = auth.login("zdy001", "not-the-password")
    unknown = auth.login("nobody", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "用户名或密码不正确" in response.text
    assert 'value="zdy001"' in wrong.text  # what was typed is kept
    assert actions(app) == [("login.failure", "anonymous"), ("login.failure", "anonymous")]


def test_a_disabled_account_cannot_sign_in(app, auth):
    with app.app_context():
        f.AccountFactory(username="gone", active=False)
    assert "用户名或密码不正确" in auth.login("gone").text


def test_empty_fields_are_named(app, client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    assert "请输入用户名" in response.text
    assert "请输入密码" in response.text


def test_forms_need_the_csrf_token(migrated):
    app = create_app(settings(migrated, WTF_CSRF_ENABLED=True))
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "页面已过期" in response.text


def test_an_auditor_holds_no_other_role(app):
    with app.app_context(), pytest.raises(services.RoleConflictError, match="审计员"):
        services.create_account("x", "某人", "long-enough-1", [Role.AUDITOR, Role.ADMIN])


def test_passwords_are_hashed_with_argon2id(app):
    with app.app_context():
        account = services.create_account("x", "某人", "long-enough-1", [Role.INSTRUCTOR])
        assert account.password_hash.startswith("$argon2id$")
        assert "long-enough-1" not in account.password_hash


def test_accounts_cli_creates_an_account_without_a_default_password(app, runner):
    result = runner.invoke(
        args=["accounts", "create", "ops", "--name", "运维", "--role", "admin"],
        input="Str0ng-pass\nStr0ng-pass\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert services.authenticate("ops", "Str0ng-pass") is not None


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/organizations/", "/organizations/"),
        ("//evil.example/", "/branches/"),
        ("https://evil.example/", "/branches/"),
        ("/\\evil.example", "/branches/"),
        ("", "/branches/"),
    ],
)
def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(app, client, next_url, lands_on):
    with app.app_context():
        f.AccountFactory(username="zdy001")
    response = client.post(
        "/login", query_string={"next": next_url},
        data={"username": "zdy001", "password": PASSWORD},
    )  # fmt: skip
    assert response.headers["Location"] == lands_on


def test_the_security_admin_sets_a_password_for_an_imported_instructor(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="security", roles=[Role.SECURITY_ADMIN])
        imported = f.AccountFactory(username="zdy300", password_hash="!imported-no-password")
        imported_id = imported.id
    assert auth.login("zdy300", "anything-at-all").status_code == 422
    auth.login("security")
    mismatch = client.post(f"/accounts/{imported_id}/password",
                           data={"password": "Gz-2026-new", "confirm": "other"})  # fmt: skip
    assert "两次输入的密码不一致" in mismatch.text
    short = client.post(
        f"/accounts/{imported_id}/password", data={"password": "short", "confirm": "short"}
    )
    assert "密码至少需要 8 位" in short.text
    done = client.post(f"/accounts/{imported_id}/password",
                       data={"password": "Gz-2026-new", "confirm": "Gz-2026-new"})  # fmt: skip
    assert done.status_code == 303
    auth.logout()
    assert auth.login("zdy300", "Gz-2026-new").headers["Location"] == "/branches/"


def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(app, client):
    from argon2 import PasswordHasher

    app.config["PASSWORD_HASHING"] = {}  # production's: the library's current parameters
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        f.AccountFactory(username="old", password_hash=weak)
    assert client.post("/login", data={"username": "old", "password": PASSWORD}).status_code == 302
    with app.app_context():
        stored = services.find_by_username("old").password_hash
    assert stored != weak
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().check_needs_rehash(stored) is False
