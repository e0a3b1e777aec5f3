"""Bulk approve: the courses of the queue whose suggestion is confident enough, approved as
suggested in one go (each checked against the rules and the version the page showed), with an
audit entry each. Functions flush, never commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from catalog.models import (
    Category,
    Course,
    CourseCategory,
    User,
)
from catalog.models.types import format_hours, utcnow
from catalog.services import audit
from catalog.services.courses import snapshot
from catalog.services.reviewing.decisions import suggested_snapshot
from catalog.services.reviewing.reasons import unsure_reason
from catalog.services.reviewing.rules import default_approved_until, rule_problems
from catalog.services.suggesting import categories_by_slug, suggested_labels

# --- bulk approve -----------------------------------------------------------------------------


@dataclass
class BulkItem:
    course: Course
    areas: dict[str, Decimal] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    reason: str = ""  # why it is skipped; empty when it will be / was approved


@dataclass
class BulkPlan:
    approve: list[BulkItem]
    skip: list[BulkItem]
    approved_until: dt.date | None = None


def load_courses(session, ids: list[int]) -> dict[int, Course]:
    """The courses with these ids, with their categories and provider."""
    if not ids:
        return {}
    rows = session.scalars(
        select(Course)
        .where(Course.id.in_(ids))
        .options(
            selectinload(Course.categories).selectinload(CourseCategory.category),
            selectinload(Course.provider),
        )
    ).all()
    return {c.id: c for c in rows}


def plan_bulk_approve(
    session,
    items: list[tuple[int, int]],
    min_score: int,
    *,
    today: dt.date | None = None,
) -> BulkPlan:
    """Which of the given (course id, version) pairs (a page shown, or a whole filtered set)
    bulk approve would approve, and why each other one is left out. Reads only."""
    today = today or dt.date.today()
    courses = load_courses(session, [cid for cid, _ in items])
    approve: list[BulkItem] = []
    skip: list[BulkItem] = []
    categories_cache: dict[int, dict[str, Category]] = {}
    for course_id, version in items:
        course = courses.get(course_id)
        if course is None:
            continue
        item = BulkItem(course)
        if course.status != "pending":
            item.reason = f"already {course.status}"
        elif course.version != version:
            item.reason = "changed since the list was shown"
        elif not course.suggestion_confident:
            item.reason = "not sure: " + unsure_reason(course.suggestion)
        elif course.suggestion_score < min_score:
            item.reason = f"score {course.suggestion_score} is below {min_score}"
        else:
            item.areas, item.topics = suggested_labels(course.suggestion or {})
            if course.jurisdiction_id not in categories_cache:
                categories_cache[course.jurisdiction_id] = categories_by_slug(
                    session, course.jurisdiction
                )
            problems = rule_problems(
                session,
                course,
                item.areas,
                item.topics,
                categories_cache[course.jurisdiction_id],
                today,
            )
            if problems:
                item.reason = "breaks a rule: " + problems[0]["message"]
        (skip if item.reason else approve).append(item)
    return BulkPlan(approve, skip)


def bulk_approve(
    session,
    items: list[tuple[int, int]],
    min_score: int,
    user: User | None,
    *,
    approved_until: dt.date | None = None,
    today: dt.date | None = None,
) -> BulkPlan:
    """Approve as suggested every shown course that qualifies, each with
    `UPDATE ... WHERE version = shown version` (the ORM version check does not cover bulk
    statements); courses changed meanwhile are reported as skipped, never overwritten."""
    today = today or dt.date.today()
    plan = plan_bulk_approve(session, items, min_score, today=today)
    now = utcnow()
    done: list[BulkItem] = []
    note = f"Bulk approve as suggested (confident, score at least {min_score})."
    for item in plan.approve:
        course = item.course
        until = approved_until or default_approved_until(session, course.jurisdiction_id, today)
        before = snapshot(course)
        shown = course.version
        result = session.execute(
            update(Course)
            .where(Course.id == course.id, Course.version == shown, Course.status == "pending")
            .values(
                status="approved",
                version=Course.version + 1,
                approved_at=now,
                approved_until=until,
                decided_at=now,
                decided_by_id=user.id if user is not None else None,
                decision_note=note,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            item.reason = "changed meanwhile by someone else"
            plan.skip.append(item)
            continue
        categories = {c.category.slug: c.category for c in course.categories}
        categories.update(categories_by_slug(session, course.jurisdiction))
        session.execute(
            CourseCategory.__table__.delete().where(
                CourseCategory.course_id == course.id, CourseCategory.source == "decided"
            )
        )
        rows = [
            {
                "course_id": course.id,
                "category_id": categories[slug].id,
                "source": "decided",
                "hours": hours,
            }
            for slug, hours in item.areas.items()
        ] + [
            {"course_id": course.id, "category_id": categories[slug].id, "source": "decided"}
            for slug in item.topics
        ]
        for row in rows:
            row.setdefault("hours", None)
            row.setdefault("score", None)
            row.setdefault("confident", False)
            row.setdefault("evidence", [])
        session.execute(CourseCategory.__table__.insert(), rows)
        after = {
            "status": "approved",
            "version": shown + 1,
            "areas": {k: format_hours(v) for k, v in item.areas.items()},
            "topics": sorted(item.topics),
            "approved_until": until.isoformat(),
            "control_number": course.control_number,
            "note": note,
            "suggested": suggested_snapshot(course),
            "min_score": min_score,
        }
        audit.record(
            session,
            action="bulk-approve",
            entity_type="course",
            entity_id=course.id,
            course_id=course.id,
            user=user,
            before=before,
            after=after,
            note=note,
        )
        done.append(item)
    session.flush()
    for item in plan.approve:
        session.expire(item.course)
    plan.approve = done
    plan.approved_until = approved_until
    return plan
