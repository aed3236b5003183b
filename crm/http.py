"""What kind of answer a request wants, and answers that are files."""

from urllib.parse import quote, urlsplit

from flask import Response, abort, flash, jsonify, make_response, redirect, request
from werkzeug.routing import IntegerConverter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DB_INT_MAX = 2**31 - 1  # the largest value of an INTEGER column (PostgreSQL's int4): every id


def whole_number(text: str) -> int:
    """A number a request names (an id, a page, a count) as a database column can hold it:
    0 to DB_INT_MAX. Anything else is ValueError, which `request.args.get(type=whole_number)`
    turns into "not given" and a form field's coerce into a message beside the field: a huge
    id is answered like any unknown one, never with an overflow."""
    value = int(text)
    if not 0 <= value <= DB_INT_MAX:
        raise ValueError(text)
    return value


def year_arg(default: int) -> int:
    """`?year=` of a card or a member's page: a year people keep records in, else 404."""
    year = request.args.get("year", default, type=whole_number)
    if not 1990 <= year <= 2100:
        abort(404)
    return year


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id too large for the database matches no route (404)."""

    def __init__(
        self,
        url_map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = DB_INT_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def wants_json() -> bool:
    """True for the phone's outbox and other scripts, which ask for JSON explicitly."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and "text/html" not in request.accept_mimetypes.values()


def wants_page_back() -> bool:
    """True when the phone's script sends a form that is on screen: a refusal then answers with
    the page, each message beside its field, so the form need not be sent again to show them."""
    return request.headers.get("X-Refused-As") == "page"


def answer_saved(detail_url: str, next_url: str, message: str):
    """The answer to a record saved from a phone's form, the same for its first sending and
    any repeat: 201 with where it lives for the outbox script, else a message and a redirect."""
    if wants_json():
        return jsonify(url=detail_url), 201
    flash(message, "success")
    return redirect(next_url, 303)


def named_file(
    response: Response | bytes, filename: str, mimetype: str | None = None, *, inline: bool = False
) -> Response:
    """A file answer under its Chinese name, kept out of shared caches."""
    if isinstance(response, bytes):
        response = make_response(response)
    if mimetype:
        response.mimetype = mimetype
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def local_target(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: never redirect off-site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
