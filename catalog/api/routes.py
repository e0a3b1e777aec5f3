"""JSON API v1 (token in `Authorization: Bearer ...`)."""

from __future__ import annotations

from catalog.api import bp
from catalog.api.tokens import authenticate_request


@bp.before_request
def _authenticate() -> None:
    authenticate_request()
