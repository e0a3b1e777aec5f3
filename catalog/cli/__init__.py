"""Flask CLI commands from the contracts: each calls a service, commits once, exits non-zero on
error. One module per concern: accounts (providers, users, tokens), data (schema, seed, backup,
restore), imports (import-catalog), exports (export)."""

from __future__ import annotations

import sys

import click
from flask import Flask

from catalog.extensions import db
from catalog.services.errors import ServiceError


def register_cli(app: Flask) -> None:
    """Register every command of the contracts on `app`."""
    from catalog.cli.accounts import register_accounts_cli
    from catalog.cli.data import register_data_cli
    from catalog.cli.exports import register_public_cli
    from catalog.cli.imports import register_import_cli

    register_data_cli(app)
    register_public_cli(app)
    register_import_cli(app)
    register_accounts_cli(app)


def fail(message: str) -> None:
    """Print `Error: message` on standard error and exit 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def run_service(fn, *args, **kwargs):
    """Run a service function; on ServiceError roll back, print its details and exit 1."""
    try:
        return fn(*args, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        for detail in exc.details:
            click.echo(f"  {detail}", err=True)
        sys.exit(1)
