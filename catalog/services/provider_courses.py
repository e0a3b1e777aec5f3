"""What a provider sees of its own courses: POST's decision on each (the approved split and topics,
whether staff changed what was suggested or proposed, the reason for a rejection, approved until,
control number), the CSV of its own courses, and withdrawing a course still waiting for review.

Reads take the provider explicitly, so a provider can never see another provider's decisions.
Functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.models import AuditEntry, Course, CourseCategory
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.errors import Conflict, Invalid, NotFound

DECISION_ACTIONS = ("approve", "override", "reject", "bulk-approve")
DECISION_LABELS = {
    "approve": "Approved as suggested",
    "bulk-approve": "Approved as suggested",
    "override": "Approved with changes by POST staff",
    "reject": "Rejected",
}

EXPORT_HEADER = [
    "id",
    "provider_code",
    "title",
    "hours",
    "delivery",
    "status",
    "decision",
    "areas",
    "area_names",
    "topics",
    "topic_names",
    "proposed_areas",
    "proposed_topics",
    "reason",
    "approved_until",
    "control_number",
    "decided_at",
    "url",
    "change_waiting_for_review",
]


@dataclass
class Label:
    slug: str
    name: str
    hours: Decimal | None = None

    def text(self) -> str:
        if self.hours is None:
            return self.name
        return f"{self.name} {format(self.hours.normalize(), 'f')} h"


@dataclass
class Decision:
    """POST's decision on one course as its provider may see it."""

    status: str
    action: str = ""  # approve | override | reject | bulk-approve ("" when undecided)
    decided_at: dt.datetime | None = None
    reason: str = ""
    approved_until: dt.date | None = None
    control_number: str = ""
    areas: list[Label] = field(default_factory=list)
    topics: list[Label] = field(default_factory=list)
    proposed_areas: list[Label] = field(default_factory=list)
    proposed_topics: list[Label] = field(default_factory=list)
    revision_waiting: bool = False  # a change to the approved course waits for review

    @property
    def label(self) -> str:
        if self.status == "withdrawn":
            return "Withdrawn by you"
        if self.status == "pending":
            return "Waiting for POST review"
        return DECISION_LABELS.get(self.action, self.status.title())

    @property
    def changed_by_staff(self) -> bool:
        """True when staff set a split of their own (override) rather than the suggestion."""
        return self.action == "override"

    @property
    def differs_from_proposal(self) -> bool:
        if not (self.proposed_areas or self.proposed_topics) or self.status != "approved":
            return False
        mine = {(a.slug, a.hours) for a in self.proposed_areas} | {
            (t.slug, None) for t in self.proposed_topics
        }
        theirs = {(a.slug, a.hours) for a in self.areas} | {(t.slug, None) for t in self.topics}
        return mine != theirs


def _labels(course: Course, source: str, kind_area: bool) -> list[Label]:
    rows = [
        c
        for c in course.categories
        if c.source == source and (c.category.kind == "area") == kind_area
    ]
    rows.sort(key=lambda c: (c.category.sort_order, c.category.slug))
    return [Label(c.category.slug, c.category.name, c.hours if kind_area else None) for c in rows]


def _latest_decisions(session, course_ids: list[int]) -> dict[int, AuditEntry]:
    if not course_ids:
        return {}
    latest = (
        select(func.max(AuditEntry.id))
        .where(AuditEntry.course_id.in_(course_ids), AuditEntry.action.in_(DECISION_ACTIONS))
        .group_by(AuditEntry.course_id)
    )
    entries = session.scalars(select(AuditEntry).where(AuditEntry.id.in_(latest))).all()
    return {e.course_id: e for e in entries}


def decisions_for(session, courses: list[Course]) -> dict[int, Decision]:
    """The decision on each of the given courses (categories loaded in one query)."""
    ids = [c.id for c in courses]
    if not ids:
        return {}
    loaded = session.scalars(
        select(Course)
        .where(Course.id.in_(ids))
        .options(selectinload(Course.categories).selectinload(CourseCategory.category))
    ).all()
    entries = _latest_decisions(session, ids)
    out = {}
    for course in loaded:
        entry = entries.get(course.id)
        decided = course.status in ("approved", "rejected")
        out[course.id] = Decision(
            status=course.status,
            action=entry.action if entry is not None and decided else "",
            decided_at=course.decided_at if decided else None,
            reason=course.decision_note if decided else "",
            approved_until=course.approved_until if course.status == "approved" else None,
            control_number=course.control_number if course.status == "approved" else "",
            areas=_labels(course, "decided", True) if course.status == "approved" else [],
            topics=_labels(course, "decided", False) if course.status == "approved" else [],
            proposed_areas=_labels(course, "proposed", True),
            proposed_topics=_labels(course, "proposed", False),
            revision_waiting=course.revision_at is not None,
        )
    return out


def own_course(session, provider, course_id: int) -> Course:
    """One of the provider's courses; NotFound for a missing id or another provider's course."""
    course = session.get(Course, course_id)
    if course is None or course.provider_id != provider.id:
        raise NotFound("There is no such course in your catalog.")
    return course


def _hours_text(value: Decimal | None) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def export_rows(session, provider):
    """Every course of the provider with its decision, as lists matching EXPORT_HEADER (plain
    values; the caller guards cells against spreadsheet formulas)."""
    ids = session.scalars(
        select(Course.id).where(Course.provider_id == provider.id).order_by(Course.title, Course.id)
    ).all()
    for start in range(0, len(ids), 500):
        chunk = session.scalars(
            select(Course).where(Course.id.in_(ids[start : start + 500])).order_by(Course.title)
        ).all()
        found = decisions_for(session, chunk)
        for course in chunk:
            d = found[course.id]
            yield [
                course.id,
                course.provider_code or "",
                course.title,
                _hours_text(course.hours),
                course.delivery,
                course.status,
                d.label,
                ";".join(f"{a.slug}:{_hours_text(a.hours)}" for a in d.areas),
                "; ".join(a.text() for a in d.areas),
                ";".join(t.slug for t in d.topics),
                "; ".join(t.name for t in d.topics),
                ";".join(f"{a.slug}:{_hours_text(a.hours)}" for a in d.proposed_areas),
                ";".join(t.slug for t in d.proposed_topics),
                d.reason,
                d.approved_until.isoformat() if d.approved_until else "",
                d.control_number,
                d.decided_at.strftime("%Y-%m-%d %H:%M") if d.decided_at else "",
                course.url,
                "yes" if d.revision_waiting else "",
            ]


def withdraw_course(session, provider, course_id: int, user, version: int | None = None) -> Course:
    """Withdraw one of the provider's courses that still waits for review: it leaves the review
    queue (re-submitting it by saving or uploading it again puts it back). Approved or rejected
    courses cannot be withdrawn this way: POST has decided on them."""
    course = own_course(session, provider, course_id)
    if course.status != "pending":
        raise Invalid(
            f"Only a course waiting for review can be withdrawn; this one is {course.status}.",
            [{"field": "status", "message": f"course is {course.status}"}],
        )
    if version is not None and version != course.version:
        raise Conflict("The course changed since you opened the page: reload and try again.")
    course.status = "withdrawn"
    course.updated_at = utcnow()
    audit.record(
        session,
        action="provider-withdraw",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        before={"status": "pending"},
        after={"status": "withdrawn", "title": course.title},
        note="Withdrawn by the provider before review",
    )
    session.flush()
    return course


def resubmit_course(session, provider, course_id: int, user) -> Course:
    """Send a withdrawn course back to the review queue as it is."""
    course = own_course(session, provider, course_id)
    if course.status != "withdrawn":
        raise Invalid(
            f"Only a withdrawn course can be sent for review again; this one is {course.status}.",
            [{"field": "status", "message": f"course is {course.status}"}],
        )
    course.status = "pending"
    audit.record(
        session,
        action="provider-resubmit",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        before={"status": "withdrawn"},
        after={"status": "pending", "title": course.title},
        note="Sent for review again by the provider",
    )
    session.flush()
    return course
