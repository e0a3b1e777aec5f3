"""JSON API v1 (token in `Authorization: Bearer ...`)."""

from __future__ import annotations

from flask import jsonify

from catalog.api import bp
from catalog.api.auth import authenticate_request, record_token_use
from catalog.permissions import api_user, roles_required


@bp.before_request
def _authenticate() -> None:
    authenticate_request()


bp.after_request(record_token_use)


@bp.get("/me")
@roles_required("provider", "staff", "admin")
def me():
    """Who the token belongs to: lets a client check its token before sending a catalog."""
    user = api_user()
    return jsonify(
        {
            "email": user.email,
            "role": user.role,
            "provider": user.provider.slug if user.provider else None,
        }
    )
