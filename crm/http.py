"""What kind of answer a request wants."""

from flask import request


def wants_json() -> bool:
    """True for the phone's outbox and other scripts, which ask for JSON explicitly."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and "text/html" not in request.accept_mimetypes.values()
