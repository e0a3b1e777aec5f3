"""`flask --app catalog import-catalog PATH --provider SLUG`: the same all-or-nothing import as the
upload and the API, with a progress bar on standard error and the report on standard output."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from catalog.db import write_intent
from catalog.extensions import db
from catalog.models import Provider
from catalog.services.errors import ServiceError
from catalog.services.imports.files import read_table
from catalog.serving import import_context


def _print_errors(exc: ServiceError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    for detail in exc.details:
        if isinstance(detail, dict):
            where = f"row {detail['row']}" if detail.get("row") else "file"
            click.echo(f"  {where}, {detail.get('field')}: {detail.get('message')}", err=True)
        else:
            click.echo(f"  {detail}", err=True)


def register_import_cli(app: Flask) -> None:
    @app.cli.command("import-catalog")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--provider", "provider_slug", required=True, help="Provider slug.")
    @click.option("--dry-run", is_flag=True, help="Validate and suggest without writing.")
    def import_catalog(path: Path, provider_slug: str, dry_run: bool) -> None:
        """Import a catalog file (CSV, XLSX or JSON) for a provider: all rows or none."""
        from catalog.services.imports.direct import import_table

        config = current_app.config
        provider = db.session.scalar(select(Provider).where(Provider.slug == provider_slug))
        if provider is None:
            click.echo(f"Error: unknown provider '{provider_slug}'.", err=True)
            sys.exit(1)
        try:
            table = read_table(path.read_bytes(), path.name, max_rows=config["MAX_CATALOG_ROWS"])
        except ServiceError as exc:
            _print_errors(exc)
            sys.exit(1)
        with click.progressbar(
            length=2 * len(table.rows),
            label=f"Importing {path.name}",
            file=sys.stderr,
            show_pos=True,
        ) as bar:
            try:
                with write_intent():
                    report = import_table(
                        db.session,
                        provider,
                        table,
                        import_context(timed=False),  # an operator's import: no time limit
                        dry_run=dry_run,
                        actor="cli",
                        source="cli",
                        filename=path.name,
                        progress=lambda _stage, n: bar.update(n),
                    )
                    if dry_run:
                        db.session.rollback()
                    else:
                        db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                click.echo("", err=True)
                _print_errors(exc)
                sys.exit(1)
            bar.update(max(0, bar.length - bar.pos))
        s = report.summary
        verb = "Would import" if dry_run else f"Imported catalog {report.catalog_id}:"
        click.echo(
            f"{verb} {s['rows']} rows for {provider.slug}: created {s['created']}, "
            f"updated {s['updated']}, unchanged {s['unchanged']}, "
            f"missing from file {s.get('missing', 0)}."
        )
