"""Schema, seed data, backup and restore: `init-db`, `seed`, `backup PATH`, `restore PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from catalog.cli import fail, run_service
from catalog.db import write_intent
from catalog.extensions import db
from catalog.services.errors import ServiceError
from catalog.serving import jurisdiction_code


def register_data_cli(app: Flask) -> None:
    """Register init-db, seed, backup and restore."""

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
                report = seed_all(db.session, served_code=jurisdiction_code(), demo=demo)
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
