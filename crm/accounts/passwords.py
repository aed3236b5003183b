"""The password policy, a setting: what 等保 2.0 assessors expect, or OWASP ASVS's.

- "dengbao" (the default): at least 8 characters of at least 3 kinds (lower case, upper case,
  digits, symbols), changed every 90 days, none of the last 3, none from the common list.
- "asvs": at least 12 characters, no composition rule, no expiry; the common list still holds.
"""

import string
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from flask import current_app

POLICIES = ("dengbao", "asvs")
MAX_LENGTH = 128


class PasswordPolicyError(ValueError):
    """The password breaks the policy; the message is Chinese and says what to change."""


def policy() -> str:
    chosen = current_app.config["PASSWORD_POLICY"]
    if chosen not in POLICIES:
        raise ValueError(f"CRM_PASSWORD_POLICY must be one of {POLICIES}, not {chosen!r}")
    return chosen


def check(password: str, *, username: str = "") -> None:
    """Raise PasswordPolicyError when the password may not be used."""
    least = 12 if policy() == "asvs" else 8
    if len(password) < least:
        raise PasswordPolicyError(f"密码至少需要 {least} 位。")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"密码不能超过 {MAX_LENGTH} 位。")
    if policy() == "dengbao" and kinds(password) < 3:
        raise PasswordPolicyError("密码需包含大写字母、小写字母、数字、符号中的至少三种。")
    if password.lower() in common() or (username and username.lower() in password.lower()):
        raise PasswordPolicyError("这个密码太常见或包含用户名，容易被猜中，请换一个。")


def kinds(password: str) -> int:
    groups = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    found = sum(any(c in group for c in password) for group in groups)
    return found + any(not c.isalnum() for c in password)


def history_size() -> int:
    """How many earlier passwords may not be used again (0: none remembered)."""
    return current_app.config["PASSWORD_HISTORY"] if policy() == "dengbao" else 0


def expired(changed_at: datetime | None, now: datetime) -> bool:
    """Whether a password set at `changed_at` must be changed before going on."""
    if policy() != "dengbao" or changed_at is None:
        return False
    return now - changed_at > timedelta(days=current_app.config["PASSWORD_MAX_AGE_DAYS"])


@cache
def common() -> frozenset[str]:
    lines = (
        (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8").splitlines()
    )
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )
