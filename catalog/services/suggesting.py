"""Bridge between the database and the pure matching engine.

The taxonomy and the examples (staff decisions) are read from the database, so staff edits take
effect without a restart; the compiled engine is cached until either changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.models import Category, Course, CourseCategory, Jurisdiction
from catalog.models.types import utcnow
from catalog.services import learning
from catalog.services.courses import set_course_categories
from mapping import CourseInput, Engine, Example, Taxonomy

_CACHE: OrderedDict[str, Engine] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()

# The learned layer: services/learning.py (refitted once per decisions version).
# The engine last known current per (database, jurisdiction, taxonomy) and since when, for
# get_engine(max_stale=...); the lock of each engine being built (one builder per key and process).
_LATEST: dict[str, tuple[float, Engine]] = {}
_BUILDING: dict[str, threading.Lock] = {}


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


def get_engine(
    session, jurisdiction: Jurisdiction, *, with_examples: bool = True, max_stale: float = 0.0
) -> Engine:
    """The engine for a jurisdiction's current taxonomy and decisions (cached).

    One thread per process builds a given engine; others asking for it meanwhile wait for that
    one instead of building their own. With `max_stale` > 0 (imports), an engine of the same
    taxonomy that was current less than that many seconds ago is good enough although decisions
    came since: a rebuild costs seconds, and under steady reviewing every import would pay one."""
    tax = taxonomy_dict(session, jurisdiction)
    tax_hash = hashlib.sha256(json.dumps(tax, sort_keys=True, default=str).encode()).hexdigest()
    key = tax_hash + ("|" + _examples_signature(session, jurisdiction) if with_examples else "")
    scope = f"{session.get_bind().url}|{jurisdiction.id}|{tax_hash}|{with_examples}"
    with _LOCK:
        engine = _CACHE.get(key)
        if engine is not None:
            _CACHE.move_to_end(key)
            _LATEST[scope] = (time.monotonic(), engine)  # current as of now
            if with_examples and engine.examples:
                _current_learner(engine, tax, key, _learner_key(session, jurisdiction, tax_hash))
            return engine
        seen_at, latest = _LATEST.get(scope, (0.0, None))
        if latest is not None and max_stale > 0 and time.monotonic() - seen_at < max_stale:
            return latest
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:
        with _LOCK:
            engine = _CACHE.get(key)
        if engine is None:
            engine = _build_engine(session, jurisdiction, tax, key, scope, with_examples)
    with _LOCK:
        _BUILDING.pop(key, None)
    return engine


def _current_learner(engine: Engine, tax: dict, key: str, scope: str) -> None:
    """A cached engine takes the learner a background fit of its version made meanwhile, or
    starts that fit if decisions came while the previous one ran."""
    learner = learning.fitted(scope, key)
    if learner is not None:
        engine.learner = learner
    elif learning.stale(scope, key, engine.learner):
        learning.refit_in_background(scope, key, tax, engine.examples)


def _build_engine(session, jurisdiction, tax: dict, key: str, scope: str, with_examples: bool):
    """A new engine; its learned layer is the one fitted on this decisions version (`key`), else
    fitted now, or in the background while the previous one serves (services/learning.py)."""
    examples = load_examples(session, jurisdiction) if with_examples else []
    learner_scope = _learner_key(session, jurisdiction, key.split("|", 1)[0])
    learner, background = None, False
    if with_examples:
        learner, background = learning.learner_for(learner_scope, key, len(examples))
    engine = Engine(Taxonomy.from_dict(tax), examples=examples, learner=learner)
    if with_examples and learner is None:
        learning.record(learner_scope, key, engine.learner)
    if background:
        learning.refit_in_background(learner_scope, key, tax, examples)
    with _LOCK:
        _CACHE[key] = engine
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        _LATEST[scope] = (time.monotonic(), engine)
        while len(_LATEST) > _CACHE_SIZE:
            _LATEST.pop(next(iter(_LATEST)))
    return engine


def _learner_key(session, jurisdiction: Jurisdiction, tax_hash: str) -> str:
    return f"{session.get_bind().url}|{jurisdiction.id}|{tax_hash}"


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


@dataclass(frozen=True)
class SuggestedRow:
    """One suggested label as a course_categories row: hours for an area, None for a topic."""

    slug: str
    hours: Decimal | None
    score: int
    confident: bool
    evidence: list


def suggested_rows(suggestion: dict, categories: dict[str, Category]) -> list[SuggestedRow]:
    """The rows a suggestion gives a course: its suggested labels (suggested_labels) that name a
    category of the jurisdiction, areas as areas and topics as topics, with score and evidence.
    The one rule for both the single-course path (apply_suggestion) and the bulk import writer."""
    areas, topics = suggested_labels(suggestion)
    by_slug = {e["slug"]: e for e in suggestion.get("areas", []) + suggestion.get("topics", [])}

    def row(slug: str, hours) -> SuggestedRow:
        entry = by_slug.get(slug, {})
        return SuggestedRow(
            slug,
            None if hours is None else Decimal(str(hours)),
            int(round(entry.get("score", 0))),
            bool(entry.get("confident")),
            entry.get("evidence", []),
        )

    out = [row(s, h) for s, h in areas.items() if s in categories and categories[s].kind == "area"]
    out += [row(t, None) for t in topics if t in categories and categories[t].kind != "area"]
    return out


def apply_suggestion(
    course: Course, suggestion: dict, categories_by_slug: dict[str, Category]
) -> None:
    """Store the engine's suggestion on the course: the full evidence and one row per label."""
    course.suggestion = suggestion
    course.suggestion_score, course.suggestion_confident = headline(suggestion)
    course.suggested_at = utcnow()
    rows = suggested_rows(suggestion, categories_by_slug)
    set_course_categories(
        course,
        "suggested",
        {r.slug: r.hours for r in rows if r.hours is not None},
        [r.slug for r in rows if r.hours is None],
        categories_by_slug,
        scores={r.slug: (r.score, r.confident, r.evidence) for r in rows},
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
    """The jurisdiction's categories by slug."""
    return {
        c.slug: c
        for c in session.scalars(
            select(Category).where(Category.jurisdiction_id == jurisdiction.id)
        )
    }


def evidence_spans(title: str, suggestion: dict | None) -> list[tuple[int, int, list[str]]]:
    """The parts of `title` the suggestion's evidence points at, as sorted, merged
    (start, end, labels) spans; labels name the evidence of each span. Nothing when the
    suggestion was made for another title."""
    suggestion = suggestion or {}
    if suggestion.get("title", title) != title:
        return []
    spans: list[tuple[int, int, str]] = []
    for entry in suggestion.get("areas", []) + suggestion.get("topics", []):
        for ev in entry.get("evidence", []):
            span = ev.get("span")
            if ev.get("field", "title") != "title" or not span or len(span) != 2:
                continue
            start, end = span
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(title):
                spans.append((start, end, str(ev.get("text") or entry.get("name") or "")))
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, label in spans:
        if merged and start <= merged[-1][1]:
            last_start, last_end, labels = merged[-1]
            if label and label not in labels:
                labels.append(label)
            merged[-1] = (last_start, max(last_end, end), labels)
        else:
            merged.append((start, end, [label] if label else []))
    return merged
