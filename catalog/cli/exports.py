"""`flask --app catalog export PATH`: the published list as CSV or JSON (chosen by extension)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, url_for

from catalog.extensions import db
from catalog.public import exports
from catalog.services.publishing.listing import CourseQuery, export_rows, served, taxonomy_of
from catalog.serving import jurisdiction_code


def register_public_cli(app: Flask) -> None:
    @app.cli.command("export")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option(
        "--base-url",
        default="http://127.0.0.1:5000",
        show_default=True,
        help="Site address used for each course's page link.",
    )
    def export_command(path: Path, base_url: str) -> None:
        """Write every approved, currently valid course to PATH (.csv or .json)."""
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".json"):
            click.echo(f"Error: {path} must end in .csv or .json.", err=True)
            sys.exit(2)
        app.config.setdefault("PREFERRED_URL_SCHEME", "http")
        jurisdiction = served(db.session, jurisdiction_code())
        jurisdiction_id = jurisdiction[0] if jurisdiction else None
        taxonomy = taxonomy_of(db.session, jurisdiction_id)
        with app.test_request_context(base_url=base_url):

            def page_url(course_id: int) -> str:
                return url_for("public.course", course_id=course_id, _external=True)

            counter = {"n": 0}

            def counted():
                for course in export_rows(
                    db.session, CourseQuery(sort="title"), taxonomy, jurisdiction_id=jurisdiction_id
                ):
                    counter["n"] += 1
                    yield course

            rows = counted()
            try:
                if suffix == ".csv":
                    with path.open("w", newline="", encoding="utf-8") as handle:
                        for line in exports.csv_lines(rows, page_url):
                            handle.write(line)
                else:
                    items = [exports.course_json(c, page_url(c["id"])) for c in rows]
                    with path.open("w", encoding="utf-8") as handle:
                        json.dump({"total": len(items), "courses": items}, handle, indent=2)
                        handle.write("\n")
            except OSError as exc:
                click.echo(f"Error: cannot write {path}: {exc.strerror or exc}", err=True)
                sys.exit(1)
        count = counter["n"]
        click.echo(f"Exported {count} approved course{'s' if count != 1 else ''} to {path}.")
