"""Adding and deleting a whole category (an area or a topic) of a jurisdiction.

Called through `catalog.services.taxonomy_edits.apply_change` like every other taxonomy edit, so the
caller re-suggests the pending courses and commits. A category may be deleted only while nothing
that outlives a re-suggestion depends on it: decided, proposed or kept suggested course rows,
requirement minimums, topics pointing at it, engine settings naming it. Its phrases go with it.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, or_, select

from catalog.models import (
    CATEGORY_KINDS,
    KEYWORD_WEIGHTS,
    Category,
    Course,
    CourseCategory,
    Jurisdiction,
    Requirement,
    RequirementSet,
)
from catalog.services import audit
from catalog.services.errors import Invalid
from catalog.services.suggesting import taxonomy_dict
from mapping import Taxonomy, TaxonomyError
from mapping.taxonomy import DEFAULT_SETTINGS

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SORT_ORDER_MAX = 10_000


def as_engine_dict(values: dict) -> dict:
    """A new category's values in the shape `mapping.Taxonomy.from_dict` takes (no phrases yet)."""
    return {
        "slug": values["slug"],
        "kind": values["kind"],
        "name": values["name"],
        "description": values.get("description") or "",
        "sort_order": values.get("sort_order") or 0,
        "default_area": values.get("default_area") or None,
        "live_only": bool(values.get("live_only")),
    }


def snapshot(category: Category) -> dict:
    """Everything about a category, for the audit trail (a deleted one can be rebuilt from it)."""
    return {
        "jurisdiction": category.jurisdiction.code,
        "slug": category.slug,
        "kind": category.kind,
        "name": category.name,
        "description": category.description,
        "default_area": category.default_area_slug,
        "parent": category.parent.slug if category.parent else None,
        "live_only": category.live_only,
        "sort_order": category.sort_order,
        "keywords": {w: category.phrases(w) for w in KEYWORD_WEIGHTS if category.phrases(w)},
    }


def _by_slug(session, jurisdiction: Jurisdiction, slug: str) -> Category | None:
    return session.scalar(
        select(Category).where(Category.jurisdiction_id == jurisdiction.id, Category.slug == slug)
    )


def category_problems(session, jurisdiction: Jurisdiction, values: dict) -> list[dict]:
    """What is wrong with a new category's values, as [{"field", "message"}] (empty when fine)."""
    problems: list[dict] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    slug = values.get("slug") or ""
    if not SLUG_PATTERN.match(slug):
        problem(
            "slug",
            "Use lower-case letters, digits and single hyphens between words, "
            "e.g. crisis-intervention.",
        )
    elif (other := _by_slug(session, jurisdiction, slug)) is not None:
        problem("slug", f"The slug {slug} is already used by {other.name} in {jurisdiction.name}.")
    name = (values.get("name") or "").strip()
    if not name:
        problem("name", "Enter a name.")
    else:
        clash = session.scalar(
            select(Category.name).where(
                Category.jurisdiction_id == jurisdiction.id,
                func.lower(Category.name) == name.lower(),
            )
        )
        if clash is not None:
            problem("name", f"A category called {clash} already exists.")
    kind = values.get("kind")
    default_area = values.get("default_area") or None
    if kind not in CATEGORY_KINDS:
        problem("kind", "Choose area or topic.")
    elif kind == "topic":
        area = _by_slug(session, jurisdiction, default_area) if default_area else None
        if default_area is None:
            problem(
                "default_area",
                "A topic needs a default area: the area its hours usually count toward.",
            )
        elif area is None or area.kind != "area":
            problem("default_area", f"{default_area} is not an area of {jurisdiction.name}.")
    else:
        if default_area is not None:
            problem("default_area", "Only a topic has a default area: leave it empty for an area.")
        if values.get("live_only"):
            problem("live_only", "Only a topic can be live-only: an area has no delivery rule.")
    sort_order = values.get("sort_order")
    if sort_order is not None and not (
        isinstance(sort_order, int) and 0 <= sort_order <= SORT_ORDER_MAX
    ):
        problem("sort_order", f"The sort order must be a whole number from 0 to {SORT_ORDER_MAX}.")
    return problems


def next_sort_order(session, jurisdiction: Jurisdiction, kind: str) -> int:
    """One after the last category of this kind, so a new one is listed at the end."""
    last = session.scalar(
        select(func.max(Category.sort_order)).where(
            Category.jurisdiction_id == jurisdiction.id, Category.kind == kind
        )
    )
    return (last or 0) + 1


def add_category(session, jurisdiction: Jurisdiction, change: dict, user, note: str) -> Category:
    """Create the category after checking its values and that the engine accepts it; audited."""
    problems = category_problems(session, jurisdiction, change)
    if problems:
        raise Invalid(problems[0]["message"], problems)
    values = dict(change)
    if values.get("sort_order") is None:
        values["sort_order"] = next_sort_order(session, jurisdiction, values["kind"])
    tax = taxonomy_dict(session, jurisdiction)
    tax["categories"].append(as_engine_dict(values))
    try:
        Taxonomy.from_dict(tax)
    except TaxonomyError as exc:
        raise Invalid(
            f"The engine cannot use this category: {exc}", [{"field": "slug", "message": str(exc)}]
        ) from exc
    category = Category(
        jurisdiction_id=jurisdiction.id,
        slug=values["slug"],
        kind=values["kind"],
        name=values["name"].strip(),
        description=(values.get("description") or "").strip(),
        default_area_slug=values.get("default_area") or None,
        live_only=bool(values.get("live_only")),
        sort_order=values["sort_order"],
    )
    session.add(category)
    session.flush()
    audit.record(
        session,
        action="category-create",
        entity_type="category",
        entity_id=category.id,
        user=user,
        after=snapshot(category),
        note=note,
    )
    return category


def _courses(n: int, what: str = "course") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _names(label: str, names: list[str]) -> str:
    return f"{label}{'' if len(names) == 1 else 's'} {', '.join(names)}"


def category_uses(session, jurisdiction: Jurisdiction, category: Category) -> list[str]:
    """What still depends on the category, one phrase each; empty when it may be deleted.

    Suggested rows of pending courses do not count: deleting re-suggests those courses.
    """
    uses: list[str] = []
    by_source = session.execute(
        select(CourseCategory.source, Course.status, func.count())
        .join(Course, Course.id == CourseCategory.course_id)
        .where(CourseCategory.category_id == category.id)
        .group_by(CourseCategory.source, Course.status)
    ).all()
    decided = sorted(
        ((status, n) for source, status, n in by_source if source == "decided"),
        key=lambda row: (row[0] != "approved", row[0]),
    )
    for status, n in decided:
        if status == "approved":
            uses.append(f"{_courses(n, 'approved course')} count{'s' if n == 1 else ''} toward it")
        else:
            verb, their = ("records", "its") if n == 1 else ("record", "their")
            uses.append(f"{_courses(n, status + ' course')} {verb} it in {their} decision")
    proposed = sum(n for source, _status, n in by_source if source == "proposed")
    if proposed:
        uses.append(f"providers proposed it for {_courses(proposed)}")
    kept = sum(
        n for source, status, n in by_source if source == "suggested" and status != "pending"
    )
    if kept:
        uses.append(f"the engine suggestion kept with {_courses(kept, 'decided course')} names it")
    sets = session.scalars(
        select(RequirementSet.name)
        .join(Requirement, Requirement.requirement_set_id == RequirementSet.id)
        .where(Requirement.category_id == category.id)
        .order_by(RequirementSet.starts_on, RequirementSet.name)
    ).all()
    if sets:
        uses.append(f"it is used by {_names('requirement set', list(sets))}")
    dependants = session.scalars(
        select(Category)
        .where(
            Category.jurisdiction_id == jurisdiction.id,
            Category.id != category.id,
            or_(Category.default_area_slug == category.slug, Category.parent_id == category.id),
        )
        .order_by(Category.sort_order, Category.id)
    ).all()
    defaulting = [c.name for c in dependants if c.default_area_slug == category.slug]
    parented = [c.name for c in dependants if c.default_area_slug != category.slug]
    if defaulting:
        uses.append(f"it is the default area of {_names('topic', defaulting)}")
    if parented:
        uses.append(f"it is the parent area of {_names('topic', parented)}")
    settings = jurisdiction.settings or {}
    named = []
    if settings.get("fallback_area", DEFAULT_SETTINGS["fallback_area"]) == category.slug:
        named.append("fallback_area")
    if category.slug in (settings.get("tie_break_areas") or []):
        named.append("tie_break_areas")
    if any(key.split(":", 1)[0] == category.slug for key in settings.get("phrase_scores") or {}):
        named.append("phrase_scores")
    if named:
        uses.append(f"the engine settings name it ({', '.join(named)})")
    if not uses:
        tax = taxonomy_dict(session, jurisdiction)
        tax["categories"] = [c for c in tax["categories"] if c["slug"] != category.slug]
        try:
            Taxonomy.from_dict(tax)
        except TaxonomyError as exc:
            uses.append(f"the matching engine cannot work without it ({exc})")
    return uses


def refuse_if_used(session, jurisdiction: Jurisdiction, slug: str) -> Category:
    """The category, or Invalid saying everything that still depends on it."""
    category = _by_slug(session, jurisdiction, slug)
    if category is None:
        raise Invalid("That category no longer exists.")
    uses = category_uses(session, jurisdiction, category)
    if uses:
        raise Invalid(
            f"{category.name} cannot be deleted: {'; '.join(uses)}.",
            [{"field": "category", "message": use} for use in uses],
        )
    return category


def remove_category(session, jurisdiction: Jurisdiction, slug: str, user, note: str) -> None:
    """Delete an unused category with its phrases and pending suggestions of it; audited."""
    category = refuse_if_used(session, jurisdiction, slug)
    before = snapshot(category)
    # Only pending courses can still hold a suggestion of it (refuse_if_used checked); the
    # caller re-suggests them without it.
    pending = select(Course.id).where(Course.status == "pending")
    session.execute(
        delete(CourseCategory)
        .where(
            CourseCategory.category_id == category.id,
            CourseCategory.source == "suggested",
            CourseCategory.course_id.in_(pending),
        )
        .execution_options(synchronize_session=False)
    )
    category_id = category.id
    session.delete(category)
    session.flush()
    audit.record(
        session,
        action="category-delete",
        entity_type="category",
        entity_id=category_id,
        user=user,
        before=before,
        note=note,
    )


def edit_category(session, category: Category, name: str, description: str, user) -> None:
    """Rename a category or change its description (what the pages show; the engine's phrases
    are separate taxonomy edits), audited."""
    before = {"name": category.name, "description": category.description}
    category.name = name.strip()
    category.description = description.strip()
    audit.record(
        session,
        action="category-edit",
        entity_type="category",
        entity_id=category.id,
        user=user,
        before=before,
        after={"name": category.name, "description": category.description},
    )
