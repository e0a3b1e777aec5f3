"""Accounts: the password policy and API tokens (random, shown once, stored as SHA-256, revocable)."""

from __future__ import annotations

import hashlib
import secrets

from flask import abort, g, request
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import ApiToken, User
from catalog.services.passwords import password_problem

__all__ = ["authenticate_request", "hash_token", "issue_token", "password_problem"]

TOKEN_PREFIX = "pc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the plain token (never stored)."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, prefix=plain[:10], token_hash=hash_token(plain))
    session.add(row)
    session.flush()
    return row, plain


def authenticate_request() -> None:
    """Resolve `Authorization: Bearer ...` into g.api_user; a bad token is a 401."""
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, "Use 'Authorization: Bearer <token>'.")
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    )
    if row is None or not row.active or not row.user.active:
        abort(401, "The API token is unknown or revoked.")
    g.api_user = row.user
