from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.roles import Role
from crm.db import Audited, TimestampMixin, as_utc, utcnow
from crm.extensions import db

# 三权分立: the system admin runs the work, the security admin keeps accounts, roles and
# policies, the auditor reads the audit log. No account holds two of them, and these roles are
# granted and removed only on the server's command line (`flask accounts grant/revoke`), so no
# one of the three can make themselves, or anyone, another (docs/security.md).
SEPARATED_DUTIES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
PRIVILEGED = SEPARATED_DUTIES
UNUSABLE = "!"  # the start of a password hash no password matches: an account not opened yet


class Account(UserMixin, Audited, TimestampMixin, db.Model):
    """账号: a person who signs in, holding one or more roles.

    A reviewer with `scope_district_id` set sees only that district.
    """

    __tablename__ = "account"
    __audit_masked__ = frozenset({"password_hash", "totp_secret"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    scope_district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("district.id"))
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Raised to end every session of the account at once: sign-out, a new password, an admin.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The TOTP second factor (RFC 6238): the shared secret once enrolled, and the last time
    # step accepted, so a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))  # sealed: crm.core.keys
    totp_last_step: Mapped[int | None]
    # A password set by someone else (the security admin, a command) is temporary: its owner
    # chooses their own at the next sign-in, before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Asked by the instructors' records when an instructor leaves (离岗): the security admin
    # decides, and disabling the account clears it. Nothing outside the account pages enables.
    disable_requested_at: Mapped[datetime | None]

    role_rows: Mapped[list["AccountRole"]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )
    scope_district: Mapped["District | None"] = relationship()  # type: ignore[name-defined]  # noqa: F821

    def __repr__(self) -> str:
        return f"<Account {self.username}>"

    def __str__(self) -> str:
        return f"{self.name}（{self.username}）"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive accounts
        return self.active

    @property
    def is_locked(self) -> bool:
        """Locked after too many failed sign-ins, until the time runs out or it is unlocked."""
        return self.locked_until is not None and as_utc(self.locked_until) > utcnow()

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def awaiting_opening(self) -> bool:
        """Made with an instructor's record or an import: no password yet, which only the
        security admin (or a command) sets (待开通)."""
        return self.password_hash.startswith(UNUSABLE)

    @property
    def is_privileged(self) -> bool:
        """Holds one of the three separated duties: its roles and credentials change only on
        the server's command line."""
        return not self.roles.isdisjoint(PRIVILEGED)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_city_reviewer(self) -> bool:
        return Role.REVIEWER in self.roles and self.scope_district_id is None

    @property
    def sees_everything(self) -> bool:
        """Admins and city-wide reviewers read every branch, instructor and organization."""
        return self.is_admin or self.is_city_reviewer


class AccountRole(Audited, db.Model):
    """账号角色: one role held by an account."""

    __tablename__ = "account_role"

    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(primary_key=True)

    account: Mapped[Account] = relationship(back_populates="role_rows")

    def __str__(self) -> str:
        return (
            f"{self.role.label}角色（{self.account.username if self.account else self.account_id}）"
        )


class PasswordHistory(db.Model):
    """Hashes of an account's earlier passwords, so the policy can refuse the last few."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInFailure(db.Model):
    """Failed sign-ins to one account from one address since its last success there: after
    LOCKOUT_FAILURES that address is locked out of the account for LOCKOUT_MINUTES, while its
    owner, elsewhere, still signs in. The whole account locks only after
    LOCKOUT_ACCOUNT_FAILURES from any addresses (Account.failed_logins)."""

    __tablename__ = "sign_in_failure"

    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and as_utc(self.locked_until) > utcnow()
