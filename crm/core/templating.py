"""Filters and globals every template may use."""

from datetime import date, datetime

from flask import Flask
from flask_login import current_user

from crm.accounts.models import Role
from crm.clock import LOCAL_TIME


def mask_phone(phone: str | None) -> str:
    """138****1234: the middle four digits hidden."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def phone_for_viewer(phone: str | None) -> str:
    """The number as the signed-in user may see it: whole for admins, masked for others."""
    if current_user.is_authenticated and current_user.is_admin:
        return phone or ""
    return mask_phone(phone)


def local_datetime(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def iso_date(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        phone=phone_for_viewer, masked=mask_phone, local_datetime=local_datetime, day=iso_date
    )
    app.jinja_env.globals.update(Role=Role)
