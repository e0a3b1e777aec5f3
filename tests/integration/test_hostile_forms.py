"""Hostile text in every form (issue 14): the course form, the admin forms (providers,
categories, users, requirement sets) and the review decision form, on both databases.

Whatever text arrives (control characters, NUL, lone surrogates escaped by the browser, numbers
past 64 bits, NaN, 100 kB strings), the answer is never a 5xx and nothing stored carries a
character the input-cleaning rule removes.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.extensions import db
from catalog.models import Category, Course, Provider
from catalog.services.cleaning import has_unwanted

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PASSWORD = "Correct-Horse-42"
COUNTER: list[int] = []
NASTY = [
    "\x00",
    "\x01=cmd|' /C calc'!A0",
    "\x1b[31m",
    "\x85\x9f",
    "\ufffe",
    "9" * 25,
    "NaN",
    "sNaN",
    "1e999999",
    "-0",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "x" * 5000,
]
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(
        st.characters(blacklist_categories=("Cs",), min_codepoint=0, max_codepoint=0x2FFF),
        max_size=80,
    ),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join),
)


@pytest.fixture
def signed_in(app, users, taxonomy):
    def make(role):
        client = app.test_client()
        response = client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        assert response.status_code == 302
        return client

    return {"admin": make("admin"), "provider": make("provider_a"), "staff": make("staff")}


def no_unwanted_stored() -> None:
    db.session.rollback()
    for model, columns in (
        (Course, ("title", "description", "objectives", "provider_code", "url")),
        (Provider, ("name", "slug", "url", "contact_email", "licence_number")),
        (Category, ("name", "description")),
    ):
        for row in db.session.scalars(sa.select(model)):
            for column in columns:
                value = getattr(row, column, None)
                assert not (isinstance(value, str) and has_unwanted(value)), (model, column)


@SETTINGS
@given(title=hostile_text, text=hostile_text, hours=hostile_text)
def test_course_form(signed_in, title, text, hours):
    response = signed_in["provider"].post(
        "/provider/courses/new",
        data={
            "title": title,
            "hours": hours,
            "delivery": "in-person",
            "description": text,
            "objectives": text,
            "provider_code": text[:60],
            "url": text,
            "area__skill-development": hours,
        },
    )
    assert response.status_code < 500
    no_unwanted_stored()


@SETTINGS
@given(name=hostile_text, slug=hostile_text, url=hostile_text, email=hostile_text)
def test_admin_provider_form(signed_in, name, slug, url, email):
    response = signed_in["admin"].post(
        "/admin/providers/new",
        data={"slug": slug, "name": name, "kind": "vendor", "url": url, "contact_email": email},
    )
    assert response.status_code < 500
    no_unwanted_stored()
    for stored in db.session.scalars(sa.select(Provider.url)):
        assert not stored or stored.lower().startswith(("http://", "https://"))


@SETTINGS
@given(name=hostile_text, description=hostile_text, number=hostile_text)
def test_admin_category_and_requirement_forms(signed_in, name, description, number):
    admin = signed_in["admin"]
    response = admin.post(
        "/admin/categories/new",
        data={
            "name": name,
            "slug": "x-" + str(abs(hash(name)) % 10**6),
            "kind": "area",
            "description": description,
            "sort_order": number,
        },
    )
    assert response.status_code < 500
    response = admin.post(
        "/admin/requirements/new",
        data={
            "name": name[:80] or "x",
            "starts_on": "2030-01-01",
            "ends_on": "2030-12-31",
            "total_hours": number,
            "approved_provider_min_hours": number,
            "notes": description,
        },
    )
    assert response.status_code < 500
    no_unwanted_stored()


@SETTINGS
@given(email=hostile_text, password=hostile_text, role=st.sampled_from(["staff", "admin", "x"]))
def test_admin_user_form_and_login(signed_in, app, email, password, role):
    response = signed_in["admin"].post(
        "/admin/users", data={"email": email, "role": role, "password": password}
    )
    assert response.status_code < 500
    response = app.test_client().post("/login", data={"email": email, "password": password})
    assert response.status_code < 500


@SETTINGS
@given(note=hostile_text, hours=hostile_text, version=hostile_text)
def test_review_decision_form(signed_in, make_pending_course, users, note, hours, version):
    COUNTER.append(1)
    course = make_pending_course(users["providers"][0], f"Legal Update {len(COUNTER)}")
    for action in ("approve", "override", "reject"):
        response = signed_in["staff"].post(
            f"/review/{course.id}",
            data={
                "action": action,
                "version": version,
                "note": note,
                "area__skill-development": hours,
                "reason": note,
            },
        )
        assert response.status_code < 500
    no_unwanted_stored()
