"""What kind of answer a request wants."""

from flask import flash, jsonify, redirect, request


def wants_json() -> bool:
    """True for the phone's outbox and other scripts, which ask for JSON explicitly."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and "text/html" not in request.accept_mimetypes.values()


def answer_saved(detail_url: str, next_url: str, message: str):
    """The answer to a record saved from a phone's form, the same for its first sending and
    any repeat: 201 with where it lives for the outbox script, else a message and a redirect."""
    if wants_json():
        return jsonify(url=detail_url), 201
    flash(message, "success")
    return redirect(next_url, 303)
