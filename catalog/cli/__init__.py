"""Flask CLI commands from the contracts: each calls a service, commits once, exits non-zero on error."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from catalog.db import write_intent
from catalog.extensions import db
from catalog.models import PROVIDER_KINDS, ROLES, Provider, User
from catalog.services.accounts import password_problem
from catalog.services.errors import ServiceError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    register_backup_cli(app)
    from catalog.cli.exports import register_public_cli

    register_public_cli(app)
    from catalog.cli.imports import register_import_cli

    register_import_cli(app)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the database schema, or bring it up to date (Alembic migrations)."""
        from flask_migrate import upgrade

        upgrade()
        click.echo("Database is at the latest schema.")

    @app.cli.command("seed")
    @click.option(
        "--demo/--no-demo",
        default=None,
        help="Also load demo providers, catalogs and logins (default: yes, except in "
        "production, where only --demo loads them).",
    )
    def seed(demo: bool | None) -> None:
        """Load the taxonomy, requirement sets and (outside production) demo data; safe to run
        again. In production demo data comes only when asked for by name (--demo)."""
        from catalog.services.seeding import seed_all

        if demo is None:
            demo = app.config["ENV_NAME"] != "production"
            if not demo:
                click.echo("Production: demo data not loaded (ask for it with --demo).")

        with write_intent():
            try:
                report = seed_all(db.session, demo=demo)
            except ServiceError as exc:
                db.session.rollback()
                fail(exc.message)
            db.session.commit()
        if not report.created:
            click.echo("Seed data already present: nothing to add.")
        for what, n in report.created.items():
            click.echo(f"Added {n} {what}.")
        for note in report.notes:
            click.echo(note)
        if report.logins:
            click.echo("\nDemo logins (change or remove them before real use):")
            for email, password, role in report.logins:
                click.echo(f"  {email:<40} {password:<22} {role}")

    @app.cli.command("create-provider")
    @click.argument("slug")
    @click.option("--name", required=True, help="Provider's display name.")
    @click.option("--kind", type=click.Choice(PROVIDER_KINDS), default="vendor", show_default=True)
    @click.option("--licence", "licence_number", default="", help="Licence or control number.")
    def create_provider(slug: str, name: str, kind: str, licence_number: str) -> None:
        """Register a training provider."""
        if not SLUG_RE.match(slug) or len(slug) > 64:
            fail(
                f"'{slug}' is not a valid slug: use lower-case letters, digits and single hyphens."
            )
        if not name.strip():
            fail("--name must not be empty.")
        with write_intent():
            if db.session.scalar(select(Provider).where(Provider.slug == slug)):
                fail(f"A provider with slug '{slug}' already exists.")
            db.session.add(
                Provider(slug=slug, name=name.strip(), kind=kind, licence_number=licence_number)
            )
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
        if not EMAIL_RE.match(email) or len(email) > 254:
            fail(f"'{email}' is not a valid email address.")
        if role == "provider" and not provider_slug:
            fail("A provider user needs --provider SLUG.")
        if role != "provider" and provider_slug:
            fail("--provider is only for users with --role provider.")
        with write_intent():
            if db.session.scalar(select(User).where(func.lower(User.email) == email)):
                fail(f"A user with email {email} already exists.")
            provider = None
            if provider_slug:
                provider = db.session.scalar(select(Provider).where(Provider.slug == provider_slug))
                if provider is None:
                    fail(
                        f"Unknown provider '{provider_slug}'. Create it with create-provider first."
                    )
            if sys.stdin.isatty():
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            else:
                password = sys.stdin.readline().rstrip("\r\n")
            problem = password_problem(password, email)
            if problem:
                fail(f"The password {problem}.")
            user = User(email=email, role=role, provider=provider)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
        click.echo(f"Created {role} user {email}.")

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--name", default="cli", help="A label for the token.")
    def create_token(email: str, name: str) -> None:
        """Print a new API token for that user on the last line (shown once, stored hashed)."""
        from catalog.services.accounts import issue_token, token_expiry

        with write_intent():
            user = db.session.scalar(
                select(User).where(func.lower(User.email) == email.strip().lower())
            )
            if user is None:
                fail(f"No user with email {email}.")
            if not user.active:
                fail(f"User {email} is deactivated.")
            row, plain = issue_token(
                db.session, user, name, token_expiry(app.config["API_TOKEN_DAYS"])
            )
            db.session.commit()
        click.echo(
            f"API token for {user.email} ({user.role}), valid until "
            f"{row.expires_at:%Y-%m-%d}; it is shown only once:"
        )
        click.echo(plain)


def register_backup_cli(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write an online-safe backup (SQLite backup API, or a pg_dump archive on PostgreSQL)."""
        from catalog.services.backup import backup

        run_service(backup, db.engine, path)
        click.echo(f"Backup written to {path}.")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the whole database with a backup made by `backup`."""
        from catalog.services.backup import restore

        if not yes and sys.stdin.isatty():
            click.confirm(f"Replace every row of the current database with {path}?", abort=True)
        db.session.remove()
        run_service(restore, db.engine, path)
        click.echo(f"Restored from {path}.")


def run_service(fn, *args, **kwargs):
    """Run a service function; on ServiceError print its details and exit 1."""
    try:
        return fn(*args, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        for detail in exc.details:
            click.echo(f"  {detail}", err=True)
        sys.exit(1)
