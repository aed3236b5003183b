"""Search, filter and paginate the list pages the same way everywhere."""

from dataclasses import dataclass

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select

from crm.extensions import db
from crm.http import whole_number


def search_text() -> str:
    return request.args.get("q", "", type=str).strip()[:50]


def contains(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """The one text search of the list pages: `text` anywhere in the column, its own % and _
    taken literally (LIKE with an escape character, which SQLite has no default for)."""
    return column.contains(text, autoescape=True)


def paginate(statement: Select, total: int | None = None) -> Pagination:
    """A page of the statement's rows; `total`, when the caller has counted them already,
    saves counting them again."""
    page = db.paginate(
        statement,
        page=request.args.get("page", 1, type=whole_number),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        max_per_page=current_app.config["PAGE_SIZE"],
        count=total is None,
    )
    if total is not None:
        page.total = total
    return page


@dataclass
class ListPage:
    """One page of a list already in memory, with the attributes the pagination macro reads."""

    all_items: list
    page: int
    per_page: int

    @property
    def total(self) -> int:
        return len(self.all_items)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def items(self) -> list:
        start = (self.page - 1) * self.per_page
        return self.all_items[start : start + self.per_page]

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate_list(items: list, per_page: int = 100) -> ListPage:
    page = max(1, request.args.get("page", 1, type=whole_number))
    return ListPage(items, min(page, max(1, -(-len(items) // per_page))), per_page)
