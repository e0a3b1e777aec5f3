"""Issue 14 class 6: Cache-Control on personal answers, trusted hosts and a configured public base
URL for absolute links, a fresh CSRF token at sign-in; on both databases."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from catalog.extensions import db
from catalog.services.accounts import issue_token

PASSWORD = "Correct-Horse-42"
BASE = "https://catalog.example.org"


def test_signed_in_pages_and_api_answers_are_not_stored(client, users, login, make_course):
    make_course("Firearms Qualification")
    assert "no-store" not in client.get("/courses").headers.get("Cache-Control", "")
    login(users["staff"])
    for path in ("/review", "/review/audit", "/courses", "/"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    _, token = issue_token(db.session, users["staff"])
    db.session.commit()
    api = client.application.test_client()
    for path in ("/api/v1/courses", "/api/v1/courses?page=x"):
        response = api.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.headers.get("Cache-Control") == "no-store", path
    assert api.get("/api/v1/courses").headers.get("Cache-Control") == "no-store"  # the 401 too


def test_an_untrusted_host_is_refused(app_factory, make_course):
    other = app_factory(TRUSTED_HOSTS=["catalog.example.org"])
    client = other.test_client()
    assert client.get("/courses.json", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/courses.json", headers={"Host": "catalog.example.org"}).status_code == 200


def test_absolute_links_use_the_public_base_url_not_the_host_header(app_factory, make_course):
    course = make_course("Firearms Qualification")
    make_course("Legal Update")
    other = app_factory(PUBLIC_BASE_URL=BASE)
    client = other.test_client()
    headers = {"Host": "localhost"}  # trusted, but not the public name
    data = client.get("/courses.json?per_page=1", headers=headers).get_json()
    assert all(c["url"].startswith(BASE + "/courses/") for c in data["courses"])
    assert data["next"].startswith(BASE + "/courses.json")
    rows = list(csv.DictReader(io.StringIO(client.get("/courses.csv", headers=headers).text)))
    assert {r["url"] for r in rows} >= {f"{BASE}/courses/{course.id}"}
    feed = ET.fromstring(client.get("/courses.atom", headers=headers).data)
    ids = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}id")]
    assert ids and all(i.startswith(BASE) for i in ids)
    # a forged host is refused outright
    assert client.get("/courses.json", headers={"Host": "evil.example"}).status_code == 400


def test_the_csrf_token_changes_at_sign_in(app_factory, users):
    other = app_factory(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as session:
        before = session["csrf_token"]
    response = client.post(
        "/login", data={"email": users["staff"].email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    client.get("/review")
    with client.session_transaction() as session:
        assert session.get("csrf_token") not in (None, before)


def test_the_reconciliation_manifest_and_openapi_use_the_public_base_url(app_factory, taxonomy):
    other = app_factory(PUBLIC_BASE_URL=BASE)
    client = other.test_client()
    headers = {"Host": "localhost"}  # trusted, but not the public name
    manifest = client.get("/reconcile", headers=headers).get_json()

    def urls(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("url", "service_url") or key.endswith("Space"):
                    yield item
                else:
                    yield from urls(item)
        elif isinstance(value, list):
            for item in value:
                yield from urls(item)

    found = list(urls(manifest))
    assert len(found) >= 6
    assert all(u.startswith(BASE + "/") or u == BASE for u in found), found
    servers = client.get("/api/v1/openapi.json", headers=headers).get_json()["servers"]
    assert all(s["url"].startswith(BASE) for s in servers), servers
