"""The shared fixtures build published courses as the app does: through the decision service, so
every approved course a test starts from carries the audit entry a staff decision writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.services.courses import snapshot
from catalog.services.reviewing.decisions import APPROVING_ACTIONS


def test_every_published_course_of_the_fixtures_has_its_audit_entry(make_course):
    today = dt.date.today()
    make_course("Default Course")
    make_course("Topic Course", topics=["de-escalation"])
    make_course("Two Areas", hours="2", areas={"legal-studies": 1, "skill-development": 1})
    make_course("Online Course", delivery="online", provider="other-academy")
    make_course("Expired Course", approved_until=today - dt.timedelta(days=1))
    make_course("Last Day Course", approved_until=today)
    make_course("Undated Course", approved_until=None)
    make_course("Dated Course", approved_at=dt.datetime(2026, 11, 1, 12, 0))
    make_course("Pending Course", status="pending", approved_until=None)
    make_course("Rejected Course", status="rejected", approved_until=None)
    make_course("Withdrawn Course", status="withdrawn")
    db.session.expire_all()

    approved = db.session.scalars(select(Course).where(Course.status == "approved")).all()
    assert len(approved) == 8
    for course in approved:
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.course_id == course.id)
        ).all()
        assert [e.action for e in entries] == ["override"], course.title
        assert entries[0].action in APPROVING_ACTIONS
        after, now = entries[0].after, snapshot(course)
        assert after["status"] == "approved"
        assert (after["areas"], after["topics"]) == (now["areas"], now["topics"]), course.title
        assert after["control_number"] == course.control_number != ""
        assert course.decided_at is not None
        if course.title in ("Undated Course", "Dated Course"):
            continue  # changed after the decision: a date cleared (no decision does), a time set
        assert after["approved_until"] == now["approved_until"], course.title
        assert course.version == after["version"], course.title
    # Courses the fixture does not publish were never decided: no entry pretends they were.
    others = db.session.scalars(select(Course.id).where(Course.status != "approved")).all()
    assert len(others) == 3
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.course_id.in_(others))).all()
