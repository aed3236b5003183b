"""Filters and globals every template may use."""

import hashlib
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from flask import Flask

from crm.clock import LOCAL_TIME
from crm.core.forms import errors_in
from crm.core.lists import PAGE_SIZES
from crm.core.masking import mask_phone, phone_for_viewer
from crm.core.navigation import sections
from crm.core.roles import Role
from crm.version import __version__


def local_datetime(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def percent(value: float | None) -> str:
    """A share as the pages, the PDFs and the spreadsheets all write it: 0.375 → 38%; — for
    a share of nothing (no branch, no problem)."""
    return "—" if value is None else f"{value * 100:.0f}%"


def figure(value: float) -> str:
    """A count that may be fractional (branch-days shared by a weight): 12 → 12, 12.25 → 12.3."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def iso_date(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        phone=phone_for_viewer,
        masked=mask_phone,
        local_datetime=local_datetime,
        day=iso_date,
        percent=percent,
        figure=figure,
    )
    app.jinja_env.globals.update(
        Role=Role,
        errors_in=errors_in,
        menu_sections=sections,
        PAGE_SIZES=PAGE_SIZES,
        app_version=__version__,
    )

    @app.url_defaults
    def static_version(endpoint: str, values: dict) -> None:
        """Static files are addressed by their content (`?v=`), so a phone's kept copy and a
        proxy's cache are never older than the page that asks for them."""
        if endpoint == "static" and "filename" in values and "v" not in values:
            path = Path(app.static_folder or "", values["filename"])
            if path.is_file():
                values["v"] = _version(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _version(path: str, modified: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
