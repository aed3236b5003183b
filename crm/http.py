"""What kind of answer a request wants, and answers that are files."""

from urllib.parse import quote

from flask import Response, flash, jsonify, make_response, redirect, request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def named_file(response: Response | bytes, filename: str, mimetype: str | None = None, *,
               inline: bool = False) -> Response:  # fmt: skip
    """A file answer under its Chinese name, kept out of shared caches."""
    if isinstance(response, bytes):
        response = make_response(response)
    if mimetype:
        response.mimetype = mimetype
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.cache_control.private = True
    return response
