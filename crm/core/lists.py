"""Search, filter and paginate the list pages the same way everywhere."""

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from crm.extensions import db


def search_text() -> str:
    return request.args.get("q", "", type=str).strip()[:50]


def like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(statement: Select) -> Pagination:
    return db.paginate(
        statement,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        max_per_page=current_app.config["PAGE_SIZE"],
    )
