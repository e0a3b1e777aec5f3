"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, g
from werkzeug.local import LocalProxy

from catalog.models.types import format_hours

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Site:
    """How the pages name the served jurisdiction, from its row and its seeded wording
    (taxonomy.toml [jurisdiction]: short_name, ce_term ...; see seed_data/README.md)."""

    code: str = ""
    name: str = ""
    short_name: str = "POST"  # "Missouri POST": page titles, footer
    ce_term: str = "continuing education"  # "CLEE": "Find approved Missouri CLEE courses"
    ce_name: str = (
        "continuing education"  # footer: "... continuing law enforcement education (CLEE)"
    )
    period_word: str = "period"  # "year": the finder chart's scale
    approved_by: str = "our review staff"  # "Missouri POST staff": who approved the listed courses
    course_id_label: str = "Control number"
    example_area_hours: str = ""  # upload help: "legal-studies:1;skill-development:0.5"
    example_topics: str = ""

    @property
    def courses_label(self) -> str:
        """'Missouri CLEE' as in "Find approved Missouri CLEE courses"."""
        return f"{self.name} {self.ce_term}".strip()

    @classmethod
    def of(cls, jurisdiction, areas: list[str] = (), topics: list[str] = ()) -> Site:
        if jurisdiction is None:
            return cls()
        from catalog.services.suggesting import DISPLAY_KEY

        shown = dict((jurisdiction.settings or {}).get(DISPLAY_KEY) or {})
        return cls(
            code=jurisdiction.code,
            name=jurisdiction.name,
            short_name=shown.get("short_name") or f"{jurisdiction.name} POST",
            ce_term=shown.get("ce_term") or cls.ce_term,
            ce_name=shown.get("ce_name") or cls.ce_name,
            period_word=shown.get("period_word") or cls.period_word,
            approved_by=shown.get("approved_by") or f"{jurisdiction.name} POST staff",
            course_id_label=jurisdiction.course_id_label or cls.course_id_label,
            example_area_hours=shown.get("example_area_hours")
            or ";".join(f"{slug}:1" for slug in areas[:1]),
            example_topics=shown.get("example_topics") or ";".join(topics[:1]),
        )


def current_site() -> Site:
    """The served jurisdiction's wording, read once per request. Never fails: without a database,
    a seeded jurisdiction or a valid CATALOG_JURISDICTION (error pages too) it is generic."""
    site = g.get("_site")
    if site is None:
        try:
            site = _site_of_this_version() or _load_site()
        except Exception:  # noqa: BLE001 - the page must render; the cause has its own error page
            log.debug("site wording unavailable", exc_info=True)
            site = Site()
        g._site = site
    return site


def _site_of_this_version() -> Site | None:
    """On a page that read the published catalog's snapshot (the public pages), the wording kept
    with that snapshot: the jurisdiction and categories it comes from change the publish
    version, so it is read once per version and worker instead of on every page."""
    from catalog.extensions import db
    from catalog.services.publishing import snapshot
    from catalog.serving import jurisdiction_code

    current = snapshot.loaded(db.session)
    if current is None:
        return None
    key = ("site", jurisdiction_code())
    site = current.memo.get(key)
    if site is None:
        site = current.memo[key] = _load_site()
    return site


def _load_site() -> Site:
    from sqlalchemy import select

    from catalog.extensions import db
    from catalog.models import Category
    from catalog.services.suggesting import DISPLAY_KEY
    from catalog.serving import served_or_none

    jurisdiction = served_or_none()
    if jurisdiction is None:
        return Site()
    shown = (jurisdiction.settings or {}).get(DISPLAY_KEY) or {}
    if shown.get("example_area_hours") and shown.get("example_topics"):
        return Site.of(jurisdiction)
    rows = db.session.execute(  # no seeded examples: name the first area and topic instead
        select(Category.slug, Category.kind)
        .where(Category.jurisdiction_id == jurisdiction.id)
        .order_by(Category.sort_order, Category.id)
    ).all()
    return Site.of(
        jurisdiction,
        areas=[slug for slug, kind in rows if kind == "area"],
        topics=[slug for slug, kind in rows if kind != "area"],
    )


def register_templating(app: Flask) -> None:
    app.add_template_filter(format_hours, "hours")
    site = LocalProxy(current_site)
    app.context_processor(lambda: {"site": site})
