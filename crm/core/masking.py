"""Masking a phone number (138****1234), and who sees numbers whole. Depends on no other
package, so the audit log and the templates can use it."""

from flask_login import current_user


def mask_phone(phone: str | None) -> str:
    """138****1234: the middle four digits hidden."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def sees_whole_numbers(account) -> bool:
    """Admins see numbers whole; everyone else sees them masked unless they reveal one."""
    return bool(account.is_authenticated and account.is_admin)


def phone_for_viewer(phone: str | None) -> str:
    """The number as the signed-in user may see it: whole for admins, masked for others."""
    return (phone or "") if sees_whole_numbers(current_user) else mask_phone(phone)


def unmasked(posted: str | None, stored: str | None) -> str | None:
    """A number posted back from a form that showed it masked: left as it was, the stored one."""
    return stored if stored and posted == mask_phone(stored) else posted
