"""Filters and globals every template may use."""

from datetime import date, datetime

from flask import Flask

from crm.accounts.models import Role
from crm.clock import LOCAL_TIME
from crm.privacy.masking import mask_phone, phone_for_viewer


def local_datetime(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def iso_date(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        phone=phone_for_viewer, masked=mask_phone, local_datetime=local_datetime, day=iso_date
    )
    app.jinja_env.globals.update(Role=Role)
