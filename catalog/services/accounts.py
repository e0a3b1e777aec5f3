"""Accounts: users and providers (audited from /admin and the CLI alike), the password policy
(services/passwords.py) and API tokens (random, shown once, stored as SHA-256, with an
expiry, their last use recorded, revocable by admins and by their owner)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets

from sqlalchemy import func, select

from catalog.models import ROLES, ApiToken, Provider, User
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.errors import Invalid, NotFound
from catalog.services.passwords import password_problem

log = logging.getLogger(__name__)
DEFAULT_TOKEN_DAYS = 365
# last_used_at is written at most this often per token: one UPDATE an hour, not one a request
TOUCH_EVERY = dt.timedelta(hours=1)

TOKEN_PREFIX = "pc_"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PROVIDER_FIELDS = ("slug", "name", "kind", "licence_number", "approved_provider", "url")


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
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


def create_token(
    session,
    user: User,
    name: str,
    expires_at: dt.datetime | None,
    by: User | None,
    note: str = "",
) -> tuple[ApiToken, str]:
    """Issue a token for an active `user` (by an admin, by the user itself, or by the CLI when
    `by` is None); audited. Returns the row and the plain token, shown once. The label is
    trimmed to one line of at most 100 characters ("api" when empty)."""
    if not user.active:
        raise Invalid(
            f"User {user.email} is deactivated: activate them before giving them a token."
        )
    label = " ".join((name or "").split())[:100] or "api"
    row, plain = issue_token(session, user, label, expires_at)
    after = {"user": user.email, "prefix": row.prefix, "name": row.name}
    audit.record(
        session,
        action="token-create",
        entity_type="token",
        entity_id=row.id,
        user=by,
        actor=None if by is not None else "cli",
        after=after,
        note=note,
    )
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


def _record(
    session, action: str, entity, by: User | None, before=None, after=None, note: str = ""
) -> None:
    audit.record(
        session,
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        user=by,
        actor=None if by is not None else "cli",
        before=before,
        after=after,
        note=note,
    )


# -- providers -----------------------------------------------------------------------------------


def provider_snapshot(provider: Provider) -> dict:
    """The audited fields of a provider."""
    return {k: getattr(provider, k) for k in PROVIDER_FIELDS}


def save_provider(session, provider: Provider | None, values: dict, by: User | None) -> Provider:
    """Create (provider None) or edit a provider from `values` (any of slug, name, kind,
    licence_number, approved_provider, url, contact_email). Raises Invalid naming the field."""
    slug = (values.get("slug") or (provider.slug if provider else "")).strip()
    if not SLUG_RE.match(slug) or len(slug) > 64:
        raise Invalid(
            f"'{slug}' is not a valid slug: use lower-case letters, digits and single hyphens.",
            [{"field": "slug", "message": "not a valid slug"}],
        )
    if "name" in values and not (values["name"] or "").strip():
        raise Invalid("The name must not be empty.", [{"field": "name", "message": "required"}])
    clash = session.scalar(
        select(Provider).where(
            Provider.slug == slug, Provider.id != (provider.id if provider else -1)
        )
    )
    if clash is not None:
        raise Invalid(
            f"The slug {slug} is already used: a provider with slug '{slug}' already exists.",
            [{"field": "slug", "message": f"The slug {slug} is already used."}],
        )
    before = provider_snapshot(provider) if provider is not None else {}
    if provider is None:
        provider = Provider()
        session.add(provider)
    provider.slug = slug
    for key in ("name", "licence_number", "url", "contact_email"):
        if key in values:
            setattr(provider, key, (values[key] or "").strip())
    if "kind" in values:
        provider.kind = values["kind"]
    if "approved_provider" in values:
        provider.approved_provider = bool(values["approved_provider"])
    session.flush()
    action = "provider-edit" if before else "provider-create"
    _record(session, action, provider, by, before, provider_snapshot(provider))
    return provider


# -- users ---------------------------------------------------------------------------------------


def user_snapshot(user: User) -> dict:
    """The audited fields of a user (never the password hash)."""
    return {
        "email": user.email,
        "role": user.role,
        "provider_id": user.provider_id,
        "active": user.active,
    }


def binding_problem(session, role: str, provider_id: int | None) -> str | None:
    """Why `role` and `provider_id` do not go together (a provider user needs a provider, no one
    else has one), or None."""
    if role not in ROLES:
        return f"Unknown role '{role}'."
    if role == "provider" and not provider_id:
        return "A provider user must belong to a provider."
    if role != "provider" and provider_id:
        return "Only provider users belong to a provider."
    if provider_id and session.get(Provider, provider_id) is None:
        return "Unknown provider."
    return None


def new_user_problem(session, email: str, role: str, provider_id: int | None) -> str | None:
    """Why a user with this email, role and provider cannot be created (before the password is
    asked for), or None."""
    if not EMAIL_RE.match(email) or len(email) > 254:
        return f"'{email}' is not a valid email address."
    problem = binding_problem(session, role, provider_id)
    if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        return f"A user with email {email} already exists."
    return problem


def create_user(
    session, email: str, role: str, provider_id: int | None, password: str, by: User | None
) -> User:
    """A new active user with a password that passes the policy; raises Invalid otherwise."""
    email = email.strip().lower()
    problem = new_user_problem(session, email, role, provider_id)
    if problem is None:
        weak = password_problem(password, email)
        problem = f"The password {weak}." if weak else None
    if problem:
        raise Invalid(problem)
    user = User(email=email, role=role, provider_id=provider_id or None)
    user.set_password(password)
    session.add(user)
    session.flush()
    _record(session, "user-create", user, by, {}, user_snapshot(user))
    return user


def update_user(
    session, user: User, role: str, provider_id: int | None, active: bool, by: User
) -> None:
    """Change a user's role, provider and active flag; deactivating signs them out everywhere.
    An admin cannot remove their own admin role or deactivate themselves."""
    problem = binding_problem(session, role, provider_id)
    if user.id == by.id and (role != "admin" or not active):
        problem = "You cannot remove your own admin role or deactivate yourself."
    if problem:
        raise Invalid(problem)
    before = user_snapshot(user)
    user.role = role
    user.provider_id = provider_id or None
    if user.active and not active:
        user.rotate_session()
    user.active = bool(active)
    _record(session, "user-edit", user, by, before, user_snapshot(user))


def reset_password(session, user: User, password: str, by: User) -> None:
    """Set a new password (policy checked) and sign the user's old sessions out."""
    weak = password_problem(password, user.email)
    if weak:
        raise Invalid(f"The password {weak}.")
    user.set_password(password)
    user.rotate_session()
    _record(session, "user-password-reset", user, by, {}, {"email": user.email})


def user_for_token(session, token: str) -> User | None:
    """The active user an active token belongs to, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))
    if row is None or not row.active or not row.user.active:
        return None
    return row.user
