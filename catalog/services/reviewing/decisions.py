"""Staff decisions on courses: approve as suggested, override, reject, bulk approve, carry forward.

Every decision checks the served jurisdiction's rules, read from its data (area hours in quarter hours
adding up to the course hours, a topic needs its parent area, delivery modes a requirement limits a
topic to, e.g. Missouri firearms only live and only with Skill Development hours), guards
against lost updates with the course's `version`, and writes an audit entry. Services flush, never
commit: the view or CLI commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from catalog.models import (
    LIVE_DELIVERY_MODES,
    AuditEntry,
    Category,
    Course,
    CourseCategory,
    Requirement,
    RequirementSet,
    User,
)
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.courses import course_categories, end_of_year, snapshot
from catalog.services.errors import Conflict, Invalid
from catalog.services.reviewing.reasons import unsure_reason
from catalog.services.suggesting import categories_by_slug, suggested_labels

ACTIONS = ("approve", "override", "reject")
DECISION_ACTIONS = ("approve", "override", "reject", "bulk-approve")
APPROVING_ACTIONS = ("approve", "override", "bulk-approve")
QUARTER = Decimal("0.25")
MAX_NOTE = 4000


# --- rules -----------------------------------------------------------------------------------


def fmt_hours(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def parse_hours(text) -> Decimal | None:
    """A decimal from form/JSON input, or None when it is not a finite number."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def delivery_modes_for(session, category: Category, today: dt.date) -> tuple[str, ...] | None:
    """Delivery modes a topic is limited to (requirement data first, else live for live_only)."""
    req_set = requirement_set_for(session, category.jurisdiction_id, today)
    if req_set is not None:
        modes = session.scalar(
            select(Requirement.delivery_modes).where(
                Requirement.requirement_set_id == req_set.id,
                Requirement.category_id == category.id,
            )
        )
        if modes:
            return tuple(modes)
    return LIVE_DELIVERY_MODES if category.live_only else None


def rule_problems(
    session,
    course: Course,
    areas: dict[str, Decimal],
    topics: list[str],
    categories: dict[str, Category],
    today: dt.date | None = None,
) -> list[dict]:
    """Every rule of the course's jurisdiction the decision breaks, as [{"field", "message"}]."""
    today = today or dt.date.today()
    problems: list[dict] = []
    if not areas:
        problems.append({"field": "areas", "message": "Choose at least one area for the hours."})
    total = Decimal(0)
    for slug, hours in areas.items():
        category = categories.get(slug)
        if category is None or category.kind != "area":
            problems.append({"field": "areas", "message": f"'{slug}' is not an area."})
            continue
        if hours is None:
            problems.append(
                {"field": f"hours-{slug}", "message": f"{category.name}: hours must be a number."}
            )
            continue
        if hours <= 0 or hours % QUARTER != 0:
            problems.append(
                {
                    "field": f"hours-{slug}",
                    "message": f"{category.name}: hours must be a positive multiple of 0.25 "
                    f"(got {fmt_hours(hours)}).",
                }
            )
        total += hours
    if areas and not any(p["field"].startswith(("hours-", "areas")) for p in problems):
        if total != course.hours:
            problems.append(
                {
                    "field": "areas",
                    "message": f"The area hours add up to {fmt_hours(total)}, but the course is "
                    f"{fmt_hours(course.hours)} hours long: they must add up exactly.",
                }
            )
    for slug in topics:
        category = categories.get(slug)
        if category is None or category.kind != "topic":
            problems.append({"field": "topics", "message": f"'{slug}' is not a topic."})
            continue
        parent = category.parent
        if parent is not None and parent.kind == "area" and not (areas.get(parent.slug) or 0) > 0:
            problems.append(
                {
                    "field": "topics",
                    "message": f"{category.name} counts only as {parent.name}: give "
                    f"{parent.name} some of the hours, or remove {category.name}.",
                }
            )
        modes = delivery_modes_for(session, category, today)
        if modes and course.delivery not in modes:
            problems.append(
                {
                    "field": "topics",
                    "message": f"{category.name} only counts for live training "
                    f"({' or '.join(modes)}); this course is {course.delivery}, so it cannot "
                    f"count as {category.name}"
                    + (f" {parent.name}." if parent is not None else "."),
                }
            )
    return problems


# --- requirement year, carry forward ----------------------------------------------------------


def requirement_set_for(session, jurisdiction_id: int, day: dt.date) -> RequirementSet | None:
    return session.scalar(
        select(RequirementSet)
        .where(
            RequirementSet.jurisdiction_id == jurisdiction_id,
            RequirementSet.starts_on <= day,
            RequirementSet.ends_on >= day,
        )
        .order_by(RequirementSet.starts_on.desc())
        .limit(1)
    )


def default_approved_until(session, jurisdiction_id: int, today: dt.date | None = None) -> dt.date:
    """End of the requirement period covering today (a year, a training unit ...), else Dec 31."""
    today = today or dt.date.today()
    req_set = requirement_set_for(session, jurisdiction_id, today)
    return req_set.ends_on if req_set is not None else end_of_year(today)


@dataclass
class CarryForward:
    """An earlier approval of the same course, offered as the starting point of a new decision."""

    areas: dict[str, Decimal]
    topics: list[str]
    source: str  # human sentence saying where it comes from
    course_id: int
    decided_at: dt.datetime | None = None
    approved_until: str | None = None
    control_number: str = ""


def _from_snapshot(data: dict) -> tuple[dict[str, Decimal], list[str]]:
    areas = {k: Decimal(str(v)) for k, v in (data.get("areas") or {}).items()}
    return areas, list(data.get("topics") or [])


def carry_forward(session, course: Course) -> CarryForward | None:
    """The earlier approval to prefill for a pending course, or None.

    Looks at, in order: the course's own last approval in the audit log (re-submitted or changed
    since), its own decided rows (an expired approval), and another approved course of the same
    provider with the same provider code, or the same normalised title and hours.
    """
    if course.status != "pending":
        return None
    entry = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.course_id == course.id, AuditEntry.action.in_(APPROVING_ACTIONS))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if entry is not None and (entry.after or {}).get("areas"):
        areas, topics = _from_snapshot(entry.after)
        return CarryForward(
            areas,
            topics,
            f"This course was approved before ({entry.action} by {entry.actor} on "
            f"{entry.at:%Y-%m-%d}) and has been re-submitted since.",
            course.id,
            entry.at,
            entry.after.get("approved_until"),
            entry.after.get("control_number") or "",
        )
    areas, topics = course_categories(course, "decided")
    if areas:
        until = course.approved_until.isoformat() if course.approved_until else None
        return CarryForward(
            areas,
            topics,
            "This course was approved in an earlier period"
            + (f" (valid until {until})." if until else "."),
            course.id,
            course.decided_at,
            until,
            course.control_number,
        )
    same = (Course.normalised_title == course.normalised_title) & (Course.hours == course.hours)
    if course.provider_code:
        same = or_(same, Course.provider_code == course.provider_code)
    other = session.scalar(
        select(Course)
        .where(
            Course.provider_id == course.provider_id,
            Course.id != course.id,
            Course.status == "approved",
            same,
        )
        .options(selectinload(Course.categories).selectinload(CourseCategory.category))
        .order_by(Course.decided_at.desc())
        .limit(1)
    )
    if other is None:
        return None
    areas, topics = course_categories(other, "decided")
    if not areas:
        return None
    until = other.approved_until.isoformat() if other.approved_until else None
    same_what = (
        "code"
        if course.provider_code and other.provider_code == course.provider_code
        else "title and hours"
    )
    return CarryForward(
        areas,
        topics,
        f"An earlier course of this provider with the same {same_what} (#{other.id}) was approved.",
        other.id,
        other.decided_at,
        until,
        other.control_number,
    )


# --- single decision --------------------------------------------------------------------------


def _replace_decided(
    course: Course, areas: dict[str, Decimal], topics: list[str], categories: dict[str, Category]
) -> None:
    """Make the course's decided rows exactly `areas` + `topics`, updating rows in place (the
    unique (course, source, category) index forbids insert-before-delete)."""
    wanted: dict[str, Decimal | None] = {**dict.fromkeys(topics), **areas}
    keep = []
    for row in course.categories:
        if row.source != "decided":
            keep.append(row)
        elif row.category.slug in wanted:
            row.hours = wanted.pop(row.category.slug)
            keep.append(row)
    for slug, hours in wanted.items():
        keep.append(CourseCategory(category=categories[slug], source="decided", hours=hours))
    course.categories[:] = keep


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(
            f"The note is too long ({len(note)} characters; at most {MAX_NOTE}).",
            [{"field": "note", "message": f"At most {MAX_NOTE} characters."}],
        )
    return note


def _clean_control_number(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > 64:
        raise Invalid(
            "The control number is too long (at most 64 characters).",
            [{"field": "control_number", "message": "At most 64 characters."}],
        )
    return value


def decide(
    session,
    course: Course,
    action: str,
    version: int | None,
    user: User | None,
    areas: dict[str, Decimal] | None = None,
    topics: list[str] | None = None,
    note: str = "",
    approved_until: dt.date | None = None,
    control_number: str = "",
    *,
    today: dt.date | None = None,
) -> Course:
    """Apply one staff decision to `course` if `version` is still current; returns the course.

    Raises Invalid (rule broken, with details) or Conflict (someone decided it meanwhile).
    """
    today = today or dt.date.today()
    if action not in ACTIONS:
        raise Invalid(
            f"Unknown action '{action}': use approve, override or reject.",
            [{"field": "action", "message": "Use approve, override or reject."}],
        )
    if version is None or isinstance(version, bool) or not isinstance(version, int):
        raise Invalid(
            "The course version is missing: reload the page and try again.",
            [{"field": "version", "message": "Send the version you saw."}],
        )
    if course.version != version:
        raise Conflict(
            "Someone else changed this course since you opened it (you saw version "
            f"{version}, it is now version {course.version}). Nothing was saved: reload to see "
            "the current state."
        )
    if course.status == "withdrawn":
        raise Invalid(
            "The provider withdrew this course; it can no longer be decided.",
            [{"field": "status", "message": "Withdrawn."}],
        )
    note = _clean_note(note)
    control_number = _clean_control_number(control_number)
    categories = categories_by_slug(session, course.jurisdiction)
    before = snapshot(course)

    if action == "reject":
        if not note:
            raise Invalid(
                "Give a reason for rejecting the course (the provider sees it).",
                [{"field": "note", "message": "A reason is required to reject."}],
            )
        _replace_decided(course, {}, [], categories)
        course.status = "rejected"
        course.approved_at = None
        course.approved_until = None
    else:
        if action == "approve":
            if not course.suggestion or not course.suggestion.get("areas"):
                raise Invalid(
                    "The engine has no suggestion for this course: choose the areas yourself "
                    "(override).",
                    [{"field": "action", "message": "No suggestion to approve."}],
                )
            areas, topics = suggested_labels(course.suggestion)
            problems = rule_problems(session, course, areas, topics, categories, today)
            if problems:
                raise Invalid(
                    "The suggestion breaks a rule, so it cannot be approved as it is: "
                    + " ".join(p["message"] for p in problems)
                    + " Use override to choose the areas and hours yourself.",
                    problems,
                )
        else:
            areas = dict(areas or {})
            topics = list(dict.fromkeys(topics or []))
            problems = rule_problems(session, course, areas, topics, categories, today)
            if problems:
                raise Invalid(" ".join(p["message"] for p in problems), problems)
        until = approved_until or default_approved_until(session, course.jurisdiction_id, today)
        if until < today:
            raise Invalid(
                f"The approval period must end today or later (got {until.isoformat()}).",
                [{"field": "approved_until", "message": "Must be today or later."}],
            )
        _replace_decided(course, areas, topics, categories)
        course.status = "approved"
        course.approved_at = utcnow()
        course.approved_until = until
        course.control_number = control_number or course.control_number
    course.decided_at = utcnow()
    course.decided_by_id = user.id if user is not None else None
    course.decision_note = note
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "Someone else decided this course while you were looking at it. Nothing was saved: "
            "reload to see their decision."
        ) from exc
    after = snapshot(course)
    after["suggested"] = _suggested_snapshot(course)
    audit.record(
        session,
        action=action,
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        before=before,
        after=after,
        note=note,
    )
    session.flush()
    return course


def _suggested_snapshot(course: Course) -> dict:
    areas, topics = suggested_labels(course.suggestion or {})
    return {"areas": {k: fmt_hours(v) for k, v in areas.items()}, "topics": topics}


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
            "areas": {k: fmt_hours(v) for k, v in item.areas.items()},
            "topics": sorted(item.topics),
            "approved_until": until.isoformat(),
            "control_number": course.control_number,
            "note": note,
            "suggested": _suggested_snapshot(course),
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
