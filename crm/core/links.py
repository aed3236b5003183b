"""Personal links for people without an account (a branch secretary confirming deeds, rating
their instructor): an unguessable token, shown once when issued, of which only the hash is
kept. Each use expires, is used once and can be revoked; the pages that open one are
rate-limited per address (crm.core.security.link_rate), so no token is found by trying."""

import hashlib
import secrets

from crm.rules import RuleError


class LinkError(RuleError):
    """A link that cannot be used, and why, for the person holding it; `status`: 404 for a
    link that never was, 410 for one that was and is no more."""

    status = 410

    @classmethod
    def unknown(cls, message: str) -> "LinkError":
        error = cls(message)
        error.status = 404
        return error


def new_token() -> tuple[str, str]:
    """A fresh token (43 characters, 256 random bits) and the hash to keep of it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
