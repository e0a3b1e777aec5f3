"""Issue 14 class 4: every number a user can type is a 400/404/422 with a message, never a 500 or
a "database is down" 503, on both databases.

Integers past 64 bits in ids (routes) and pages (query arguments), a decision on a 20-digit id,
NaN / sNaN / 1e999999 as hours in the live suggestion, the review and admin forms and the API;
query arguments that used to be passed on into url_for; `/review` answering the page itself.
"""

from __future__ import annotations

import pytest

from catalog.extensions import db
from catalog.services.accounts import issue_token

B20 = "9" * 20
B25 = "1" * 25
BAD_DECIMALS = ["NaN", "sNaN", "1e999999", "-Infinity", B25]
PASSWORD = "Correct-Horse-42"


@pytest.fixture
def world(app, users, make_course, make_pending_course):
    make_course("Firearms Qualification")
    provider = users["providers"][0]
    pending = [make_pending_course(provider, f"Legal Update {n}") for n in range(3)]
    _, staff_token = issue_token(db.session, users["staff"])
    _, provider_token = issue_token(db.session, users["provider_a"])
    db.session.commit()

    def signed_in(role):
        client = app.test_client()
        client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        return client

    return {
        "staff": signed_in("staff"),
        "admin": signed_in("admin"),
        "provider": signed_in("provider_a"),
        "anon": app.test_client(),
        "staff_api": {"Authorization": f"Bearer {staff_token}"},
        "provider_api": {"Authorization": f"Bearer {provider_token}"},
        "pending": pending,
    }


def assert_clear(response, *allowed):
    assert response.status_code in (allowed or (400, 404, 422)), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )


ROUTE_IDS = {
    "anon": [f"/courses/{B20}", f"/courses/{B25}"],
    "staff": [f"/review/{B20}", f"/review/{B25}"],
    "provider": [f"/provider/courses/{B25}/edit", f"/provider/catalogs/{B25}"],
    "admin": [
        f"/admin/users/{B25}",
        f"/admin/providers/{B25}",
        f"/admin/categories/{B25}",
        f"/admin/requirements/{B25}",
    ],
}


@pytest.mark.parametrize(
    "who,path", [(who, path) for who, paths in ROUTE_IDS.items() for path in paths]
)
def test_ids_past_64_bits_are_not_found(world, who, path):
    assert_clear(world[who].get(path), 404)


@pytest.mark.parametrize(
    "who,path",
    [
        ("staff", f"/review/audit?page={B20}"),
        ("staff", f"/review?page={B20}"),
        ("provider", f"/provider/?page={B20}"),
        ("provider", f"/provider/courses?page={B20}"),
        ("anon", f"/courses?page={B20}"),
        ("anon", f"/courses.json?page={B20}"),
    ],
)
def test_pages_past_64_bits_are_a_clear_answer(world, who, path):
    response = world[who].get(path)
    assert response.status_code in (200, 400, 404), response.status_code


@pytest.mark.parametrize("token", ["staff_api", "provider_api"])
@pytest.mark.parametrize("page", [B20, B25, "-5", "1e3"])
def test_api_list_pages(world, token, page):
    response = world["anon"].get(f"/api/v1/courses?page={page}", headers=world[token])
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "hostile", ["_external=1", "endpoint=x", "_scheme=javascript", "_anchor=x"]
)
def test_query_arguments_never_reach_url_for(world, hostile):
    response = world["anon"].get(
        f"/api/v1/courses?per_page=1&{hostile}", headers=world["staff_api"]
    )
    assert response.status_code == 200
    next_url = response.get_json()["next"]
    assert next_url and hostile.split("=")[0] not in next_url


@pytest.mark.parametrize("course_id", [B20, B25])
def test_a_decision_on_a_huge_id(world, course_id):
    response = world["anon"].post(
        f"/api/v1/courses/{course_id}/decision",
        json={"action": "approve", "version": 1},
        headers=world["staff_api"],
    )
    assert_clear(response, 404)
    assert "error" in response.get_json()


@pytest.mark.parametrize("hours", BAD_DECIMALS)
def test_non_finite_or_huge_hours_anywhere(world, hours):
    course = world["pending"][0]
    assert_clear(
        world["provider"].get(f"/provider/suggest?title=Firearms+training&hours={hours}"), 200
    )
    assert_clear(
        world["anon"].post(
            f"/api/v1/courses/{course.id}/decision",
            json={
                "action": "override",
                "version": course.version,
                "areas": [{"slug": "skill-development", "hours": hours}],
            },
            headers=world["staff_api"],
        ),
        400,
        422,
    )
    assert_clear(
        world["staff"].post(
            f"/review/{course.id}",
            data={"action": "override", "version": "1", "area__skill-development": hours},
        ),
        200,
        302,
        400,
        409,
        422,
    )
    assert_clear(
        world["admin"].post(
            "/admin/requirements/new",
            data={
                "name": "CLEE 2030",
                "starts_on": "2030-01-01",
                "ends_on": "2030-12-31",
                "total_hours": hours,
                "approved_provider_min_hours": hours,
            },
        ),
        200,
        302,
        400,
        422,
    )
    assert_clear(world["anon"].get(f"/courses?hours={hours}&max_hours={hours}"), 200, 400)


@pytest.mark.parametrize("version", [B20, B25, "NaN"])
def test_decision_versions_past_64_bits(world, version):
    course = world["pending"][1]
    response = world["staff"].post(
        f"/review/{course.id}", data={"action": "approve", "version": version}
    )
    assert response.status_code in (200, 302, 400, 409, 422)


def test_review_answers_the_page_not_a_redirect(world):
    for path in ("/review", "/review/", "/admin", "/provider"):
        who = {"/review": "staff", "/review/": "staff", "/admin": "admin", "/provider": "provider"}[
            path
        ]
        assert world[who].get(path).status_code == 200, path
