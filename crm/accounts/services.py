"""Accounts: creating them, their roles, passwords and sign-in."""

import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import selectinload

from crm.accounts import passwords, second_factor
from crm.accounts.models import (
    PRIVILEGED,
    SEPARATED_DUTIES,
    UNUSABLE,
    Account,
    AccountRole,
    PasswordHistory,
    Role,
    SignInFailure,
)
from crm.audit import services as audit
from crm.core import keys
from crm.core.lists import contains
from crm.db import as_utc, utcnow
from crm.extensions import db
from crm.rules import RuleError


@cache
def _hasher_with(parameters: tuple[tuple[str, int], ...]) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


def _hasher() -> PasswordHasher:
    """argon2id with PASSWORD_HASHING's parameters: the library's current ones unless set
    (the tests set cheap ones, except the tests of hashing)."""
    return _hasher_with(tuple(sorted(current_app.config["PASSWORD_HASHING"].items())))


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the username is unknown, so both failures take the same time."""
    return hasher.hash("not a password of anyone")


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
    return _hasher().hash(password)


def check_roles(roles: Iterable[Role]) -> frozenset[Role]:
    """三权分立: an account holds at most one of system admin, security admin and auditor, and
    a security admin or an auditor holds no other role. Raises RoleConflictError."""
    chosen = frozenset(roles)
    if not chosen:
        raise RoleConflictError("请至少选择一个角色。")
    if len(duties := chosen & SEPARATED_DUTIES) > 1:
        names = "、".join(role.label for role in sorted(duties))
        raise RoleConflictError(f"三权分立：{names}不能由同一个账号担任。")
    for lone in (Role.SECURITY_ADMIN, Role.AUDITOR):
        if lone in chosen and len(chosen) > 1:
            raise RoleConflictError(f"{lone.label}不能同时担任其他角色。")
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


OWN = "不能在账号管理页面修改自己的账号：请另一位安全管理员操作，或在服务器命令行操作。"
ON_THE_COMMAND_LINE = (
    "管理员、安全管理员、审计员角色只能在服务器命令行授予或收回"
    "（flask --app wsgi accounts grant / revoke），以免任何一方自行扩大权限。"
)


def set_roles(
    account: Account,
    roles: Iterable[Role],
    scope_district_id: int | None = None,
    *,
    by: Account | None = None,
) -> Account:
    """Replace the account's roles (a reviewer's district with them: None is the whole city),
    audited as who changed whose roles from what to what. From the account pages (`by`): never
    one's own account, and never a privileged role granted or removed (the command line's, with
    `by` None). Raises RoleConflictError or AccountError."""
    chosen = check_roles(roles)
    before, scope_before = account.roles, account.scope_district_id
    if by is not None and by.id == account.id:
        raise AccountError(OWN, "roles")
    if by is not None and (chosen ^ before) & PRIVILEGED:
        raise AccountError(ON_THE_COMMAND_LINE, "roles")
    account.scope_district_id = scope_district_id if Role.REVIEWER in chosen else None
    for row in [row for row in account.role_rows if row.role not in chosen]:
        account.role_rows.remove(row)
    for role in sorted(chosen - account.roles):
        account.role_rows.append(AccountRole(role=role))
    db.session.flush()
    if before != chosen or scope_before != account.scope_district_id:
        audit.record(
            "account.roles",
            object_type="account",
            object_id=account.id,
            summary=f"{account} 的角色：{_labels(before)} → {_labels(chosen)}"
            + ("" if scope_before == account.scope_district_id else "（审阅范围已变）"),
            changes={
                "roles": [_labels(before), _labels(chosen)],
                "scope_district_id": [scope_before, account.scope_district_id],
            },
        )
    return account


def _labels(roles: Iterable[Role]) -> str:
    return "、".join(role.label for role in sorted(roles)) or "无"


def check_may_change(account: Account, by: Account, what: str) -> None:
    """The account pages act on other people's accounts; a privileged account's credentials
    (password, second factor) change only on the command line. Raises AccountError."""
    if by.id == account.id:
        raise AccountError(OWN)
    if account.is_privileged and what in ("password", "second-factor"):
        raise AccountError(
            f"{account.name}担任{_labels(account.roles & PRIVILEGED)}，其密码和动态口令只能在服务器"
            "命令行重置（flask --app wsgi accounts set-password / reset-second-factor）。"
        )


def set_password(account: Account, password: str, *, temporary: bool = False) -> Account:
    """Store a new password hash; raises WeakPasswordError for a password the policy refuses
    or one of the account's last few. A `temporary` one (set by someone else) must be replaced
    by its owner at the next sign-in."""
    new_hash = hash_password(password, username=account.username)
    remembered = passwords.history_size()
    if remembered:
        earlier = db.session.scalars(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.account_id == account.id)
            .order_by(PasswordHistory.id.desc())
            .limit(remembered - 1)
        ).all()
        if any(_verify(old, password) for old in [account.password_hash, *earlier]):
            raise WeakPasswordError(f"新密码不能与最近 {remembered} 次使用过的密码相同。")
    if not account.password_hash.startswith(UNUSABLE):
        db.session.add(PasswordHistory(account_id=account.id, password_hash=account.password_hash))
    account.password_hash = new_hash
    account.password_changed_at = utcnow()
    account.must_change_password = temporary
    account.failed_logins, account.locked_until = 0, None
    end_sessions(account)
    return account


def end_sessions(account: Account) -> None:
    """Every session of the account stops working at its next request."""
    account.session_version += 1
    db.session.flush()


def change_own_password(account: Account, current: str, new: str) -> Account:
    """The account holder's own change: the current password first (check_current)."""
    if locked_out(account) or not _verify(account.password_hash, current):
        raise AccountError("当前密码不正确。", "current")
    return set_password(account, new)


def check_current(account: Account, current: str) -> bool:
    """The current password asked before a change, guarded like a sign-in: a wrong one counts
    toward the lockout, and a lockout ends every session, so a stolen session cannot guess
    without limit. The caller commits, whatever the answer."""
    right = _verify(account.password_hash, current)
    if right and not locked_out(account):
        return True
    _failed(account, "修改密码时当前密码错误")
    if locked_out(account):
        end_sessions(account)
    return False


def password_expired(account: Account) -> bool:
    return passwords.expired(as_utc(account.password_changed_at), utcnow())


def needs_new_password(account: Account) -> bool:
    """Before anything else: an expired password, or a temporary one someone else set."""
    return account.must_change_password or password_expired(account)


def unusable_password() -> str:
    """The hash of an account not opened yet: nothing signs in with it."""
    return UNUSABLE + "unopened-" + secrets.token_hex(8)


def authenticate(username: str, password: str) -> Account | None:
    """Return the active account these credentials open, else None; both outcomes are logged.

    An unknown username costs the same hash check as a wrong password. When the account
    must also give a TOTP code, the sign-in is complete only after check_code().
    """
    account = find_by_username(username)
    if account is None or not account.active:
        _verify(_dummy_hash(_hasher()), password)
        audit.record("login.failure", summary=f"用户名：{username[:64]}")
        return None
    # The hash is checked on every path, a locked account's too: every refusal takes the same
    # time, so timing tells no one which usernames exist or are locked.
    right = _verify(account.password_hash, password)
    if locked_out(account) or not right:
        _failed(account, "密码错误")
        return None
    if _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = _hasher().hash(password)
    if second_factor.wanted(account):
        audit.record(
            "login.password",
            object_type="account",
            object_id=account.id,
            summary=f"{account} 密码正确，待验证动态口令",
            actor=_as(account),
        )
    else:
        _succeeded(account)
    return account


def check_code(account: Account, code: str) -> bool:
    """The second step of signing in: a TOTP code of the account's secret, not used before.
    A wrong code counts toward the lockout like a wrong password."""
    step = second_factor.matching_step(second_factor.secret_of(account), code)
    used = (
        account.totp_last_step is not None and step is not None and step <= account.totp_last_step
    )
    if locked_out(account) or step is None or used:
        _failed(account, "动态口令错误")
        return False
    account.totp_last_step = step
    if not keys.is_sealed(account.totp_secret):  # enrolled before secrets were sealed
        account.totp_secret = second_factor.sealed(second_factor.secret_of(account))
    _succeeded(account)
    return True


def enrol_second_factor(account: Account, secret: str, code: str) -> Account:
    """Keep the secret an authenticator app was given, once it shows a code of it."""
    step = second_factor.matching_step(secret, code)
    if step is None:
        raise AccountError(
            "动态口令不正确：请核对手机上的 6 位数字后重试（注意手机时间是否准确）。", "code"
        )
    account.totp_secret, account.totp_last_step = second_factor.sealed(secret), step
    audit.record(
        "account.totp_enrolled",
        object_type="account",
        object_id=account.id,
        summary=f"{account} 绑定了动态口令",
        actor=_as(account),
    )
    return account


def seal_secrets() -> int:
    """Seal every second-factor secret still stored in clear; returns how many."""
    clear = [
        a
        for a in db.session.scalars(select(Account).where(Account.totp_secret.is_not(None)))
        if not keys.is_sealed(a.totp_secret)
    ]
    for account in clear:
        account.totp_secret = second_factor.sealed(account.totp_secret)
    if clear:
        audit.record("account.secrets_sealed", summary=f"加密 {len(clear)} 个动态口令密钥")
    return len(clear)


def reset_second_factor(account: Account) -> Account:
    """A lost phone: the account enrols again at its next sign-in; its sessions end."""
    account.totp_secret, account.totp_last_step = None, None
    end_sessions(account)
    return account


def set_active(account: Account, active: bool) -> Account:
    """Disable or enable an account; disabling ends its sessions at once and answers a request
    to disable it."""
    account.active = active
    if not active:
        account.disable_requested_at = None
        end_sessions(account)
    return account


def request_disable(account: Account, why: str) -> None:
    """Ask the security admin to disable an account (an instructor left); never disables or
    enables by itself. Audited; the accounts page lists what is asked."""
    if not account.active or account.disable_requested_at is not None:
        return
    account.disable_requested_at = utcnow()
    audit.record(
        "account.disable_requested",
        object_type="account",
        object_id=account.id,
        summary=f"{why}：请安全管理员停用账号 {account.username}",
    )


def unlock(account: Account) -> Account:
    """The security admin lifts every lock on the account, of every address."""
    account.failed_logins, account.locked_until = 0, None
    db.session.execute(delete(SignInFailure).where(SignInFailure.account_id == account.id))
    return account


STATES = {"disable_requested": "离岗待停用", "awaiting": "待开通", "disabled": "已停用"}


def listing(text: str = "", role: str = "", state: str = "") -> Select:
    """Accounts by username, matching a name or username, holding a role and in a state
    (STATES), when given."""
    statement = (
        select(Account)
        .options(selectinload(Account.role_rows), selectinload(Account.scope_district))
        .order_by(Account.username)
    )
    if text:
        statement = statement.where(contains(Account.username, text) | contains(Account.name, text))
    if (chosen := Role.parse(role)) is not None:
        statement = statement.where(Account.role_rows.any(AccountRole.role == chosen))
    if state == "disable_requested":
        statement = statement.where(Account.disable_requested_at.is_not(None), Account.active)
    elif state == "awaiting":
        statement = statement.where(Account.password_hash.startswith(UNUSABLE))
    elif state == "disabled":
        statement = statement.where(~Account.active)
    return statement


def disable_requests() -> int:
    """Accounts whose instructor left and that can still sign in."""
    return db.session.scalar(
        select(func.count()).select_from(
            listing(state="disable_requested").order_by(None).subquery()
        )
    )


def policy_summary() -> list[tuple[str, str]]:
    """The security policies in force (settings), as the security admin's page shows them."""
    config = current_app.config
    required = "、".join(Role(value).label for value in config["TOTP_REQUIRED_ROLES"]) or "无"
    return [
        (
            "密码策略",
            "等保 2.0：至少 8 位、3 类字符"
            if passwords.policy() == "dengbao"
            else "OWASP ASVS：至少 12 位，不限字符组成",
        ),
        (
            "密码有效期",
            f"{config['PASSWORD_MAX_AGE_DAYS']} 天" if passwords.policy() == "dengbao" else "不限",
        ),
        ("不得重复使用", f"最近 {passwords.history_size()} 次的密码"),
        (
            "登录失败锁定",
            f"同一地址连续 {config['LOCKOUT_FAILURES']} 次失败，该地址锁定 {config['LOCKOUT_MINUTES']} 分钟；"
            f"各地址累计 {config['LOCKOUT_ACCOUNT_FAILURES']} 次，整个账号锁定",
        ),
        (
            "会话",
            f"闲置 {config['SESSION_IDLE_MINUTES']} 分钟或登录 {config['SESSION_MAX_HOURS']} 小时后失效",
        ),
        ("必须使用动态口令", required),
        ("登录频率限制", config["LOGIN_RATE_LIMIT"]),
    ]


def _address() -> str:
    return (audit.current_actor().ip or "-")[:64]


def _failures_here(account: Account) -> SignInFailure | None:
    return db.session.get(SignInFailure, (account.id, _address()))


def locked_out(account: Account) -> bool:
    """Locked for this request: the whole account, or this address's attempts at it."""
    here = _failures_here(account)
    return account.is_locked or (here is not None and here.is_locked)


def _failed(account: Account, why: str) -> None:
    """A failed attempt, counted for this address and for the account: LOCKOUT_FAILURES in a
    row lock this address out of the account (anyone can do that to an address of their own,
    not to its owner elsewhere); LOCKOUT_ACCOUNT_FAILURES from anywhere lock the account. An
    attempt while locked is refused without counting."""
    config = current_app.config
    minutes = config["LOCKOUT_MINUTES"]
    here = _failures_here(account) or SignInFailure(
        account_id=account.id, address=_address(), failures=0
    )
    locked = locked_out(account)
    if not locked:
        db.session.add(here)
        here.failures += 1
        account.failed_logins += 1
        if here.failures >= config["LOCKOUT_FAILURES"]:
            here.locked_until, here.failures = utcnow() + timedelta(minutes=minutes), 0
            audit.record(
                "account.locked_here",
                object_type="account",
                object_id=account.id,
                summary=f"{account.username} 自 {here.address} 连续登录失败，该地址锁定 {minutes} 分钟",
            )
        if account.failed_logins >= config["LOCKOUT_ACCOUNT_FAILURES"]:
            account.locked_until = utcnow() + timedelta(minutes=minutes)
            account.failed_logins = 0
            audit.record(
                "account.locked",
                object_type="account",
                object_id=account.id,
                summary=f"{account.username} 自多个地址登录失败，账号锁定 {minutes} 分钟",
            )
    audit.record(
        "login.failure",
        object_type="account",
        object_id=account.id,
        summary=f"用户名：{account.username}，{why}" + ("（已锁定）" if locked else ""),
    )


def _succeeded(account: Account) -> None:
    account.failed_logins, account.locked_until = 0, None
    if (here := _failures_here(account)) is not None:
        db.session.delete(here)
    account.last_login_at = utcnow()
    audit.record(
        "login.success",
        object_type="account",
        object_id=account.id,
        summary=str(account),
        actor=_as(account),
    )


def _as(account: Account) -> audit.Actor:
    """The account about to be signed in, as the actor of its own sign-in entries."""
    return audit.Actor(account.id, account.username, audit.current_actor().ip)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
