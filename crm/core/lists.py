"""Search, filter and paginate the list pages the same way everywhere."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select

from crm.extensions import db
from crm.http import whole_number

PAGE_SIZES = (20, 50, 100)  # what a list offers as 每页 N 条


def page_size() -> int:
    """Rows a page: the size the user chose of PAGE_SIZES, else the configured PAGE_SIZE."""
    asked = request.args.get("per_page", type=whole_number)
    return asked if asked in PAGE_SIZES else current_app.config["PAGE_SIZE"]


@dataclass(frozen=True)
class Sorting:
    """The column a list is sorted by, as the user chose it by clicking its header."""

    key: str
    descending: bool
    labels: Mapping[str, str]  # the sortable columns: key → header


def sorted_list(
    statement: Select,
    columns: Mapping[str, tuple[str, ColumnElement]],
    default: str,
    *,
    tiebreak: ColumnElement,
    newest_first: bool = False,
) -> tuple[Select, Sorting]:
    """The statement ordered by the column the request names (`sort`, `order=desc`), one of
    `columns` (key → (header, column)), else by `default` (going down when `newest_first`);
    then by `tiebreak`, so that pages never share or skip a row."""
    key = request.args.get("sort", default)
    key = key if key in columns else default
    order = request.args.get("order")
    descending = order == "desc" if order else (newest_first and key == default)
    column = columns[key][1]
    ordered = statement.order_by(None).order_by(
        column.desc() if descending else column.asc(), tiebreak
    )
    return ordered, Sorting(key, descending, {k: label for k, (label, _) in columns.items()})


def sorted_items(
    items: list, columns: Mapping[str, tuple[str, Callable[[Any], Any]]], default: str
) -> tuple[list, Sorting]:
    """sorted_list() for a list already in memory: `columns` maps key → (header, key function)."""
    key = request.args.get("sort", default)
    key = key if key in columns else default
    descending = request.args.get("order") == "desc"
    ordered = sorted(items, key=columns[key][1], reverse=descending)
    return ordered, Sorting(key, descending, {k: label for k, (label, _) in columns.items()})


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
        per_page=page_size(),
        error_out=False,
        max_per_page=max(*PAGE_SIZES, current_app.config["PAGE_SIZE"]),
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

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> Iterator[int | None]:
        """The page numbers to link, None for a gap: as Flask-SQLAlchemy's Pagination does."""
        shown = [
            n
            for n in range(1, self.pages + 1)
            if n <= left_edge
            or n > self.pages - right_edge
            or self.page - left_current <= n < self.page + right_current
        ]
        for before, n in zip([0, *shown], shown, strict=False):
            if n - before > 1:
                yield None
            yield n


def paginate_list(items: list) -> ListPage:
    """A page of a list already in memory, by the same page and size arguments as paginate()."""
    per_page = page_size()
    page = max(1, request.args.get("page", 1, type=whole_number))
    return ListPage(items, min(page, max(1, -(-len(items) // per_page))), per_page)
