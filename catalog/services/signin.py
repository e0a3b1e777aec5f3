"""Sign-in checks (NIST SP 800-63B 5.2.2): the same work for every email, and throttles an attacker
cannot aim at somebody else.

Three counters of failed sign-ins, kept in the database so every worker shares them:

* per (address, account) pair, `pair_limit` a minute: the ordinary guessing limit;
* per address, `address_limit` a minute: one address spraying many accounts;
* per account, `account_limit` an hour (NIST's at most 100): a guesser spread over many
  addresses. This one would let anybody lock the owner out, so it does not apply to a browser
  that has signed in to that account before (it carries a signed "known device" cookie, the
  device-cookie scheme OWASP recommends): the owner keeps signing in while strangers wait.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.models import LoginFailure, User
from catalog.models.types import utcnow

SHORT_WINDOW = dt.timedelta(minutes=1)
ACCOUNT_WINDOW = dt.timedelta(hours=1)
KEEP = 2 * ACCOUNT_WINDOW


@dataclass(frozen=True)
class Limits:
    """Failures allowed: per address+account pair and per address a minute, per account an hour."""

    pair: int = 10
    address: int = 30
    account: int = 100


def account_tag(email: str) -> str:
    """A short, non-reversible name for an account (for the known-device cookie and keys)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _keys(address: str, email: str) -> dict[str, tuple[str, dt.timedelta]]:
    email = email.strip().lower()
    return {
        "pair": (f"pair:{address}|{email}", SHORT_WINDOW),
        "address": (f"addr:{address}", SHORT_WINDOW),
        "account": (f"acct:{email}", ACCOUNT_WINDOW),
    }


def _lock(session, keys: list[str]) -> None:
    # Concurrent sign-ins with a key in common are counted one after another (PostgreSQL:
    # advisory lock per key until commit; SQLite: the POST's BEGIN IMMEDIATE already does it).
    if session.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):
            session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _count(session, key: str, window: dt.timedelta) -> int:
    since = utcnow() - window
    return session.scalar(
        select(func.count()).where(LoginFailure.key == key, LoginFailure.at >= since)
    )


def blocked(session, address: str, email: str, limits: Limits, *, known_device: bool) -> str | None:
    """Which throttle refuses this attempt ("pair", "address", "account"), or None."""
    keys = _keys(address, email)
    _lock(session, [k for k, _ in keys.values()])
    for name, (key, window) in keys.items():
        if name == "account" and known_device:
            continue
        if _count(session, key, window) >= getattr(limits, name):
            return name
    return None


def record_failure(session, address: str, email: str) -> None:
    """Count one failed sign-in under all three keys; forget rows older than any window."""
    now = utcnow()
    session.add_all(LoginFailure(key=key, at=now) for key, _ in _keys(address, email).values())
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(session, email: str, password: str, hash_method: str = "scrypt") -> User | None:
    """The active user with this email and password, or None. Unknown and inactive accounts
    cost one password hash too, so the answer's timing does not tell which emails exist."""
    email = email.strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user
