"""Staff decisions on courses: approve as suggested, override, reject, bulk approve, carry forward.

Every decision checks the served jurisdiction's rules, read from its data (area hours in quarter hours
adding up to the course hours, a topic needs its parent area, delivery modes a requirement limits a
topic to, e.g. Missouri firearms only live and only with Skill Development hours), guards
against lost updates with the course's `version`, and writes an audit entry. Services flush, never
commit: the view or CLI commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from catalog.models import (
    AuditEntry,
    Category,
    Course,
    CourseCategory,
    User,
)
from catalog.models.types import format_hours, utcnow
from catalog.services import audit
from catalog.services.courses import course_categories, snapshot
from catalog.services.errors import Conflict, Invalid
from catalog.services.reviewing.rules import default_approved_until, rule_problems
from catalog.services.suggesting import categories_by_slug, suggested_labels

ACTIONS = ("approve", "override", "reject")
DECISION_ACTIONS = ("approve", "override", "reject", "bulk-approve")
APPROVING_ACTIONS = ("approve", "override", "bulk-approve")
QUARTER = Decimal("0.25")
MAX_NOTE = 4000


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
    after["suggested"] = suggested_snapshot(course)
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


def suggested_snapshot(course: Course) -> dict:
    """The engine's suggestion for the course as audited: area hours as text and topic slugs."""
    areas, topics = suggested_labels(course.suggestion or {})
    return {"areas": {k: format_hours(v) for k, v in areas.items()}, "topics": topics}
