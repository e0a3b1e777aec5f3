"""Session identity, safe redirects, the known-device cookie and the database-backed throttle
(anonymous plans use `too_many_failures`; sign-in has its own in catalog.services.signin)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from catalog.extensions import db
from catalog.models import LoginFailure, User
from catalog.models.types import utcnow
from catalog.services.signin import account_tag

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


DEVICE_COOKIE = "catalog_device"
DEVICE_MAX_AGE = 180 * 24 * 3600


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def is_known_device(email: str) -> bool:
    """Whether this browser has signed in to the account before (signed cookie, 180 days)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return False
    try:
        tags = _device_signer().loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(tags, list) and account_tag(email) in tags


def remember_device(response, email: str) -> None:
    """Add the account to the browser's known-device cookie (a few accounts at most)."""
    tags: list[str] = []
    cookie = request.cookies.get(DEVICE_COOKIE)
    if cookie:
        try:
            found = _device_signer().loads(cookie, max_age=DEVICE_MAX_AGE)
            tags = [t for t in found if isinstance(t, str)] if isinstance(found, list) else []
        except BadSignature:
            tags = []
    tag = account_tag(email)
    tags = [t for t in tags if t != tag][-4:] + [tag]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer().dumps(tags),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure,
    )


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
    """Count one failed sign-in against each key."""
    now = utcnow()
    db.session.add_all(LoginFailure(key=k, at=now) for k in keys)
    # Old rows are worthless; keep the table small.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - 10 * FAILURE_WINDOW))
