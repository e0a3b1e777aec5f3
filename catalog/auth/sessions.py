"""Session identity, safe redirects and the database-backed sign-in throttle."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select

from catalog.extensions import db
from catalog.models import LoginFailure, User
from catalog.models.types import utcnow

FAILURE_WINDOW = dt.timedelta(minutes=1)


def load_user(session_id: str) -> User | None:
    """Flask-Login loader: the id carries a nonce that logout rotates, so old cookies die."""
    user_id, _, nonce = session_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user


def is_safe_next(target: str | None) -> bool:
    """Only local absolute paths: "/x", never "//host", "/\\host", "javascript:" or a full URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def failure_keys(address: str, email: str) -> list[str]:
    return [f"addr:{address}", f"acct:{email.strip().lower()}"]


def too_many_failures(keys: list[str], limit: int) -> bool:
    """Whether a key reached `limit` failures in the window. Concurrent sign-ins with a key in
    common are counted one after another, so N workers cannot each let one more attempt in: on
    PostgreSQL a transaction-scoped advisory lock per key (held until the caller's commit or
    rollback); on SQLite the POST's write transaction (BEGIN IMMEDIATE) already does it."""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):
            db.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    since = utcnow() - FAILURE_WINDOW
    count = db.session.execute(
        select(LoginFailure.key, func.count())
        .where(LoginFailure.key.in_(keys), LoginFailure.at >= since)
        .group_by(LoginFailure.key)
    ).all()
    return any(n >= limit for _, n in count)


def record_failure(keys: list[str]) -> None:
    now = utcnow()
    db.session.add_all(LoginFailure(key=k, at=now) for k in keys)
    # Old rows are worthless; keep the table small.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - 10 * FAILURE_WINDOW))
