"""API authentication at the request boundary: the bearer token resolved into g.api_user (a bad,
revoked or expired token is a 401), and the token's last use recorded after a successful answer."""

from __future__ import annotations

import logging

from flask import abort, g, request
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from catalog.db import SQLITE_BUSY_TIMEOUT_MS, reset_write_intent, set_write_intent
from catalog.extensions import db
from catalog.models import ApiToken
from catalog.models.types import utcnow
from catalog.services.accounts import TOUCH_EVERY, hash_token

log = logging.getLogger(__name__)


def _touch(engine, token_id: int) -> None:
    """Write a token's last use on its own connection, in a transaction that never waits: a
    deferred one on SQLite with a 50 ms busy timeout, a 100 ms lock timeout on PostgreSQL. When
    another writer holds the lock (a big import), the write is skipped and the next call tries
    again; the request itself is never held up by it."""
    now = utcnow()
    intent = set_write_intent(False)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.dbapi_connection
            if sqlite:  # on the driver connection itself: no SQLAlchemy autobegin
                raw.execute("PRAGMA busy_timeout = 50")
            try:
                with conn.begin():
                    if not sqlite:
                        conn.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
                    conn.execute(
                        update(ApiToken)
                        .where(
                            ApiToken.id == token_id,
                            or_(
                                ApiToken.last_used_at.is_(None),
                                ApiToken.last_used_at < now - TOUCH_EVERY,
                            ),
                        )
                        .values(last_used_at=now)
                    )
            finally:
                if sqlite:
                    raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    except SQLAlchemyError as exc:  # last use is a courtesy, never a reason to fail a call
        log.info("token last use not recorded this time: %s", str(exc).splitlines()[0])
    finally:
        reset_write_intent(intent)


def record_token_use(response):
    """After an API answer: record the token's last use (at most once per TOUCH_EVERY) when the
    call succeeded; a refused call changes nothing in the database."""
    token_id = g.pop("api_token_to_touch", None)
    if token_id is None or response.status_code >= 400:
        return response
    session = db.session()
    if not response.is_streamed and not (session.new or session.dirty or session.deleted):
        # the view is done: end its read snapshot (a no-op in production, where the session
        # goes at teardown; tests sharing one session then see the write)
        session.rollback()
    _touch(db.engine, token_id)
    return response


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
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if row is None or row.revoked_at is not None or not row.user.active:
        abort(401, "The API token is unknown or revoked.")
    if row.expired:
        abort(401, "The API token has expired: make a new one.")
    if row.last_used_at is None or utcnow() - row.last_used_at >= TOUCH_EVERY:
        g.api_token_to_touch = row.id
    g.api_user = row.user
