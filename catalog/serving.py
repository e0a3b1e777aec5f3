"""What the request and command layer reads from the app and hands to services: the served
jurisdiction (CATALOG_JURISDICTION) and the import limits. Services never read app config."""

from __future__ import annotations

from flask import current_app

from catalog.extensions import db
from catalog.models import Jurisdiction
from catalog.services.imports.rows import Context, load_context
from catalog.services.jurisdictions import default_jurisdiction, served_jurisdiction


def jurisdiction_code() -> str | None:
    """The configured CATALOG_JURISDICTION, or None for "the first one seeded"."""
    return current_app.config.get("CATALOG_JURISDICTION")


def served() -> Jurisdiction:
    """The jurisdiction this app serves; NotFound (a 404 page) when none is set up."""
    return default_jurisdiction(db.session, jurisdiction_code())


def served_or_none() -> Jurisdiction | None:
    """The jurisdiction this app serves, None before anything is seeded (an unknown configured
    code is still NotFound)."""
    return served_jurisdiction(db.session, jurisdiction_code())


def import_context() -> Context:
    """The served jurisdiction's categories and the configured cell limit, for the import services."""
    return load_context(db.session, served(), current_app.config["MAX_CELL_CHARS"])
