"""`create-provider`, `create-user` and `create-token`: the same account services as /admin
(and audited like it, with "cli" as the actor)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import func, select

from catalog.cli import fail
from catalog.db import write_intent
from catalog.extensions import db
from catalog.models import PROVIDER_KINDS, ROLES, Provider, User
from catalog.services import accounts
from catalog.services.errors import ServiceError


def _call(fn, *args):
    """Run an account service; on its refusal roll back and exit 1 with its message."""
    try:
        return fn(*args)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)


def register_accounts_cli(app: Flask) -> None:
    """Register create-provider, create-user and create-token."""

    @app.cli.command("create-provider")
    @click.argument("slug")
    @click.option("--name", required=True, help="Provider's display name.")
    @click.option("--kind", type=click.Choice(PROVIDER_KINDS), default="vendor", show_default=True)
    @click.option("--licence", "licence_number", default="", help="Licence or control number.")
    def create_provider(slug: str, name: str, kind: str, licence_number: str) -> None:
        """Register a training provider."""
        values = {"slug": slug, "name": name, "kind": kind, "licence_number": licence_number}
        with write_intent():
            _call(accounts.save_provider, db.session, None, values, None)
            db.session.commit()
        click.echo(f"Created provider {slug} ({name.strip()}).")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option(
        "--provider", "provider_slug", default=None, help="Provider slug (provider role)."
    )
    def create_user(email: str, role: str, provider_slug: str | None) -> None:
        """Create a user; the password is prompted for, or read from standard input."""
        email = email.strip().lower()
        if role == "provider" and not provider_slug:
            fail("A provider user needs --provider SLUG.")
        if role != "provider" and provider_slug:
            fail("--provider is only for users with --role provider.")
        with write_intent():
            provider_id = None
            if provider_slug:
                provider_id = db.session.scalar(
                    select(Provider.id).where(Provider.slug == provider_slug)
                )
                if provider_id is None:
                    fail(
                        f"Unknown provider '{provider_slug}'. Create it with create-provider first."
                    )
            problem = accounts.new_user_problem(db.session, email, role, provider_id)
            if problem:  # before asking for the password
                fail(problem)
            if sys.stdin.isatty():
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            else:
                password = sys.stdin.readline().rstrip("\r\n")
            _call(accounts.create_user, db.session, email, role, provider_id, password, None)
            db.session.commit()
        click.echo(f"Created {role} user {email}.")

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--name", default="cli", help="A label for the token.")
    def create_token(email: str, name: str) -> None:
        """Print a new API token for that user on the last line (shown once, stored hashed;
        audited with "cli" as the actor)."""
        with write_intent():
            user = db.session.scalar(
                select(User).where(func.lower(User.email) == email.strip().lower())
            )
            if user is None:
                fail(f"No user with email {email}.")
            row, plain = _call(
                accounts.create_token,
                db.session,
                user,
                name,
                accounts.token_expiry(app.config["API_TOKEN_DAYS"]),
                None,
            )
            db.session.commit()
        click.echo(
            f"API token for {user.email} ({user.role}), valid until "
            f"{row.expires_at:%Y-%m-%d}; it is shown only once:"
        )
        click.echo(plain)
