"""Pending revisions: a provider's change to an approved course that staff should see but that
need not take the course off the public list.

When only the description, objectives or web address of an approved course change (title, hours
and delivery the same, no new proposed categories), the approved version stays published and the
change waits in `course.revision` for review; `revision_at` marks it as waiting. Staff publish it
(`accept`) or keep the published version with a reason the provider sees (`reject`). A change to
the title, hours or delivery is one staff must see first: it takes the course off the list until
re-approved, as before (the import writer's normal path).

`course.content_hash` always hashes what the provider last submitted, so re-uploading the same
file is "unchanged" while its revision waits. Functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from catalog.models import Course
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.courses import content_hash
from catalog.services.errors import Conflict, Invalid
from catalog.services.suggesting import apply_suggestion, categories_by_slug

REVISED_FIELDS = ("description", "objectives", "url")
REVIEW_FIRST_FIELDS = ("title", "hours", "delivery")
FIELD_NAMES = {"description": "Description", "objectives": "Objectives", "url": "Web address"}
NOTE_MAX = 2000


def can_wait(course: Course, fields: dict, proposal_same: bool) -> bool:
    """True when the change to `course` can wait for review with the approved version published:
    the course is approved and its title, hours and delivery (and proposal) are unchanged."""
    if course.status != "approved" or not proposal_same:
        return False
    return (
        course.title == fields["title"]
        and Decimal(str(course.hours)) == Decimal(str(fields["hours"]))
        and course.delivery == fields["delivery"]
    )


def published_fields(course: Course) -> dict:
    """The revisable fields of a course as they are published now."""
    return {name: getattr(course, name) or "" for name in REVISED_FIELDS}


def waiting(course: Course) -> dict | None:
    """The revision waiting for review, or None."""
    if course.revision_at is None or not course.revision:
        return None
    return course.revision


def submitted_fields(course: Course) -> dict:
    """What the provider last submitted: the waiting revision's text, else the course's."""
    pending = waiting(course)
    return dict(pending["fields"]) if pending else published_fields(course)


def hold(
    session,
    course: Course,
    fields: dict,
    suggestion: dict,
    *,
    user=None,
    actor: str = "import",
    catalog_id: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Keep `course` published and store the changed text as a revision waiting for review.

    Returns False when the text is back to the published one (the revision is dropped)."""
    now = now or utcnow()
    wanted = {name: fields.get(name) or "" for name in REVISED_FIELDS}
    published = published_fields(course)
    course.provider_code = fields.get("provider_code")  # identity for re-uploads, not content
    course.content_hash = content_hash(fields)
    if catalog_id is not None:
        course.catalog_id = catalog_id
    if wanted == published:
        had = waiting(course) is not None
        course.revision, course.revision_at = None, None
        if had:
            audit.record(
                session,
                action="revision-withdraw",
                entity_type="course",
                entity_id=course.id,
                course_id=course.id,
                user=user,
                actor=actor,
                note="The provider went back to the published text",
            )
        session.flush()
        return False
    before = waiting(course)
    course.revision = {
        "status": "pending",
        "fields": wanted,
        "changed": [n for n in REVISED_FIELDS if wanted[n] != published[n]],
        "suggestion": suggestion,
        "submitted_by": getattr(user, "email", None) or actor,
        "submitted_at": now.isoformat(timespec="seconds"),
        "catalog_id": catalog_id,
    }
    course.revision_at = now
    audit.record(
        session,
        action="revision-submit",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        actor=actor,
        before={"fields": (before or {}).get("fields") or published},
        after={"fields": wanted, "status": course.status},
        note="Change to an approved course; the approved version stays published meanwhile",
    )
    session.flush()
    return True


def _check(course: Course, version) -> dict:
    if version is None or isinstance(version, bool) or not isinstance(version, int):
        raise Invalid(
            "The course version is missing: reload the page and try again.",
            [{"field": "version", "message": "Send the version you saw."}],
        )
    if course.version != version:
        raise Conflict(
            "Someone changed this course since you opened it. Nothing was saved: reload to see "
            "the current state."
        )
    pending = waiting(course)
    if pending is None:
        raise Invalid(
            "This course has no change waiting for review.",
            [{"field": "revision", "message": "Nothing waits."}],
        )
    return pending


def _clean_note(note: str | None) -> str:
    return " ".join((note or "").split())[:NOTE_MAX]


def accept(session, course: Course, version, user, note: str = "") -> Course:
    """Publish the waiting change: the course's text becomes the revision's; its decision (split,
    topics, approved until, control number) stays. Raises Conflict on a stale version."""
    pending = _check(course, version)
    before = published_fields(course)
    for name, value in pending["fields"].items():
        setattr(course, name, value)
    if pending.get("suggestion"):
        apply_suggestion(
            course, pending["suggestion"], categories_by_slug(session, course.jurisdiction)
        )
    note = _clean_note(note)
    course.revision = {**pending, "status": "accepted", "note": note, "decided_by": user.email}
    course.revision_at = None
    audit.record(
        session,
        action="revision-accept",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        before={"fields": before},
        after={"fields": published_fields(course)},
        note=note,
    )
    session.flush()
    return course


def reject(session, course: Course, version, user, note: str) -> Course:
    """Keep the published version and drop the waiting change, with a reason the provider sees."""
    pending = _check(course, version)
    note = _clean_note(note)
    if not note:
        raise Invalid(
            "Give a reason for keeping the published version (the provider sees it).",
            [{"field": "note", "message": "A reason is required."}],
        )
    course.content_hash = content_hash(
        {
            "title": course.title,
            "hours": course.hours,
            "delivery": course.delivery,
            "provider_code": course.provider_code,
            **published_fields(course),
        }
    )
    course.revision = {**pending, "status": "rejected", "note": note, "decided_by": user.email}
    course.revision_at = None
    audit.record(
        session,
        action="revision-reject",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        user=user,
        before={"fields": pending["fields"]},
        after={"fields": published_fields(course)},
        note=note,
    )
    session.flush()
    return course
