"""Providers, users and API tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import ClassVar

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from catalog.db import Base
from catalog.models.types import utcnow

ROLES = ("admin", "staff", "provider")
PROVIDER_KINDS = (
    "academy",
    "vendor",
    "agency",
    "association",
    "college",
    "federal",
    "out-of-state",
)


class Provider(Base):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="vendor")
    licence_number: Mapped[str] = mapped_column(String(64), default="")
    approved_provider: Mapped[bool] = mapped_column(Boolean, default=True)
    url: Mapped[str] = mapped_column(String(500), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="provider")

    def __repr__(self) -> str:
        return f"<Provider {self.slug}>"


class User(Base):
    """A person who signs in. The attributes Flask-Login reads (is_authenticated, is_active,
    is_anonymous, get_id) are defined here, so the models import nothing of Flask."""

    __tablename__ = "users"
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), default=None
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session identity: rotating it on logout refuses copies of the old cookie.
    session_nonce: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    provider: Mapped[Provider | None] = relationship(back_populates="users")

    # scrypt in production; the app factory sets PASSWORD_HASH_METHOD here (tests use a cheaper
    # hash to stay fast), so the model reads no app configuration.
    password_hash_method: ClassVar[str] = "scrypt"

    def set_password(self, password: str) -> None:
        """Store a salted hash of `password` (never the password)."""
        self.password_hash = generate_password_hash(password, method=self.password_hash_method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    def rotate_session(self) -> None:
        self.session_nonce = secrets.token_hex(16)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)

    user: Mapped[User] = relationship()

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def active(self) -> bool:
        """Neither revoked nor past its expiry."""
        return self.revoked_at is None and not self.expired
