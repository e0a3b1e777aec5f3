"""The demo data of `flask --app catalog seed` (seed_data/providers.csv, seed_data/catalogs/, demo
logins): providers, their catalogs imported and partly decided, and one user per role. Loaded
only for the jurisdiction seed.toml gives it to, when the app serves that one."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from catalog.models import (
    Course,
    Provider,
    User,
)
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.courses import (
    content_hash,
    end_of_year,
    normalise_title,
    set_course_categories,
)
from catalog.services.suggesting import (
    categories_by_slug,
    suggest_courses,
)

if TYPE_CHECKING:
    from catalog.services.seeding import SeedReport

DEMO_PASSWORDS = {
    "admin@post.example": ("admin", None, "Demo-Admin-2026!"),
    "staff@post.example": ("staff", None, "Demo-Staff-2026!"),
}
DEMO_PROVIDER_PASSWORD = "Demo-Provider-2026!"  # every <slug>@provider.example demo login


def seed_providers(session, path: Path, report: SeedReport) -> dict[str, Provider]:
    """The demo providers of providers.csv (existing slugs are kept as they are)."""
    providers = {p.slug: p for p in session.scalars(select(Provider))}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["slug"] in providers:
                continue
            provider = Provider(
                slug=row["slug"],
                name=row["name"],
                kind=row.get("kind") or "vendor",
                licence_number=row.get("licence_number") or "",
                approved_provider=(row.get("approved_provider") or "yes").lower()
                in ("yes", "true", "1"),
                url=row.get("url") or "",
                contact_email=row.get("contact_email") or "",
            )
            session.add(provider)
            providers[provider.slug] = provider
            report.add("providers")
    session.flush()
    return providers


def _parse_area_hours(text: str) -> dict[str, Decimal]:
    areas: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        slug, _, hours = part.partition(":")
        areas[slug.strip()] = Decimal(hours.strip())
    return areas


def seed_demo_catalogs(
    session, jurisdiction, providers, catalog_dir: Path, report: SeedReport
) -> None:
    """Demo courses as POST would have them: some approved, some waiting, a few rejected."""
    categories = categories_by_slug(session, jurisdiction)
    today = dt.date.today()
    new_courses: list[tuple[Course, dict]] = []
    for path in sorted(catalog_dir.glob("*.csv")):
        provider = providers.get(path.stem)
        if provider is None:
            continue
        known = set(
            session.scalars(
                select(Course.normalised_title).where(Course.provider_id == provider.id)
            )
        )
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = normalise_title(row["title"])
                if key in known:
                    continue
                known.add(key)
                fields = {
                    "title": row["title"].strip(),
                    "hours": Decimal(row["hours"]),
                    "delivery": row.get("delivery") or "in-person",
                    "description": row.get("description") or "",
                    "objectives": row.get("objectives") or "",
                    "url": row.get("url") or "",
                    "provider_code": row.get("provider_code") or None,
                }
                course = Course(
                    provider=provider,
                    jurisdiction=jurisdiction,
                    normalised_title=key,
                    content_hash=content_hash(fields),
                    **fields,
                )
                areas = _parse_area_hours(row.get("area_hours", ""))
                topics = [t.strip() for t in (row.get("topics") or "").split(";") if t.strip()]
                if areas or topics:
                    set_course_categories(course, "proposed", areas, topics, categories)
                session.add(course)
                new_courses.append((course, {**row, "_areas": areas, "_topics": topics}))
    if not new_courses:
        return
    session.flush()
    suggest_courses(session, jurisdiction, [c for c, _ in new_courses])
    now = utcnow()
    for course, row in new_courses:
        status = (row.get("demo_status") or "pending").strip()
        if status == "approved" and row["_areas"]:
            set_course_categories(course, "decided", row["_areas"], row["_topics"], categories)
            course.status = "approved"
            course.approved_at = course.decided_at = now
            course.approved_until = end_of_year(today)
            course.control_number = f"{jurisdiction.code}-{today.year}-{course.id:05d}"
            course.decision_note = "Demo data: approved as proposed."
        elif status == "rejected":
            course.status = "rejected"
            course.decided_at = now
            course.decision_note = "Demo data: not continuing-education content."
        audit.record(
            session,
            action="seed",
            entity_type="course",
            entity_id=course.id,
            course_id=course.id,
            actor="seed",
            after={"status": course.status},
        )
    report.add("courses", len(new_courses))
    session.flush()


def seed_demo_users(session, providers: dict[str, Provider], report: SeedReport) -> None:
    """One demo login per role (and per demo provider); the passwords go into the report."""
    wanted = dict(DEMO_PASSWORDS)
    for slug, provider in sorted(providers.items()):
        wanted[f"{slug}@provider.example"] = ("provider", provider, DEMO_PROVIDER_PASSWORD)
    existing = set(session.scalars(select(User.email)))
    for email, (role, provider, password) in wanted.items():
        if email in existing:
            continue
        user = User(email=email, role=role, provider=provider)
        user.set_password(password)
        session.add(user)
        report.add("users")
        report.logins.append((email, password, role + (f" ({provider.slug})" if provider else "")))
    session.flush()
