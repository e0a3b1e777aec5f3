"""Approved courses whose titles are close to a course's (within its jurisdiction, honest
similarity from the engine's word weights), with their decisions: what a reviewer compares a new
course with."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.models import Course, CourseCategory
from catalog.services.courses import course_categories
from catalog.services.suggesting import similar_decided

SIMILAR_LIMIT = 5
SIMILAR_CUTOFF = 35  # honest similarity (0-100): about a third of the weighted words shared


def similar_approved(session, course: Course, limit: int = SIMILAR_LIMIT) -> list[dict]:
    """The approved courses whose titles are closest to this one (honest similarity: rare words
    weigh more, one shared short word is no match), with their decisions."""
    matches = similar_decided(
        session,
        course.jurisdiction,
        course.title,
        exclude_id=course.id,
        limit=limit,
        cutoff=SIMILAR_CUTOFF,
    )
    if not matches:
        return []
    ids = [key for _, key in matches]
    loaded = {
        c.id: c
        for c in session.scalars(
            select(Course)
            .where(Course.id.in_(ids))
            .options(
                selectinload(Course.categories).selectinload(CourseCategory.category),
                selectinload(Course.provider),
            )
        )
    }
    result = []
    for score, key in matches:
        other = loaded.get(key)
        if other is None:
            continue
        areas, topics = course_categories(other, "decided")
        result.append({"course": other, "score": round(score), "areas": areas, "topics": topics})
    return result
