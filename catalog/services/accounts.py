"""Accounts: the password policy and API tokens (random, shown once, stored as SHA-256, with an
expiry, their last use recorded, revocable by admins and by their owner)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from flask import abort, g, request
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from catalog.extensions import db
from catalog.models import ApiToken, User
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.errors import NotFound
from catalog.services.passwords import password_problem

__all__ = [
    "authenticate_request",
    "hash_token",
    "issue_token",
    "password_problem",
    "revoke_token",
    "token_expiry",
]

log = logging.getLogger(__name__)
DEFAULT_TOKEN_DAYS = 365
# last_used_at is written at most this often per token: one UPDATE an hour, not one a request
TOUCH_EVERY = dt.timedelta(hours=1)

TOKEN_PREFIX = "pc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_expiry(days: int | float | None = None) -> dt.datetime:
    """When a token made now expires: `days` from now (API_TOKEN_DAYS, default 365)."""
    return utcnow() + dt.timedelta(days=DEFAULT_TOKEN_DAYS if days is None else days)


def issue_token(
    session, user: User, name: str = "", expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the plain token (never stored). Every
    token expires: at `expires_at`, else after the default lifetime."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name,
        prefix=plain[:10],
        token_hash=hash_token(plain),
        expires_at=expires_at or token_expiry(),
    )
    session.add(row)
    session.flush()
    return row, plain


def revoke_token(session, actor: User, token_id: int) -> ApiToken:
    """Revoke a token: an admin any token, anybody else only their own (another's is NotFound).
    Idempotent; audited."""
    row = session.get(ApiToken, token_id)
    if row is None or not (actor.is_admin or row.user_id == actor.id):
        raise NotFound("There is no such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            action="token-revoke",
            entity_type="token",
            entity_id=row.id,
            user=actor,
            before={"active": True},
            after={"active": False, "prefix": row.prefix},
        )
        session.flush()
    return row


def _touch(engine, token_hash: str) -> None:
    """Record a token's use, at most once per TOUCH_EVERY, in its own short transaction on its
    own connection, before the request's session reads anything (so the session's snapshot and
    write lock are untouched). Most calls only read one indexed row."""
    now = utcnow()
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(ApiToken.id, ApiToken.last_used_at).where(ApiToken.token_hash == token_hash)
            ).first()
            if found is None or (
                found.last_used_at is not None and now - found.last_used_at < TOUCH_EVERY
            ):
                return
            conn.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == found.id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at < now - TOUCH_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )
            conn.commit()
    except SQLAlchemyError as exc:  # last use is a courtesy, never a reason to fail a call
        log.warning("could not record the token's last use: %s", exc)


def authenticate_request() -> None:
    """Resolve `Authorization: Bearer ...` into g.api_user; a bad token is a 401."""
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, "Use 'Authorization: Bearer <token>'.")
    token_hash = hash_token(token.strip())
    session = db.session()  # the request's Session itself (scoped_session has no in_transaction)
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        # Only when something shares the session across requests (tests holding one app
        # context): end its read snapshot so it sees the last-use write below.
        session.rollback()
    if not session.in_transaction():
        _touch(db.engine, token_hash)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if row is None or row.revoked_at is not None or not row.user.active:
        abort(401, "The API token is unknown or revoked.")
    if row.expired:
        abort(401, "The API token has expired: make a new one.")
    g.api_user = row.user
