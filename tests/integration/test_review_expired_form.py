"""A decision posted with an expired security token saves nothing and loses nothing: signed in,
the page comes back with the typed note, hours and topics; signed out, the sign-in page shows the
text and the course page restores it after signing in again."""

from __future__ import annotations

import re

import pytest

from catalog.extensions import db
from catalog.models import Course

PASSWORD = "Correct-Horse-42"


def token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def csrf_app(app_factory):
    return app_factory(WTF_CSRF_ENABLED=True)


@pytest.fixture
def course(users, make_pending_course):
    return make_pending_course(users["providers"][0], "Crash Investigation Basics", hours="2")


def sign_in(client, email: str, next_url: str = ""):
    page = client.get("/login" + (f"?next={next_url}" if next_url else "")).get_data(as_text=True)
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token(page), "next": next_url},
    )


def status(app, course_id: int) -> str:
    with app.app_context():
        return db.session.get(Course, course_id).status


def test_signed_in_the_page_comes_back_with_what_was_typed(csrf_app, users, course):
    client = csrf_app.test_client()
    sign_in(client, users["staff"].email)
    reason = "Duplicate of course 12 <b>same</b> content"
    response = client.post(
        f"/review/{course.id}",
        data={"action": "reject", "version": course.version, "note": reason, "csrf_token": "old"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and "What you typed is kept below" in html
    assert re.search(r'id="reject-note"[^>]*>Duplicate of course 12 &lt;b&gt;same', html)
    assert status(csrf_app, course.id) == "pending"
    again = client.post(
        f"/review/{course.id}",
        data={
            "action": "reject",
            "version": course.version,
            "note": reason,
            "csrf_token": token(html),
        },
    )
    assert again.status_code == 302
    assert status(csrf_app, course.id) == "rejected"


def test_override_hours_topics_and_note_are_kept(csrf_app, users, course):
    client = csrf_app.test_client()
    sign_in(client, users["staff"].email)
    response = client.post(
        f"/review/{course.id}",
        data={
            "action": "override",
            "version": course.version,
            "hours-technical-studies": "1.5",
            "hours-skill-development": "0.5",
            "topic": "de-escalation",
            "control_number": "MO-77",
            "note": "Hands-on part",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="hours-technical-studies"[^>]*value="1.5"', html)
    assert re.search(r'value="de-escalation" checked', html)
    assert re.search(r'id="override-note"[^>]*>Hands-on part<', html)
    assert 'value="MO-77"' in html


def test_signed_out_the_text_waits_for_the_next_sign_in(csrf_app, users, course):
    client = csrf_app.test_client()  # no session at all: it expired
    response = client.post(
        f"/review/{course.id}",
        data={"action": "reject", "version": course.version, "note": "Not police training"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and "comes back on the course page" in html
    assert re.search(r'id="typed-note"[^>]*readonly>Not police training<', html)
    signed = client.post(
        "/login",
        data={
            "email": users["staff"].email,
            "password": PASSWORD,
            "csrf_token": token(html),
            "next": f"/review/{course.id}",
        },
    )
    assert signed.status_code == 302 and signed.headers["Location"].endswith(f"/review/{course.id}")
    page = client.get(f"/review/{course.id}").get_data(as_text=True)
    assert "what you typed is back" in page
    assert re.search(r'id="reject-note"[^>]*>Not police training<', page)
    later = client.get(f"/review/{course.id}").get_data(as_text=True)
    assert "Not police training" not in later  # restored once
    assert status(csrf_app, course.id) == "pending"


def test_a_draft_is_only_restored_on_its_own_course_and_long_text_is_shown(
    csrf_app, users, course, make_pending_course
):
    other = make_pending_course(users["providers"][0], "Verbal Judo", hours="2")
    client = csrf_app.test_client()
    long_note = "x" * 3000
    html = client.post(
        f"/review/{course.id}", data={"action": "reject", "note": long_note}
    ).get_data(as_text=True)
    assert "too long to keep here, so copy it first" in html and long_note in html
    client.post(f"/review/{course.id}", data={"action": "reject", "note": "short reason"})
    sign_in(client, users["staff"].email)
    assert "short reason" not in client.get(f"/review/{other.id}").get_data(as_text=True)
    assert "short reason" in client.get(f"/review/{course.id}").get_data(as_text=True)


def test_other_review_posts_answer_as_before(csrf_app, users, course):
    client = csrf_app.test_client()
    sign_in(client, users["staff"].email)
    response = client.post("/review/bulk-approve", data={"items": f"{course.id}:1"})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert client.post("/review/999999", data={"note": "x"}).status_code == 404
