"""Every view declares who may use it: `@allow(Role.ADMIN, ...)` or `@public`.

The application refuses to start with a view that declares nothing, so a new
feature cannot ship an unguarded page by forgetting.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_login import current_user

from crm.core.roles import Role
from crm.extensions import login_manager

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "allowed_roles"
PUBLIC = "public"
SIGNED_IN = "signed-in"


class UndeclaredAccessError(RuntimeError):
    """A view was registered without @allow or @public."""


def allow(*roles: Role) -> Callable[[View], View]:
    """Let signed-in accounts holding any of `roles` use the view; others get 403."""
    if not roles:
        raise ValueError("allow() needs at least one role; use signed_in for any account")
    allowed = frozenset(roles)

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*allowed):
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, allowed)
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in(view: View) -> View:
    """Let any signed-in account use the view (it narrows what each one sees itself)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    setattr(guarded, ACCESS_ATTRIBUTE, SIGNED_IN)
    return guarded  # type: ignore[return-value]


def public(view: View) -> View:
    """Mark a view as open to everyone, signed in or not."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def declared_access(view: Callable[..., Any]) -> frozenset[Role] | str | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)


def require_declared_access(app: Flask) -> None:
    """Raise UndeclaredAccessError naming every endpoint whose view declares no access."""
    undeclared = sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and declared_access(view) is None
    )
    if undeclared:
        raise UndeclaredAccessError(f"views without declared access: {', '.join(undeclared)}")
