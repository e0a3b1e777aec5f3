"""Pending revisions (issue 15 item 2) on both databases: a description-only change to an
approved course waits for review while the approved version stays published and findable; a
change of title, hours or delivery takes it off the list until re-approved."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.services import revisions
from catalog.services.errors import Conflict, Invalid

OLD = "Verbal tactics for patrol officers"
NEW = "Communication drills with hovercraft scenarios"


@pytest.fixture
def approved(make_course, users):
    course = make_course(
        "Introduction to De-escalation",
        provider="provider-a",
        hours="1",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
        description=OLD,
    )
    course.provider_code = "DE-1"  # make_course's titles carry a suffix; match re-uploads by code
    db.session.commit()
    return course


def _form(course: Course, **changes) -> dict:
    data = {
        "title": course.title,
        "provider_code": course.provider_code or "",
        "hours": format(course.hours.normalize(), "f"),
        "delivery": course.delivery,
        "description": course.description,
        "objectives": course.objectives,
        "url": course.url,
    }
    data.update(changes)
    return data


def _public_ids(client, q: str) -> list[int]:
    return [c["id"] for c in client.get("/courses.json", query_string={"q": q}).json["courses"]]


def test_description_change_keeps_the_approved_version_published(
    client, login, users, approved, app_factory
):
    course_id, until, number = approved.id, approved.approved_until, approved.control_number
    login(users["provider_a"])
    answer = client.post(
        f"/provider/courses/{course_id}/edit", data=_form(approved, description=NEW)
    )
    assert answer.status_code == 302
    page = client.get(answer.location).get_data(as_text=True)
    assert "waits for POST review" in page and "approved version stays" in page
    db.session.expire_all()
    course = db.session.get(Course, course_id)
    assert course.status == "approved" and course.description == OLD
    assert revisions.waiting(course)["fields"]["description"] == NEW
    # the public side still shows and finds the approved version
    assert _public_ids(client, "patrol") == [course_id]
    assert _public_ids(client, "hovercraft") == []
    assert OLD in client.get(f"/courses/{course_id}").get_data(as_text=True)
    # the form shows the provider's change; saving it again changes nothing
    assert NEW in client.get(f"/provider/courses/{course_id}/edit").get_data(as_text=True)
    client.post(f"/provider/courses/{course_id}/edit", data=_form(course, description=NEW))
    assert (
        db.session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "revision-submit").offset(1)
        )
        is None
    )

    # staff find it under "changes" and publish it; the decision stays as it was
    client.post("/logout")
    login(users["staff"])
    queue = client.get("/review/?status=changes").get_data(as_text=True)
    assert "Introduction to De-escalation" in queue and "change waiting" in queue
    review = client.get(f"/review/{course_id}").get_data(as_text=True)
    assert "Change waiting for review" in review and NEW in review
    db.session.expire_all()
    version = db.session.get(Course, course_id).version
    done = client.post(
        f"/review/{course_id}/revision", data={"action": "accept", "version": version}
    )
    assert done.status_code == 302
    db.session.expire_all()
    course = db.session.get(Course, course_id)
    assert course.description == NEW and course.revision_at is None
    assert (course.status, course.approved_until, course.control_number) == (
        "approved",
        until,
        number,
    )
    assert {c.category.slug for c in course.categories if c.source == "decided"} == {
        "skill-development",
        "de-escalation",
    }
    assert _public_ids(client, "hovercraft") == [course_id]


def test_hours_change_takes_the_course_off_the_list(client, login, users, approved):
    login(users["provider_a"])
    page = client.get(f"/provider/courses/{approved.id}/edit").get_data(as_text=True)
    assert "Changing the <strong>title, hours or delivery</strong>" in page  # said before saving
    client.post(
        f"/provider/courses/{approved.id}/edit",
        data=_form(approved, hours="2", description=NEW),
    )
    db.session.expire_all()
    course = db.session.get(Course, approved.id)
    assert course.status == "pending" and course.hours == 2 and course.revision_at is None
    assert _public_ids(client, "patrol") == []


def test_reupload_holds_the_change_and_reject_keeps_the_published_text(
    client, login, users, approved
):
    login(users["provider_a"])
    csv_text = (
        "provider_code,title,hours,delivery,description\n"
        f"DE-1,Introduction to De-escalation,1,online,{NEW}\n"
    )

    def upload():
        answer = client.post(
            "/provider/catalogs/new",
            data={"file": (io.BytesIO(csv_text.encode()), "c.csv")},
            content_type="multipart/form-data",
        )
        return answer.location

    first = upload()
    assert "Confirm and submit 1 course(s)" in client.get(first).get_data(as_text=True)
    confirmed = client.post(first.rstrip("/") + "/confirm", follow_redirects=True)
    assert "stay published while POST reviews the change" in confirmed.get_data(as_text=True)
    db.session.expire_all()
    course = db.session.get(Course, approved.id)
    assert course.status == "approved" and revisions.waiting(course)
    assert "Nothing to submit" in client.get(upload()).get_data(as_text=True)  # same file again

    with pytest.raises(Conflict):
        revisions.reject(db.session, course, course.version + 1, users["staff"], "x")
    with pytest.raises(Invalid, match="reason"):
        revisions.reject(db.session, course, course.version, users["staff"], "  ")
    revisions.reject(db.session, course, course.version, users["staff"], "Keep the old text")
    db.session.commit()
    db.session.expire_all()
    course = db.session.get(Course, approved.id)
    assert course.description == OLD and course.revision_at is None
    assert _public_ids(client, "patrol") == [approved.id]
    page = client.get(f"/provider/courses/{approved.id}/edit").get_data(as_text=True)
    assert "POST kept the published version" in page and "Keep the old text" in page
    # the declined file now differs from the published text again
    assert "Confirm and submit 1 course(s)" in client.get(upload()).get_data(as_text=True)
    with pytest.raises(Invalid, match="no change waiting"):
        revisions.accept(db.session, course, course.version, users["staff"])


def test_back_to_the_published_text_drops_the_revision(client, login, users, approved):
    login(users["provider_a"])
    client.post(f"/provider/courses/{approved.id}/edit", data=_form(approved, description=NEW))
    db.session.expire_all()
    course = db.session.get(Course, approved.id)
    assert revisions.waiting(course)
    client.post(f"/provider/courses/{approved.id}/edit", data=_form(course, description=OLD))
    db.session.expire_all()
    course = db.session.get(Course, approved.id)
    assert revisions.waiting(course) is None and course.status == "approved"
