"""Staff decisions: approve as suggested, override, reject, every rule message, the version race."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.extensions import db
from catalog.models import AuditEntry, Course, CourseCategory
from catalog.services.courses import course_categories
from catalog.services.errors import Conflict, Invalid
from catalog.services.reviewing import decisions


@pytest.fixture
def staff(users):
    return users["staff"]


@pytest.fixture
def provider(users):
    return users["providers"][0]


def _reload(course_id: int) -> Course:
    db.session.expire_all()
    return db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.categories).selectinload(CourseCategory.category))
    )


def _audit(course_id: int) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.course_id == course_id).order_by(AuditEntry.id)
    ).all()


def test_approve_as_suggested_over_http(client, login, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Implicit Bias for Law Enforcement", hours="2")
    login(staff)
    page = client.get(f"/review/{course.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<mark" in html and "Implicit Bias" in html
    response = client.post(
        f"/review/{course.id}",
        data={"action": "approve", "version": course.version, "control_number": "MO-1"},
    )
    assert response.status_code == 302
    course = _reload(course.id)
    assert course.status == "approved"
    assert course_categories(course, "decided") == (
        {"interpersonal-perspectives": Decimal("2")},
        ["implicit-bias"],
    )
    assert course.approved_until == dt.date(dt.date.today().year, 12, 31)
    assert course.control_number == "MO-1"
    assert course.decided_by_id == staff.id
    (entry,) = _audit(course.id)
    assert entry.action == "approve" and entry.actor == staff.email
    assert entry.before["status"] == "pending"
    assert entry.after["areas"] == {"interpersonal-perspectives": "2"}
    assert entry.after["topics"] == ["implicit-bias"]


def test_override_with_split_hours_and_reject(client, login, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Racial Profiling Law", hours="2")
    login(staff)
    response = client.post(
        f"/review/{course.id}",
        data={
            "action": "override",
            "version": course.version,
            "hours-legal-studies": "1.25",
            "hours-interpersonal-perspectives": "0.75",
            "topic": ["racial-profiling"],
            "note": "Split as the syllabus shows",
            "approved_until": "2099-06-30",
        },
    )
    assert response.status_code == 302
    course = _reload(course.id)
    assert course_categories(course, "decided") == (
        {"legal-studies": Decimal("1.25"), "interpersonal-perspectives": Decimal("0.75")},
        ["racial-profiling"],
    )
    assert course.approved_until == dt.date(2099, 6, 30)
    # Re-deciding the same course replaces its decided rows (no duplicate-key error).
    response = client.post(
        f"/review/{course.id}",
        data={"action": "reject", "version": course.version, "note": "Not CLEE content"},
    )
    assert response.status_code == 302
    course = _reload(course.id)
    assert course.status == "rejected" and course.decision_note == "Not CLEE content"
    assert course_categories(course, "decided") == ({}, [])
    assert [e.action for e in _audit(course.id)] == ["override", "reject"]


RULES = [
    ({}, [], "Choose at least one area"),
    (
        {"legal-studies": Decimal("0.3"), "technical-studies": Decimal("1.7")},
        [],
        "multiple of 0.25",
    ),
    ({"legal-studies": Decimal("-2")}, [], "positive multiple of 0.25"),
    ({"legal-studies": Decimal("1")}, [], "add up to 1, but the course is 2 hours"),
    ({"legal-studies": None}, [], "hours must be a number"),
    ({"no-such-area": Decimal("2")}, [], "'no-such-area' is not an area"),
    ({"legal-studies": Decimal("2")}, ["no-such-topic"], "'no-such-topic' is not a topic"),
    ({"legal-studies": Decimal("2")}, ["firearms"], "give Skill Development some of the hours"),
]


@pytest.mark.parametrize("areas,topics,message", RULES)
def test_rule_messages(app, staff, provider, make_pending_course, areas, topics, message):
    course = make_pending_course(provider, "Crash Investigation Basics", hours="2")
    version = course.version
    with pytest.raises(Invalid) as exc:
        decisions.decide(db.session, course, "override", version, staff, areas, topics)
    assert message in exc.value.message
    db.session.rollback()
    course = _reload(course.id)
    assert course.status == "pending" and course.version == version
    assert _audit(course.id) == []


def test_firearms_only_for_live_delivery(app, staff, provider, make_pending_course):
    online = make_pending_course(
        provider, "Annual Duty Pistol Qualification", hours="2", delivery="online"
    )
    with pytest.raises(Invalid) as exc:
        decisions.decide(
            db.session,
            online,
            "override",
            online.version,
            staff,
            {"skill-development": Decimal("2")},
            ["firearms"],
        )
    assert "only counts for live training" in exc.value.message
    assert "this course is online" in exc.value.message
    db.session.rollback()
    # A topic's default area need not be among the areas (implicit bias under Legal Studies).
    live = make_pending_course(provider, "Implicit Bias in Traffic Stops", hours="1")
    decisions.decide(
        db.session,
        live,
        "override",
        live.version,
        staff,
        {"legal-studies": Decimal("1")},
        ["implicit-bias"],
    )
    db.session.commit()
    assert _reload(live.id).status == "approved"


def test_reject_needs_a_note_and_unknown_action(app, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Basket Weaving", hours="1")
    with pytest.raises(Invalid, match="Give a reason"):
        decisions.decide(db.session, course, "reject", course.version, staff, note="   ")
    with pytest.raises(Invalid, match="Unknown action"):
        decisions.decide(db.session, course, "publish", course.version, staff)
    with pytest.raises(Invalid, match="version is missing"):
        decisions.decide(db.session, course, "approve", None, staff)
    with pytest.raises(Invalid, match="must end today or later"):
        decisions.decide(
            db.session,
            course,
            "override",
            course.version,
            staff,
            {"technical-studies": Decimal("1")},
            [],
            approved_until=dt.date(2000, 1, 1),
        )


def test_approve_refuses_a_suggestion_that_breaks_a_rule(app, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Missouri Legal Update 2025", hours="2")
    broken = dict(course.suggestion)
    broken["areas"] = [dict(a) for a in broken["areas"]]
    broken["areas"][0]["hours"] = "1.5"  # no longer adds up to the 2 course hours
    course.suggestion = broken
    db.session.commit()
    with pytest.raises(Invalid) as exc:
        decisions.decide(db.session, course, "approve", course.version, staff)
    assert "Use override" in exc.value.message
    assert "add up to 1.5" in exc.value.message


def test_rule_break_is_shown_on_the_page(client, login, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Crash Investigation Basics", hours="2")
    login(staff)
    response = client.post(
        f"/review/{course.id}",
        data={"action": "override", "version": course.version, "hours-legal-studies": "1"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not saved" in html and "they must add up exactly" in html
    assert 'value="1"' in html  # what the reviewer typed is kept
    response = client.post(
        f"/review/{course.id}", data={"action": "reject", "version": course.version}
    )
    assert response.status_code == 422
    assert "Give a reason" in response.get_data(as_text=True)
    assert _reload(course.id).status == "pending"


def test_stale_version_over_http_is_a_conflict(client, login, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Crash Investigation Basics", hours="2")
    login(staff)
    shown = course.version
    first = client.post(f"/review/{course.id}", data={"action": "approve", "version": shown})
    assert first.status_code == 302
    second = client.post(
        f"/review/{course.id}", data={"action": "reject", "version": shown, "note": "late"}
    )
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Someone else changed this course" in html and "Reload this course" in html
    course = _reload(course.id)
    assert course.status == "approved"
    assert [e.action for e in _audit(course.id)] == ["approve"]


def test_two_sessions_racing_exactly_one_wins(app, staff, provider, make_pending_course):
    course = make_pending_course(provider, "Defensive Tactics Refresher", hours="2")
    course_id, shown = course.id, course.version
    db.session.remove()

    def load(session):
        return session.scalar(
            select(Course)
            .where(Course.id == course_id)
            .options(
                selectinload(Course.categories).selectinload(CourseCategory.category),
                selectinload(Course.jurisdiction),
            )
        )

    with (
        Session(db.engine, expire_on_commit=False) as a,
        Session(db.engine, expire_on_commit=False) as b,
    ):
        course_a, course_b = load(a), load(b)
        staff_a, staff_b = a.merge(staff), b.merge(staff)
        a.commit()
        b.commit()  # both reviewers now hold version 1 in memory, no transaction open
        decisions.decide(a, course_a, "approve", shown, staff_a)
        a.commit()
        with pytest.raises(Conflict) as exc:
            decisions.decide(
                b, course_b, "override", shown, staff_b, {"technical-studies": Decimal("2")}, []
            )
        b.rollback()
        assert "Nothing was saved" in exc.value.message
    course = _reload(course_id)
    assert course.status == "approved" and course.version == shown + 1
    assert course_categories(course, "decided")[0] == {"skill-development": Decimal("2")}
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.course_id == course_id)
        )
        == 1
    )
