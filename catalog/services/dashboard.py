"""Numbers for the staff dashboard: queue size over time, acceptance of suggestions, approvals.

Reads only. Each function runs a handful of grouped queries, never one per course.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from catalog.models import Category, Course, CourseCategory
from catalog.models.types import utcnow
from catalog.services.publishing.rule import published_clause


@dataclass
class QueuePoint:
    day: dt.date
    pending: int


def queue_over_time(session, days: int = 30, today: dt.date | None = None) -> list[QueuePoint]:
    """Courses waiting at the end of each of the last `days` days: entered the queue when created
    (or last re-submitted), left it when decided."""
    today = today or utcnow().date()
    start = today - dt.timedelta(days=days - 1)
    rows = session.execute(select(Course.created_at, Course.decided_at, Course.status)).all()
    points = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        waiting = 0
        for created, decided, status in rows:
            if created is None or created >= end or status == "withdrawn":
                continue
            if status == "pending" and (decided is None or decided < created):
                waiting += 1
            elif decided is None or decided >= end:
                waiting += 1
        points.append(QueuePoint(day, waiting))
    return points


@dataclass
class Acceptance:
    slug: str
    name: str
    kind: str
    suggested: int  # approved courses where the engine suggested it
    decided: int  # approved courses where staff decided it
    agreed: int  # both

    @property
    def rate(self) -> float | None:
        """Share of the engine's suggestions of this category that staff kept."""
        return self.agreed / self.suggested if self.suggested else None

    @property
    def recall(self) -> float | None:
        """Share of staff decisions of this category the engine had suggested."""
        return self.agreed / self.decided if self.decided else None


def _labels_by_course(session, source: str, jurisdiction_id: int | None) -> dict[int, dict]:
    query = (
        select(CourseCategory.course_id, Category.slug, CourseCategory.hours)
        .join(Category, Category.id == CourseCategory.category_id)
        .join(Course, Course.id == CourseCategory.course_id)
        .where(Course.status == "approved", CourseCategory.source == source)
    )
    if jurisdiction_id is not None:
        query = query.where(Course.jurisdiction_id == jurisdiction_id)
    grouped: dict[int, dict] = {}
    for course_id, slug, hours in session.execute(query):
        grouped.setdefault(course_id, {})[slug] = hours
    return grouped


def acceptance(session, jurisdiction_id: int | None = None) -> tuple[list[Acceptance], dict]:
    """Per category, how often the engine's suggestion matched the decision on approved courses;
    plus whole-course figures: labels equal, and labels and hours equal."""
    categories = session.scalars(
        select(Category).order_by(Category.kind, Category.sort_order, Category.id)
    ).all()
    if jurisdiction_id is not None:
        categories = [c for c in categories if c.jurisdiction_id == jurisdiction_id]
    suggested = _labels_by_course(session, "suggested", jurisdiction_id)
    decided = _labels_by_course(session, "decided", jurisdiction_id)
    result = []
    for cat in categories:
        s = {cid for cid, labels in suggested.items() if cat.slug in labels}
        d = {cid for cid, labels in decided.items() if cat.slug in labels}
        result.append(Acceptance(cat.slug, cat.name, cat.kind, len(s), len(d), len(s & d)))
    courses = set(decided)
    same_labels = sum(1 for cid in courses if set(suggested.get(cid, {})) == set(decided[cid]))
    same_hours = sum(
        1
        for cid in courses
        if {k: _norm(v) for k, v in suggested.get(cid, {}).items()}
        == {k: _norm(v) for k, v in decided[cid].items()}
    )
    overall = {
        "courses": len(courses),
        "same_labels": same_labels,
        "same_hours": same_hours,
        "rate": same_labels / len(courses) if courses else None,
        "rate_hours": same_hours / len(courses) if courses else None,
    }
    return result, overall


def _norm(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


@dataclass
class ApprovedCount:
    slug: str
    name: str
    kind: str
    courses: int
    hours: Decimal


def approved_per_category(session, today: dt.date | None = None) -> list[ApprovedCount]:
    """Published courses per area and topic (areas also with their hours), by the one rule of
    publication."""
    today = today or dt.date.today()
    rows = session.execute(
        select(
            Category.slug,
            Category.name,
            Category.kind,
            func.count(CourseCategory.id),
            func.coalesce(func.sum(CourseCategory.hours), 0),
        )
        .join(CourseCategory, CourseCategory.category_id == Category.id)
        .join(Course, Course.id == CourseCategory.course_id)
        .where(
            *published_clause(Course, today),
            CourseCategory.source == "decided",
        )
        .group_by(Category.id, Category.slug, Category.name, Category.kind, Category.sort_order)
        .order_by(Category.kind, Category.sort_order)
    ).all()
    return [
        ApprovedCount(slug, name, kind, int(n), Decimal(str(hours)))
        for slug, name, kind, n, hours in rows
    ]


def status_counts(session) -> dict[str, int]:
    """How many courses there are in each status."""
    return dict(
        session.execute(select(Course.status, func.count(Course.id)).group_by(Course.status)).all()
    )
