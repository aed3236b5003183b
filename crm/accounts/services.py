"""Accounts: creating them, their roles, passwords and sign-in."""

from collections.abc import Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from crm.accounts import passwords
from crm.accounts.models import Account, AccountRole, PasswordHistory, Role
from crm.audit import services as audit
from crm.db import as_utc, utcnow
from crm.extensions import db
from crm.rules import RuleError

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(RuleError):
    """A rule about accounts was broken."""


class RoleConflictError(AccountError):
    field = "roles"


class UsernameTakenError(AccountError):
    field = "username"


class WeakPasswordError(AccountError):
    field = "password"


def hash_password(password: str, *, username: str = "") -> str:
    """Hash with argon2id; raises WeakPasswordError when the policy refuses the password."""
    try:
        passwords.check(password, username=username)
    except passwords.PasswordPolicyError as error:
        raise WeakPasswordError(str(error)) from None
    return _hasher.hash(password)


def check_roles(roles: Iterable[Role]) -> frozenset[Role]:
    """An auditor holds no other role; raises RoleConflictError. Returns the roles as a set."""
    chosen = frozenset(roles)
    if not chosen:
        raise RoleConflictError("请至少选择一个角色。")
    if Role.AUDITOR in chosen and len(chosen) > 1:
        raise RoleConflictError("审计员不能同时担任其他角色。")
    return chosen


def find_by_username(username: str) -> Account | None:
    return db.session.execute(
        select(Account).where(func.lower(Account.username) == username.strip().lower())
    ).scalar_one_or_none()


def create_account(
    username: str,
    name: str,
    password: str,
    roles: Iterable[Role],
    *,
    scope_district_id: int | None = None,
    password_hash: str | None = None,
) -> Account:
    """Create an account; raises UsernameTakenError, RoleConflictError or WeakPasswordError.

    `password_hash` lets a bulk loader hash one password once for many accounts.
    """
    chosen = check_roles(roles)
    if find_by_username(username) is not None:
        raise UsernameTakenError(f"用户名“{username}”已被使用。")
    account = Account(
        username=username.strip(),
        name=name.strip(),
        password_hash=password_hash or hash_password(password, username=username),
        password_changed_at=utcnow(),
        scope_district_id=scope_district_id if Role.REVIEWER in chosen else None,
        role_rows=[AccountRole(role=role) for role in sorted(chosen)],
    )
    db.session.add(account)
    db.session.flush()
    return account


def set_roles(account: Account, roles: Iterable[Role]) -> None:
    """Replace the account's roles; raises RoleConflictError."""
    chosen = check_roles(roles)
    for row in [row for row in account.role_rows if row.role not in chosen]:
        account.role_rows.remove(row)
    for role in sorted(chosen - account.roles):
        account.role_rows.append(AccountRole(role=role))
    db.session.flush()


def set_password(account: Account, password: str) -> Account:
    """Store a new password hash; raises WeakPasswordError for a password the policy refuses
    or one of the account's last few."""
    new_hash = hash_password(password, username=account.username)
    remembered = passwords.history_size()
    if remembered:
        earlier = db.session.scalars(
            select(PasswordHistory.password_hash).where(PasswordHistory.account_id == account.id)
            .order_by(PasswordHistory.id.desc()).limit(remembered - 1)
        ).all()  # fmt: skip
        if any(_verify(old, password) for old in [account.password_hash, *earlier]):
            raise WeakPasswordError(f"新密码不能与最近 {remembered} 次使用过的密码相同。")
    db.session.add(PasswordHistory(account_id=account.id, password_hash=account.password_hash))
    account.password_hash = new_hash
    account.password_changed_at = utcnow()
    account.failed_logins, account.locked_until = 0, None
    end_sessions(account)
    return account


def end_sessions(account: Account) -> None:
    """Every session of the account stops working at its next request."""
    account.session_version += 1
    db.session.flush()


def change_own_password(account: Account, current: str, new: str) -> Account:
    """The account holder's own change: the current password first."""
    if not _verify(account.password_hash, current):
        raise AccountError("当前密码不正确。", "current")
    return set_password(account, new)


def password_expired(account: Account) -> bool:
    return passwords.expired(as_utc(account.password_changed_at), utcnow())


def authenticate(username: str, password: str) -> Account | None:
    """Return the active account these credentials open, else None; both outcomes are logged.

    An unknown username costs the same hash check as a wrong password.
    """
    account = find_by_username(username)
    if account is None or not account.active:
        _verify(_DUMMY_HASH, password)
        audit.record("login.failure", summary=f"用户名：{username[:64]}")
        return None
    now = utcnow()
    locked = account.locked_until is not None and as_utc(account.locked_until) > now
    if locked or not _verify(account.password_hash, password):
        if not locked:
            account.failed_logins += 1
            if account.failed_logins >= current_app.config["LOCKOUT_FAILURES"]:
                minutes = current_app.config["LOCKOUT_MINUTES"]
                account.locked_until, account.failed_logins = now + timedelta(minutes=minutes), 0
                audit.record("account.locked", object_type="account", object_id=account.id,
                             summary=f"{account.username} 连续登录失败，锁定 {minutes} 分钟")  # fmt: skip
        audit.record(
            "login.failure",
            object_type="account",
            object_id=account.id,
            summary=f"用户名：{account.username}" + ("（已锁定）" if locked else ""),
        )
        return None
    account.failed_logins, account.locked_until = 0, None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = utcnow()
    audit.record(
        "login.success",
        object_type="account",
        object_id=account.id,
        summary=str(account),
        actor=audit.Actor(account.id, account.username, audit.current_actor().ip),
    )
    return account


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
