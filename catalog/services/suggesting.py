"""Bridge between the database and the pure matching engine.

The taxonomy and the examples (staff decisions) are read from the database, so staff edits take
effect without a restart; the compiled engine is cached until either changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.config import configured_jurisdiction
from catalog.models import Category, Course, CourseCategory, Jurisdiction
from catalog.models.types import utcnow
from catalog.services.courses import set_course_categories
from mapping import CourseInput, Engine, Example, Taxonomy

_CACHE: OrderedDict[str, Engine] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()
# The learned layer (fitted on the decisions) per taxonomy version: (decisions it saw, learner).
# A new decision gives a new engine at once (its similar-course evidence is current), but the
# model is refitted only when the decisions grew by REFIT_MIN or REFIT_SHARE since its fit, or
# shrank: fitting and calibrating thousands of decisions takes seconds, not a request's budget.
_LEARNERS: dict[str, tuple[int, object]] = {}
REFIT_MIN = 10
REFIT_SHARE = 0.1


# Key of Jurisdiction.settings holding the pages' wording (short name, CE term ...), not an engine
# knob: seeding.py writes it from the [jurisdiction] table, templating.py reads it.
DISPLAY_KEY = "display"


def engine_settings(jurisdiction: Jurisdiction) -> dict:
    """The jurisdiction's engine settings (its settings without the pages' wording)."""
    return {k: v for k, v in (jurisdiction.settings or {}).items() if k != DISPLAY_KEY}


def taxonomy_dict(session, jurisdiction: Jurisdiction) -> dict:
    """The jurisdiction's taxonomy as the plain dict `mapping.Taxonomy.from_dict` takes."""
    categories = session.scalars(
        select(Category)
        .where(Category.jurisdiction_id == jurisdiction.id)
        .options(selectinload(Category.keywords), selectinload(Category.parent))
        .order_by(Category.sort_order, Category.id)
    ).all()
    return {
        "jurisdiction": {
            "code": jurisdiction.code,
            "name": jurisdiction.name,
            "regulator": jurisdiction.regulator,
            "course_id_label": jurisdiction.course_id_label,
        },
        "abbreviations": {a.abbreviation: a.expansion for a in jurisdiction.abbreviations},
        "settings": engine_settings(jurisdiction),
        "categories": [
            {
                "slug": c.slug,
                "kind": c.kind,
                "name": c.name,
                "description": c.description,
                "sort_order": c.sort_order,
                "strong": c.phrases("strong"),
                "weak": c.phrases("weak"),
                "exclusions": c.phrases("exclusion"),
                "identifiers": c.phrases("identifier"),
                "qualifiers": c.phrases("qualifier"),
                "parent": c.parent.slug if c.parent else None,
                "default_area": c.default_area_slug,
                "live_only": c.live_only,
            }
            for c in categories
        ],
    }


def load_examples(session, jurisdiction: Jurisdiction) -> list[Example]:
    """Approved courses with their decided areas and topics: evidence for similar titles."""
    rows = session.execute(
        select(Course.id, Course.title, Category.slug, Category.kind, CourseCategory.hours)
        .join(CourseCategory, CourseCategory.course_id == Course.id)
        .join(Category, Category.id == CourseCategory.category_id)
        .where(
            Course.jurisdiction_id == jurisdiction.id,
            Course.status == "approved",
            CourseCategory.source == "decided",
        )
        .order_by(Course.id)
    ).all()
    grouped: dict[int, dict] = {}
    for course_id, title, slug, kind, hours in rows:
        entry = grouped.setdefault(course_id, {"title": title, "areas": {}, "topics": []})
        if kind == "area":
            entry["areas"][slug] = hours if hours is not None else Decimal(0)
        else:
            entry["topics"].append(slug)
    return [
        Example(title=e["title"], areas=e["areas"], topics=sorted(e["topics"]), course_id=cid)
        for cid, e in grouped.items()
    ]


def _examples_signature(session, jurisdiction: Jurisdiction) -> str:
    count, last = session.execute(
        select(func.count(Course.id), func.max(Course.decided_at)).where(
            Course.jurisdiction_id == jurisdiction.id, Course.status == "approved"
        )
    ).one()
    return f"{count}:{last}"


def get_engine(session, jurisdiction: Jurisdiction, *, with_examples: bool = True) -> Engine:
    """The engine for a jurisdiction's current taxonomy and decisions (cached)."""
    tax = taxonomy_dict(session, jurisdiction)
    key = hashlib.sha256(json.dumps(tax, sort_keys=True, default=str).encode()).hexdigest()
    if with_examples:
        key += "|" + _examples_signature(session, jurisdiction)
    with _LOCK:
        engine = _CACHE.get(key)
        if engine is not None:
            _CACHE.move_to_end(key)
            return engine
    examples = load_examples(session, jurisdiction) if with_examples else []
    tax_key = f"{session.get_bind().url}|{jurisdiction.id}|{key.split('|', 1)[0]}"
    learner = None
    with _LOCK:
        seen, fitted = _LEARNERS.get(tax_key, (0, None))
    n = len(examples)
    if fitted is not None and seen <= n < seen + max(REFIT_MIN, seen * REFIT_SHARE):
        learner = fitted
    engine = Engine(Taxonomy.from_dict(tax), examples=examples, learner=learner)
    with _LOCK:
        if with_examples and learner is None:
            _LEARNERS[tax_key] = (n, engine.learner)
            while len(_LEARNERS) > _CACHE_SIZE:
                _LEARNERS.pop(next(iter(_LEARNERS)))
        _CACHE[key] = engine
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return engine


def similar_decided(
    session,
    jurisdiction: Jurisdiction,
    title: str,
    *,
    exclude_id: int | None,
    limit: int,
    cutoff: int,
) -> list[tuple[int, int]]:
    """(score 0-100, course id) of the approved courses most like this title, best first.

    The score is the engine's honest similarity (rare words weigh more, one shared short word is
    not a match), over the same decided courses the engine learns from (its cached index).
    """
    engine = get_engine(session, jurisdiction)
    found = engine.similar([title], k=limit + 1)[0]
    return [
        (score, ex.course_id)
        for score, ex in found
        if score >= cutoff and ex.course_id is not None and ex.course_id != exclude_id
    ][:limit]


def course_input(fields) -> CourseInput:
    """A CourseInput from a Course or a dict of row values."""
    get = (lambda k: getattr(fields, k, None)) if not isinstance(fields, dict) else fields.get
    hours = get("hours")
    return CourseInput(
        title=get("title") or "",
        description=get("description") or None,
        objectives=get("objectives") or None,
        hours=Decimal(str(hours)) if hours not in (None, "") else None,
        delivery=get("delivery") or None,
    )


def suggested_labels(suggestion: dict) -> tuple[dict[str, Decimal], list[str]]:
    """(area -> hours, topics) that the engine actually suggests, from a Suggestion.to_dict()."""
    areas: dict[str, Decimal] = {}
    for area in suggestion.get("areas", []):
        hours = area.get("hours")
        if hours is not None and Decimal(str(hours)) > 0:
            areas[area["slug"]] = Decimal(str(hours))
    if not areas and suggestion.get("areas"):
        top = suggestion["areas"][0]
        areas[top["slug"]] = (
            Decimal(str(top["hours"])) if top.get("hours") is not None else Decimal(0)
        )
    topics = [t["slug"] for t in suggestion.get("topics", [])]
    return areas, topics


def headline(suggestion: dict) -> tuple[int, bool]:
    """(score, confident) that the review queue sorts and filters on: the weakest suggested label."""
    areas, topics = suggested_labels(suggestion)
    entries = [a for a in suggestion.get("areas", []) if a["slug"] in areas]
    entries += [t for t in suggestion.get("topics", []) if t["slug"] in topics]
    if not entries:
        return 0, False
    score = min(int(round(e.get("score", 0))) for e in entries)
    confident = all(e.get("confident") for e in entries) and not suggestion.get("flags")
    return score, confident


def apply_suggestion(
    course: Course, suggestion: dict, categories_by_slug: dict[str, Category]
) -> None:
    """Store the engine's suggestion on the course: the full evidence and one row per label."""
    course.suggestion = suggestion
    course.suggestion_score, course.suggestion_confident = headline(suggestion)
    course.suggested_at = utcnow()
    areas, topics = suggested_labels(suggestion)
    by_slug = {e["slug"]: e for e in suggestion.get("areas", []) + suggestion.get("topics", [])}
    scores = {
        slug: (int(round(e.get("score", 0))), bool(e.get("confident")), e.get("evidence", []))
        for slug, e in by_slug.items()
    }
    known = {s: h for s, h in areas.items() if s in categories_by_slug}
    set_course_categories(
        course,
        "suggested",
        known,
        [t for t in topics if t in categories_by_slug],
        categories_by_slug,
        scores=scores,
    )


def suggest_courses(session, jurisdiction: Jurisdiction, courses: Iterable[Course]) -> None:
    """Run the engine over many courses in one batch and store each suggestion."""
    courses = list(courses)
    if not courses:
        return
    engine = get_engine(session, jurisdiction)
    categories = categories_by_slug(session, jurisdiction)
    results = engine.suggest_many([course_input(c) for c in courses])
    for course, result in zip(courses, results, strict=True):
        apply_suggestion(course, result.to_dict(), categories)


def categories_by_slug(session, jurisdiction: Jurisdiction) -> dict[str, Category]:
    return {
        c.slug: c
        for c in session.scalars(
            select(Category).where(Category.jurisdiction_id == jurisdiction.id)
        )
    }


def served_jurisdiction(session, code: str | None = None) -> Jurisdiction | None:
    """The jurisdiction the app serves: CATALOG_JURISDICTION (or `code`), else the first one
    seeded; None when nothing is seeded yet and no code is configured.

    A configured code that is not in the database raises NotFound naming the codes that are.
    """
    code = code or configured_jurisdiction()
    if not code:
        return session.scalar(select(Jurisdiction).order_by(Jurisdiction.id).limit(1))
    found = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if found is None:
        from catalog.services.errors import NotFound

        known = ", ".join(session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.id)))
        raise NotFound(
            f"No jurisdiction '{code}' is set up (CATALOG_JURISDICTION={code}): "
            + (f"this database has {known}. " if known else "this database has none yet. ")
            + f"Add seed_data/{code.lower()}/taxonomy.toml and run `flask --app catalog seed`, "
            "or change the setting."
        )
    return found


def default_jurisdiction(session, code: str | None = None) -> Jurisdiction:
    """The jurisdiction the app serves (CATALOG_JURISDICTION, else the first one seeded)."""
    jurisdiction = served_jurisdiction(session, code)
    if jurisdiction is None:
        from catalog.services.errors import NotFound

        raise NotFound("No jurisdiction is set up yet: run `flask --app catalog seed`.")
    return jurisdiction
