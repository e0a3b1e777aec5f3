"""Writing audit entries (every decision and every staff edit leaves one)."""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import AuditEntry, User


def record(
    session,
    *,
    action: str,
    entity_type: str,
    entity_id: int | None,
    user: User | None = None,
    actor: str | None = None,
    course_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEntry:
    """Add one audit entry (who, what, which entity, before/after) to the session."""
    entry = AuditEntry(
        user_id=user.id if user is not None and getattr(user, "id", None) else None,
        actor=actor or (user.email if user is not None and hasattr(user, "email") else "system"),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        course_id=course_id,
        before=before or {},
        after=after or {},
        note=note or "",
    )
    session.add(entry)
    return entry


def course_history(session, course_id: int, limit: int = 50) -> list[AuditEntry]:
    """A course's audit entries, newest first."""
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.course_id == course_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
