"""Role checks for pages and the API, and object-level provider scoping."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g, request
from flask_login import AnonymousUserMixin, current_user

from catalog.extensions import login_manager


def api_user():
    """The user behind the request: a bearer-token user on /api/, else the session user."""
    if request.path.startswith("/api/"):
        # The API is CSRF-exempt, so it must never act on a browser's session cookie.
        return g.get("api_user") or AnonymousUserMixin()
    return current_user


def roles_required(*roles: str) -> Callable:
    """Allow only signed-in users whose role is one of `roles` (admin may do what staff may)."""
    allowed = set(roles)
    if "staff" in allowed:
        allowed.add("admin")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if not user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401, "A valid API token is required (Authorization: Bearer ...).")
                return login_manager.unauthorized()
            if user.role not in allowed:
                abort(403, "Your account is not allowed to do this.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)  # read by the access-table test
        return wrapped

    return decorator


def check_provider_access(provider_id: int) -> None:
    """A provider user may touch only its own provider's objects; staff may touch all."""
    user = api_user()
    if not user.is_authenticated:
        abort(404)
    if user.is_staff:
        return
    if user.role == "provider" and user.provider_id == provider_id:
        return
    abort(404)
