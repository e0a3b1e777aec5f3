"""POST /api/v1/catalogs: 201 / 422 / 401 / 403 shapes, dry run, files, all or nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import CatalogSubmission, Course
from catalog.services.accounts import issue_token

GOOD = [
    {"provider_code": "A-1", "title": "Missouri Legal Update", "hours": 2, "delivery": "online"},
    {
        "provider_code": "A-2",
        "title": "Introduction to De-escalation",
        "hours": "1",
        "area_hours": "skill-development:1",
        "topics": ["de-escalation"],
    },
]


def courses() -> int:
    return db.session.scalar(select(func.count(Course.id)))


@pytest.fixture
def tokens(taxonomy, users):
    out = {}
    for key in ("provider_a", "staff"):
        _, out[key] = issue_token(db.session, users[key])
    db.session.commit()
    return out


def post(client, token, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    query = kw.pop("query", "")
    return client.post(f"/api/v1/catalogs{query}", headers=headers, **kw)


def test_created_then_idempotent(client, tokens):
    response = post(client, tokens["provider_a"], json={"courses": GOOD})
    assert response.status_code == 201, response.json
    body = response.json
    assert {k: body[k] for k in ("rows", "created", "updated", "unchanged", "errors")} == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    assert db.session.get(CatalogSubmission, body["catalog_id"]).source == "api"
    again = post(client, tokens["provider_a"], json=GOOD).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = [dict(GOOD[0], hours=3), GOOD[1]]
    third = post(client, tokens["provider_a"], json=changed).json
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    assert courses() == 2


def test_errors_give_422_and_write_nothing(client, tokens):
    bad = GOOD + [
        {"title": "", "hours": 1},
        {"title": "Odd Hours", "hours": 1.3},
        {"title": "Missouri legal update", "hours": 1},
    ]
    response = post(client, tokens["provider_a"], json=bad)
    assert response.status_code == 422
    body = response.json
    assert body["rows"] == 5 and body["created"] == 0 and body["catalog_id"] is None
    # numbered as the user counts the courses in the list: the 3rd, 4th and 5th
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "title"),
        (4, "hours"),
        (5, "title"),
    ]
    assert set(body["errors"][0]) == {"row", "field", "message"}
    assert body["error"] and body["details"] == body["errors"]
    assert courses() == 0
    assert db.session.scalar(select(func.count(CatalogSubmission.id))) == 0


def test_dry_run_suggests_without_writing(client, tokens):
    response = post(client, tokens["provider_a"], json=GOOD, query="?dry_run=1")
    assert response.status_code == 200
    body = response.json
    assert body["dry_run"] is True and body["created"] == 2 and body["catalog_id"] is None
    assert "de-escalation" in body["courses"][1]["suggested_topics"]
    assert courses() == 0
    bad = post(client, tokens["provider_a"], json=[{"title": "x"}], query="?dry_run=1")
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "hours"


def test_multipart_file_and_bad_bodies(client, tokens):
    csv_bytes = b"Course Title,Credit Hours\nReport Writing,2\n"
    response = post(
        client,
        tokens["provider_a"],
        data={"file": (io.BytesIO(csv_bytes), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201 and response.json["created"] == 1
    for kwargs in (
        {"data": b"[" * 50000, "content_type": "application/json"},
        {"data": b"{nope", "content_type": "application/json"},
        {"json": {"wrong": []}},
        {"data": "title,hours", "content_type": "text/plain"},
        {
            "data": {"file": (io.BytesIO(b"\x00\x00"), "c.csv")},
            "content_type": "multipart/form-data",
        },
        {"json": [{"hours": 1}]},
    ):
        response = post(client, tokens["provider_a"], **kwargs)
        assert response.status_code == 422, (kwargs, response.json)
        assert response.json["errors"] and response.json["error"]


def test_auth_answers(client, tokens, users):
    assert post(client, None, json=GOOD).status_code == 401
    assert post(client, "pc_wrong", json=GOOD).status_code == 401
    response = post(client, tokens["staff"], json=GOOD)
    assert response.status_code == 403 and set(response.json) == {"error", "details"}
    # staff may act for a named provider; a provider may not name another one
    assert post(client, tokens["staff"], json=GOOD, query="?provider=provider-b").status_code == 201
    assert (
        post(client, tokens["provider_a"], json=GOOD, query="?provider=provider-b").status_code
        == 403
    )
    owner = db.session.scalar(select(Course.provider_id).limit(1))
    assert owner == users["providers"][1].id
