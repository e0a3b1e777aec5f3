"""Course helpers shared by import, review and seeding: identity, change detection, categories."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from decimal import Decimal

from catalog.models import Category, Course, CourseCategory
from catalog.models.types import format_hours

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """Identity key for a title within a provider: case, accents, punctuation and spacing folded."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _NON_WORD.sub(" ", text).strip()[:500]


def content_hash(fields: dict) -> str:
    """Stable hash of a course's submitted content, to tell changed from unchanged on re-upload."""
    keys = ("title", "hours", "delivery", "description", "objectives", "url", "provider_code")
    payload = {k: str(fields.get(k) or "") for k in keys}
    if fields.get("hours") is not None:
        payload["hours"] = format_hours(fields["hours"])
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def end_of_year(day: dt.date) -> dt.date:
    """December 31 of the day's year."""
    return dt.date(day.year, 12, 31)


def course_categories(course: Course, source: str) -> tuple[dict[str, Decimal], list[str]]:
    """(area slug -> hours, [topic slugs]) of one source for a loaded course."""
    areas: dict[str, Decimal] = {}
    topics: list[str] = []
    for row in course.categories:
        if row.source != source:
            continue
        if row.category.kind == "area":
            areas[row.category.slug] = row.hours if row.hours is not None else Decimal(0)
        else:
            topics.append(row.category.slug)
    return areas, sorted(topics)


def set_course_categories(
    course: Course,
    source: str,
    areas: dict[str, Decimal],
    topics: list[str],
    categories_by_slug: dict[str, Category],
    *,
    scores: dict[str, tuple[int | None, bool, list]] | None = None,
) -> None:
    """Replace the course's rows of one source (suggested/proposed/decided) with the given ones.

    Rows whose category stays are updated in place: the unit of work inserts before it deletes, so
    deleting and re-adding the same (course, source, category) would trip the unique index.
    """
    scores = scores or {}
    wanted: dict[str, Decimal | None] = {slug: Decimal(str(h)) for slug, h in areas.items()}
    wanted.update({slug: None for slug in topics if slug not in wanted})
    existing = {c.category.slug: c for c in course.categories if c.source == source}
    course.categories[:] = [
        c for c in course.categories if c.source != source or c.category.slug in wanted
    ]
    for slug, hours in wanted.items():
        score, confident, evidence = scores.get(slug, (None, False, []))
        row = existing.get(slug)
        if row is None:
            row = CourseCategory(category=categories_by_slug[slug], source=source)
            course.categories.append(row)
        row.hours = hours
        row.score = score
        row.confident = confident
        row.evidence = evidence


def snapshot(course: Course) -> dict:
    """JSON-able state of a course's decision, for the audit log."""
    areas, topics = course_categories(course, "decided")
    return {
        "status": course.status,
        "version": course.version,
        "areas": {k: format_hours(v) for k, v in areas.items()},
        "topics": topics,
        "approved_until": course.approved_until.isoformat() if course.approved_until else None,
        "control_number": course.control_number,
        "note": course.decision_note,
    }
