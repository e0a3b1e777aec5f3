"""Which jurisdiction is served: the caller passes the configured code (CATALOG_JURISDICTION, or
None for "the first one seeded"); this module never reads the app's configuration."""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import Jurisdiction
from catalog.services.errors import NotFound


def served_jurisdiction(session, code: str | None) -> Jurisdiction | None:
    """The jurisdiction with `code`, else (code None) the first one seeded; None when nothing
    is seeded yet and no code is given.

    A code that is not in the database raises NotFound naming the codes that are.
    """
    if not code:
        return session.scalar(select(Jurisdiction).order_by(Jurisdiction.id).limit(1))
    found = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if found is None:
        known = ", ".join(session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.id)))
        raise NotFound(
            f"No jurisdiction '{code}' is set up (CATALOG_JURISDICTION={code}): "
            + (f"this database has {known}. " if known else "this database has none yet. ")
            + f"Add seed_data/{code.lower()}/taxonomy.toml and run `flask --app catalog seed`, "
            "or change the setting."
        )
    return found


def default_jurisdiction(session, code: str | None) -> Jurisdiction:
    """Like served_jurisdiction, but nothing seeded yet is NotFound too."""
    jurisdiction = served_jurisdiction(session, code)
    if jurisdiction is None:
        raise NotFound("No jurisdiction is set up yet: run `flask --app catalog seed`.")
    return jurisdiction
