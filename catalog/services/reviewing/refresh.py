"""Pending suggestions kept current with the staff decisions, lazily and in bounded work.

A decision changes what the engine knows (similar decided courses, the learned layer), so the
suggestions of the other pending courses of the jurisdiction go stale. They are re-suggested when
staff next look: the queue refreshes up to LIMIT stale pending courses (engine-unsure first, as the
queue sorts), a course's review page refreshes that course. Stale means suggested before the
jurisdiction's last decision. The course's `version` (the lost-update guard of decisions and bulk
approval) moves only when what a reviewer approves changes: the suggested labels and hours, the
headline score or the confident flag. New evidence, probabilities or reasons under the same labels
are written without a version bump (a plain UPDATE), so a form opened before stays valid. No
audit entries: the engine's suggestion is not a decision, and
the stored evidence says what it rests on ("'x' appears in N decided ... courses").
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from catalog.models import Course, CourseCategory, Jurisdiction
from catalog.models.types import utcnow
from catalog.services.courses import set_course_categories
from catalog.services.suggesting import (
    apply_suggestion,
    categories_by_slug,
    course_input,
    get_engine,
    headline,
    suggested_labels,
    suggested_rows,
)

_COURSES = Course.__table__
# table-level: the ORM would move the version counter
_QUIET = (
    _COURSES.update()
    .where(_COURSES.c.id == bindparam("course_id"))
    .values(suggestion=bindparam("new"), suggested_at=bindparam("at"))
)

LIMIT = 500  # stale courses re-suggested per queue load (about a second of engine work)
BATCH = 250  # courses loaded and scored together


def last_decision_at(session, jurisdiction: Jurisdiction):
    """When a course of the jurisdiction was last decided (None: never)."""
    return session.scalar(
        select(func.max(Course.decided_at)).where(Course.jurisdiction_id == jurisdiction.id)
    )


def _stale(jurisdiction: Jurisdiction, since):
    return (
        Course.jurisdiction_id == jurisdiction.id,
        Course.status == "pending",
        or_(Course.suggested_at.is_(None), Course.suggested_at < since),
    )


def refresh_pending(
    session, jurisdiction: Jurisdiction, *, limit: int = LIMIT, ids: list[int] | None = None
) -> int:
    """Re-suggest up to `limit` stale pending courses (only `ids` when given); returns how many
    suggestions changed. Flushes; the caller commits."""
    since = last_decision_at(session, jurisdiction)
    if since is None:
        return 0
    query = select(Course.id).where(*_stale(jurisdiction, since))
    if ids is not None:
        query = query.where(Course.id.in_(ids))
    stale = list(
        session.scalars(
            query.order_by(Course.suggestion_confident, Course.suggestion_score, Course.id).limit(
                limit
            )
        )
    )
    if not stale:
        return 0
    engine = get_engine(session, jurisdiction)
    categories = categories_by_slug(session, jurisdiction)
    changed = 0
    for start in range(0, len(stale), BATCH):
        courses = session.scalars(
            select(Course)
            .where(Course.id.in_(stale[start : start + BATCH]))
            .options(selectinload(Course.categories).selectinload(CourseCategory.category))
            .order_by(Course.id)
        ).all()
        results = engine.suggest_many([course_input(c) for c in courses])
        quiet = []
        for course, result in zip(courses, results, strict=True):
            new = json.loads(json.dumps(result.to_dict(), default=str))
            if new != course.suggestion:
                changed += 1
            if new == course.suggestion or _material(new) == _material(course.suggestion):
                _store_rows(course, new, categories)
                quiet.append({"course_id": course.id, "new": new, "at": utcnow()})
            else:
                apply_suggestion(course, new, categories)
        session.flush()
        if quiet:
            session.execute(_QUIET, quiet)
    return changed


def _material(suggestion: dict | None) -> tuple:
    """What a reviewer approves: the suggested labels and hours, the headline score and flag."""
    return (suggested_labels(suggestion or {}), headline(suggestion or {}))


def _store_rows(course: Course, suggestion: dict, categories) -> None:
    """The suggestion's evidence rows (same labels: updated in place, the course row untouched)."""
    rows = suggested_rows(suggestion, categories)
    set_course_categories(
        course,
        "suggested",
        {r.slug: r.hours for r in rows if r.hours is not None},
        [r.slug for r in rows if r.hours is None],
        categories,
        scores={r.slug: (r.score, r.confident, r.evidence) for r in rows},
    )
