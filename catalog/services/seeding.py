"""Loading seed_data/ into the database. Idempotent: running it again changes nothing, and it never
overwrites what staff have edited since (existing rows are left as they are)."""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from catalog.models import (
    Abbreviation,
    Category,
    Course,
    Jurisdiction,
    Keyword,
    Provider,
    Requirement,
    RequirementSet,
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
from catalog.services.suggesting import categories_by_slug, suggest_courses

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"

DEMO_PASSWORDS = {
    "admin@post.example": ("admin", None, "Demo-Admin-2026!"),
    "staff@post.example": ("staff", None, "Demo-Staff-2026!"),
}


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def seed_taxonomy(session, path: Path, report: SeedReport) -> Jurisdiction:
    """Jurisdiction, categories with keywords, abbreviations: create what is missing."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    info = data["jurisdiction"]
    jurisdiction = session.scalar(select(Jurisdiction).where(Jurisdiction.code == info["code"]))
    if jurisdiction is None:
        jurisdiction = Jurisdiction(
            code=info["code"],
            name=info["name"],
            regulator=info.get("regulator", ""),
            course_id_label=info.get("course_id_label", "Control number"),
            settings=data.get("settings", {}),
        )
        session.add(jurisdiction)
        session.flush()
        report.add("jurisdictions")
    existing = {c.slug: c for c in jurisdiction.categories}
    pending_parents: list[tuple[Category, str]] = []
    for order, spec in enumerate(data.get("categories", []), start=1):
        if spec["slug"] in existing:
            continue
        category = Category(
            jurisdiction=jurisdiction,
            slug=spec["slug"],
            kind=spec["kind"],
            name=spec["name"],
            description=spec.get("description", ""),
            default_area_slug=spec.get("default_area"),
            live_only=bool(spec.get("live_only", False)),
            sort_order=spec.get("sort_order", order),
        )
        for weight, key in (
            ("strong", "strong"),
            ("weak", "weak"),
            ("exclusion", "exclusions"),
            ("identifier", "identifiers"),
        ):
            for phrase in dict.fromkeys(spec.get(key, [])):
                category.keywords.append(Keyword(weight=weight, phrase=phrase))
        session.add(category)
        existing[spec["slug"]] = category
        if spec.get("parent"):
            pending_parents.append((category, spec["parent"]))
        report.add("categories")
    for category, parent_slug in pending_parents:
        category.parent = existing[parent_slug]
    known_abbr = {a.abbreviation for a in jurisdiction.abbreviations}
    for abbr, expansion in data.get("abbreviations", {}).items():
        if abbr not in known_abbr:
            session.add(
                Abbreviation(jurisdiction=jurisdiction, abbreviation=abbr, expansion=expansion)
            )
            report.add("abbreviations")
    session.flush()
    return jurisdiction


def seed_requirements(session, path: Path, report: SeedReport) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    for spec in data.get("sets", []):
        merged = {**defaults, **spec}
        jurisdiction = session.scalar(
            select(Jurisdiction).where(Jurisdiction.code == merged["jurisdiction"])
        )
        exists = session.scalar(
            select(RequirementSet).where(
                RequirementSet.jurisdiction_id == jurisdiction.id,
                RequirementSet.name == merged["name"],
            )
        )
        if exists is not None:
            continue
        year = int(merged["year"])
        categories = categories_by_slug(session, jurisdiction)
        req_set = RequirementSet(
            jurisdiction=jurisdiction,
            name=merged["name"],
            period_kind=merged.get("period_kind", "calendar_year"),
            starts_on=dt.date(year, 1, 1),
            ends_on=dt.date(year, 12, 31),
            grace_until=dt.date(year + 1, 3, 15),
            total_hours=Decimal(str(merged["total_hours"])),
            approved_provider_min_hours=Decimal(str(merged.get("approved_provider_min_hours", 0))),
            source_url=merged.get("source_url", ""),
            notes=merged.get("notes", ""),
        )
        for req in merged.get("requirements", []):
            req_set.requirements.append(
                Requirement(
                    category=categories[req["category"]],
                    min_hours=Decimal(str(req["min_hours"])),
                    counts_within_total=req.get("counts_within_total", True),
                    delivery_modes=req.get("delivery_modes", []),
                    applies_to=req.get("applies_to", ""),
                )
            )
        session.add(req_set)
        report.add("requirement sets")
    session.flush()


def seed_providers(session, path: Path, report: SeedReport) -> dict[str, Provider]:
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
    wanted = dict(DEMO_PASSWORDS)
    for slug, provider in sorted(providers.items()):
        wanted[f"{slug}@provider.example"] = ("provider", provider, "Demo-Provider-2026!")
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


def seed_all(session, seed_dir: Path = SEED_DIR, *, demo: bool = True) -> SeedReport:
    """Taxonomy and requirement sets for every jurisdiction folder; demo providers, catalogs, users."""
    report = SeedReport()
    jurisdictions = []
    for folder in sorted(p for p in seed_dir.iterdir() if (p / "taxonomy.toml").exists()):
        jurisdictions.append(seed_taxonomy(session, folder / "taxonomy.toml", report))
        if (folder / "requirements.toml").exists():
            seed_requirements(session, folder / "requirements.toml", report)
    if demo and jurisdictions and (seed_dir / "providers.csv").exists():
        providers = seed_providers(session, seed_dir / "providers.csv", report)
        seed_demo_catalogs(session, jurisdictions[0], providers, seed_dir / "catalogs", report)
        seed_demo_users(session, providers, report)
    return report
