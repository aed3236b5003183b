"""Accounts: creating them, their roles, passwords and sign-in."""

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from crm.accounts.models import Account, AccountRole, Role
from crm.audit import services as audit
from crm.db import utcnow
from crm.extensions import db
from crm.rules import RuleError

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

MIN_PASSWORD_LENGTH = 8


class AccountError(RuleError):
    """A rule about accounts was broken."""


class RoleConflictError(AccountError):
    field = "roles"


class UsernameTakenError(AccountError):
    field = "username"


class WeakPasswordError(AccountError):
    field = "password"


def hash_password(password: str) -> str:
    """Hash with argon2id; raises WeakPasswordError below the minimum length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 位。")
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
        password_hash=password_hash or hash_password(password),
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
    """Store a new password hash; raises WeakPasswordError."""
    account.password_hash = hash_password(password)
    db.session.flush()
    return account


def authenticate(username: str, password: str) -> Account | None:
    """Return the active account these credentials open, else None; both outcomes are logged.

    An unknown username costs the same hash check as a wrong password.
    """
    account = find_by_username(username)
    if account is None or not account.active:
        _verify(_DUMMY_HASH, password)
        audit.record("login.failure", summary=f"用户名：{username[:64]}")
        return None
    if not _verify(account.password_hash, password):
        audit.record(
            "login.failure",
            object_type="account",
            object_id=account.id,
            summary=f"用户名：{account.username}",
        )
        return None
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
