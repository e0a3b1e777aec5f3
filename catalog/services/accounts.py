"""Accounts: the password policy and API tokens (random, shown once, stored as SHA-256, revocable)."""

from __future__ import annotations

import hashlib
import secrets

from flask import abort, g, request
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import ApiToken, User

COMMON_PASSWORDS = {"password", "password1", "123456789", "1234567890", "qwertyuiop", "letmein123"}


def password_problem(password: str, email: str) -> str | None:
    """Why a password is too weak, or None."""
    if len(password) < 10:
        return "must be at least 10 characters long"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "is too easy to guess"
    if email and password.lower() == email.lower():
        return "must not be the email address"
    return None


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
