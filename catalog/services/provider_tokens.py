"""API tokens a provider user makes for itself (for `POST /api/v1/catalogs` from its own systems).

A provider sees, creates and revokes only its own tokens; the plain token is returned once and
only its hash is stored. Functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from catalog.models import ApiToken
from catalog.services import accounts
from catalog.services.errors import Invalid, NotFound

MAX_ACTIVE_TOKENS = 10


def list_tokens(session, user) -> list[ApiToken]:
    """The user's own tokens, newest first."""
    return session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def create_token(session, user, name: str, expires_at: dt.datetime | None = None) -> tuple:
    """Make a token for the signed-in provider user; returns (row, plain token shown once)."""
    active = [t for t in list_tokens(session, user) if t.active]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise Invalid(
            f"You already have {MAX_ACTIVE_TOKENS} active tokens: revoke one you no longer use.",
            [{"field": "name", "message": "too many active tokens"}],
        )
    return accounts.create_token(
        session, user, name, expires_at, user, note="Created by the provider user for itself"
    )


def revoke_token(session, user, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another user's id is NotFound); idempotent."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("There is no such token.")
    return accounts.revoke_token(session, user, token_id)
