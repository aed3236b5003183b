"""The TOTP second factor (RFC 6238, any authenticator app): enrolment and codes.

Required of the roles in the setting TOTP_REQUIRED_ROLES (system admins, security admins and
auditors by default), optional for everyone else. A code is accepted once: the time step it
matched is kept, and a code of that step or an earlier one is refused afterwards.
"""

import time

import pyotp
from flask import current_app

from crm.accounts.models import Account, Role
from crm.core import keys

ISSUER = "两新党建指导员工作台"
STEP_SECONDS = 30


def required(account: Account) -> bool:
    wanted = {Role(value) for value in current_app.config["TOTP_REQUIRED_ROLES"]}
    return account.has_role(*wanted)


def wanted(account: Account) -> bool:
    """Must this account give a code at sign-in (or enrol first)?"""
    return account.totp_secret is not None or required(account)


def new_secret() -> str:
    return pyotp.random_base32()


def sealed(secret: str) -> str:
    """A secret as stored: encrypted under the key outside the database (crm.core.keys), so a
    copy of the database cannot make codes."""
    return keys.seal("totp", secret)


def secret_of(account: Account) -> str:
    """The account's secret in clear, for checking a code; "" when it has none (or it was
    sealed under a key this server does not hold: no code then matches)."""
    try:
        return keys.unseal("totp", account.totp_secret) if account.totp_secret else ""
    except ValueError:
        return ""


def setup_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=ISSUER)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step whose code this is (this one or its neighbours, for clock drift)."""
    code = "".join(code.split())
    if not secret or not (code.isdigit() and len(code) == 6):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        step = int(now // STEP_SECONDS) + offset
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
