"""Loading seed_data/ into the database. Idempotent: running it again changes nothing, and it never
overwrites what staff have edited since (existing rows are left as they are).

Every folder with a taxonomy.toml is one jurisdiction; seed_data/seed.toml says which one is loaded
first (the one the app serves when CATALOG_JURISDICTION is not set) and which one the demo data
belongs to. Nothing here knows any particular state.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from catalog.models import (
    Abbreviation,
    AuditEntry,
    Category,
    Jurisdiction,
    Keyword,
    Requirement,
    RequirementSet,
)
from catalog.services.demo_data import seed_demo_catalogs, seed_demo_users, seed_providers
from catalog.services.errors import NotFound
from catalog.services.jurisdictions import default_jurisdiction
from catalog.services.suggesting import (
    DISPLAY_KEY,
    categories_by_slug,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"


# Wording of the pages, from a taxonomy's [jurisdiction] table (see seed_data/README.md).
DISPLAY_FIELDS = (
    "short_name",
    "ce_term",
    "ce_name",
    "period_word",
    "approved_by",
    "example_area_hours",
    "example_topics",
)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def deleted_categories(session, jurisdiction: Jurisdiction) -> set[str]:
    """Slugs of categories staff deleted in /admin: seeding again must not bring them back."""
    if jurisdiction.id is None:
        return set()
    befores = session.scalars(
        select(AuditEntry.before).where(
            AuditEntry.action == "category-delete", AuditEntry.entity_type == "category"
        )
    )
    return {
        b["slug"]
        for b in befores
        if isinstance(b, dict) and b.get("jurisdiction") == jurisdiction.code and "slug" in b
    }


def seed_taxonomy(session, path: Path, report: SeedReport) -> Jurisdiction:
    """Jurisdiction, categories with keywords, abbreviations: create what is missing."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    info = data["jurisdiction"]
    display = {k: str(info[k]) for k in DISPLAY_FIELDS if k in info}
    jurisdiction = session.scalar(select(Jurisdiction).where(Jurisdiction.code == info["code"]))
    if jurisdiction is None:
        settings = dict(data.get("settings", {}))
        if display:
            settings[DISPLAY_KEY] = display
        jurisdiction = Jurisdiction(
            code=info["code"],
            name=info["name"],
            regulator=info.get("regulator", ""),
            course_id_label=info.get("course_id_label", "Control number"),
            settings=settings,
        )
        session.add(jurisdiction)
        session.flush()
        report.add("jurisdictions")
    else:  # a database seeded before the wording existed: add the missing entries only
        settings = dict(jurisdiction.settings or {})
        shown = dict(settings.get(DISPLAY_KEY) or {})
        missing = {k: v for k, v in display.items() if k not in shown}
        if missing:
            settings[DISPLAY_KEY] = {**shown, **missing}
            jurisdiction.settings = settings
            report.add("page wording entries", len(missing))
    existing = {c.slug: c for c in jurisdiction.categories}
    existing.update({slug: None for slug in deleted_categories(session, jurisdiction)})
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
            ("qualifier", "qualifiers"),
        ):
            for phrase in dict.fromkeys(spec.get(key, [])):
                category.keywords.append(Keyword(weight=weight, phrase=phrase))
        session.add(category)
        existing[spec["slug"]] = category
        if spec.get("parent"):
            pending_parents.append((category, spec["parent"]))
        report.add("categories")
    for category, parent_slug in pending_parents:
        category.parent = existing[parent_slug]  # None when staff deleted the parent
    known_abbr = {a.abbreviation for a in jurisdiction.abbreviations}
    for abbr, expansion in data.get("abbreviations", {}).items():
        if abbr not in known_abbr:
            session.add(
                Abbreviation(jurisdiction=jurisdiction, abbreviation=abbr, expansion=expansion)
            )
            report.add("abbreviations")
    session.flush()
    return jurisdiction


def _date(spec: dict, key: str) -> dt.date:
    value = spec.get(key)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"requirement set {spec.get('name')!r}: {key} must be a date such as 2025-09-01, "
            f"got {value!r}"
        ) from None


def _period(spec: dict) -> tuple[dt.date, dt.date, dt.date | None]:
    """(starts_on, ends_on, grace_until) of a requirement set.

    Either `year` (a calendar year) or `starts_on` and `ends_on` (any period, e.g. a 2-year training
    unit). The grace period is `grace_until` (a date), or `grace_month_day` ("03-15": the first
    such day after the period ends), or none.
    """
    if "starts_on" in spec or "ends_on" in spec:
        starts_on, ends_on = _date(spec, "starts_on"), _date(spec, "ends_on")
    else:
        year = int(spec["year"])
        starts_on, ends_on = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if ends_on < starts_on:
        raise ValueError(f"requirement set {spec.get('name')!r} ends before it starts")
    grace_until = None
    if "grace_until" in spec:
        grace_until = _date(spec, "grace_until")
    elif "grace_month_day" in spec:
        month, day = (int(part) for part in str(spec["grace_month_day"]).split("-"))
        grace_until = dt.date(ends_on.year, month, day)
        if grace_until <= ends_on:
            grace_until = dt.date(ends_on.year + 1, month, day)
    return starts_on, ends_on, grace_until


def seed_requirements(session, path: Path, report: SeedReport) -> None:
    """A jurisdiction's requirement sets from requirements.toml (existing names are kept)."""
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
        starts_on, ends_on, grace_until = _period(merged)
        categories = categories_by_slug(session, jurisdiction)
        req_set = RequirementSet(
            jurisdiction=jurisdiction,
            name=merged["name"],
            period_kind=merged.get("period_kind", "calendar_year"),
            starts_on=starts_on,
            ends_on=ends_on,
            grace_until=grace_until,
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


def _jurisdiction_folders(seed_dir: Path) -> dict[str, Path]:
    """Jurisdiction code -> its folder (every folder with a taxonomy.toml), in folder order."""
    folders: dict[str, Path] = {}
    for folder in sorted(p for p in seed_dir.iterdir() if (p / "taxonomy.toml").exists()):
        data = tomllib.loads((folder / "taxonomy.toml").read_text(encoding="utf-8"))
        folders[data["jurisdiction"]["code"]] = folder
    return folders


def seed_all(
    session, seed_dir: Path = SEED_DIR, *, served_code: str | None, demo: bool = True
) -> SeedReport:
    """Taxonomy and requirement sets for every jurisdiction folder; demo providers, catalogs, users.

    seed.toml `first` is loaded first, so on a fresh database it is the jurisdiction served when
    CATALOG_JURISDICTION is unset. The demo data belongs to seed.toml `demo` (default: the first)
    and is loaded only when the app serves that jurisdiction.
    """
    report = SeedReport()
    plan_file = seed_dir / "seed.toml"
    plan = tomllib.loads(plan_file.read_text(encoding="utf-8")) if plan_file.exists() else {}
    folders = _jurisdiction_folders(seed_dir)
    order = sorted(folders, key=lambda code: code != plan.get("first"))
    wanted = served_code  # the configured CATALOG_JURISDICTION (None: the first seeded)
    if wanted and wanted not in folders:
        known = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == wanted))
        if known is None:
            raise NotFound(
                f"No jurisdiction '{wanted}' to seed (CATALOG_JURISDICTION={wanted}): seed_data "
                f"has {', '.join(order) or 'none'}. Add seed_data/{wanted.lower()}/taxonomy.toml "
                "or change the setting."
            )
    jurisdictions: dict[str, Jurisdiction] = {}
    for code in order:
        folder = folders[code]
        jurisdictions[code] = seed_taxonomy(session, folder / "taxonomy.toml", report)
        if (folder / "requirements.toml").exists():
            seed_requirements(session, folder / "requirements.toml", report)
    if demo and jurisdictions and (seed_dir / "providers.csv").exists():
        demo_code = plan.get("demo") or order[0]
        target = jurisdictions.get(demo_code)
        served = default_jurisdiction(session, served_code)
        if target is None:
            report.notes.append(
                f"Demo data skipped: seed.toml gives it to {demo_code}, which has no folder."
            )
        elif served.id != target.id:
            report.notes.append(
                f"Demo data skipped: it is {demo_code} data and the app serves {served.code} "
                "(CATALOG_JURISDICTION)."
            )
        else:
            providers = seed_providers(session, seed_dir / "providers.csv", report)
            seed_demo_catalogs(session, target, providers, seed_dir / "catalogs", report)
            seed_demo_users(session, providers, report)
    return report
