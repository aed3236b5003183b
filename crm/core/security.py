"""Web hardening: headers on every response, cookies marked Secure under TLS, the proxy in
front trusted only as far as configured, and the sign-in rate limit's store."""

import ipaddress

from flask import Flask, Response, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script or style anywhere: every page's script is static/js/app.js.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

# Keyed by the client's address (as the trusted proxy reports it); the store is the setting
# RATELIMIT_STORAGE_URI: memory:// for one server, a redis:// URI shared by several.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over TLS, or when configured so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


class TrustedProxyFix:
    """ProxyFix for requests that come from the proxy only: behind nginx the client's address
    and scheme come from its X-Forwarded-* headers, believed for exactly PROXY_COUNT proxies and
    only when the peer is one of TRUSTED_PROXIES; from anyone else the headers are dropped, so
    a forged X-Forwarded-For neither lands in the audit log nor passes the per-address limit."""

    FORWARDED = (
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_FORWARDED_PROTO",
        "HTTP_X_FORWARDED_HOST",
        "HTTP_X_FORWARDED_PORT",
        "HTTP_X_FORWARDED_PREFIX",
        "HTTP_FORWARDED",
    )

    def __init__(self, wsgi_app, hops: int, trusted: list[str]) -> None:
        self.direct = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        self.trusted = [ipaddress.ip_network(item, strict=False) for item in trusted]

    def __call__(self, environ, start_response):
        if self._from_proxy(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        for name in self.FORWARDED:
            environ.pop(name, None)
        return self.direct(environ, start_response)

    def _from_proxy(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)


def install(app: Flask) -> None:
    app.session_interface = SessionInterface()
    if hops := app.config["PROXY_COUNT"]:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, list(app.config["TRUSTED_PROXIES"]))  # type: ignore[method-assign]
    app.before_request(_refuse_nul)
    app.after_request(_harden)
    limiter.init_app(app)


def login_rate() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def link_rate() -> str:
    """Requests per address to the pages a personal link opens (crm.core.links)."""
    return current_app.config["LINK_RATE_LIMIT"]


def _refuse_nul() -> None:
    """No text anyone types holds a NUL character; PostgreSQL could not store one either."""
    posted = request.form.values() if request.method == "POST" else ()
    if any("\x00" in value for value in (*request.args.values(), *posted)):
        abort(400)


def _harden(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        # A page, a form's answer, JSON: it may hold personal data, so no cache keeps it (the
        # service worker's own store for offline use is its own, and unaffected). Static
        # files, photos and the worker script say their own.
        response.cache_control.private = True
        response.cache_control.no_store = True
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
