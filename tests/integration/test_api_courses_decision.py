"""GET /api/v1/courses and POST /api/v1/courses/<id>/decision per the contracts."""

from __future__ import annotations

import pytest

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.services.accounts import issue_token


@pytest.fixture
def tokens(users):
    out = {}
    for key in ("staff", "provider_a"):
        _, plain = issue_token(db.session, users[key], "test")
        out[key] = {"Authorization": f"Bearer {plain}"}
    db.session.commit()
    return out


@pytest.fixture
def courses(users, make_pending_course):
    a, b = users["providers"]
    return [
        make_pending_course(a, "Missouri Legal Update 2025", hours="2"),
        make_pending_course(a, "Crash Investigation Basics", hours="2"),
        make_pending_course(b, "Annual Duty Pistol Qualification", hours="2", delivery="online"),
    ]


def test_list_scoping_and_pagination(client, tokens, courses):
    assert client.get("/api/v1/courses").status_code == 401
    body = client.get("/api/v1/courses?status=pending&per_page=2", headers=tokens["staff"]).json
    assert len(body["courses"]) == 2 and body["next"]
    first = body["courses"][0]
    assert {
        "id",
        "title",
        "hours",
        "delivery",
        "status",
        "version",
        "suggestions",
        "areas",
        "topics",
    } <= set(first)
    assert first["suggestions"][0]["slug"] == "legal-studies"
    assert first["suggestions"][0]["evidence"]
    rest = client.get(body["next"], headers=tokens["staff"]).json
    assert len(rest["courses"]) == 1 and rest["next"] is None
    mine = client.get("/api/v1/courses", headers=tokens["provider_a"]).json
    assert {c["title"] for c in mine["courses"]} == {
        "Missouri Legal Update 2025",
        "Crash Investigation Basics",
    }
    bad = client.get("/api/v1/courses?status=nope", headers=tokens["staff"])
    assert bad.status_code == 400 and "Unknown status" in bad.json["error"]
    assert client.get("/api/v1/courses?page=x", headers=tokens["staff"]).status_code == 400


def test_decisions(client, tokens, courses):
    legal, crash, pistol = courses
    url = f"/api/v1/courses/{legal.id}/decision"
    assert client.post(url, json={"action": "approve", "version": 1}).status_code == 401
    forbidden = client.post(
        url, json={"action": "approve", "version": legal.version}, headers=tokens["provider_a"]
    )
    assert forbidden.status_code == 403
    missing = client.post(
        "/api/v1/courses/99999/decision",
        json={"action": "approve", "version": 1},
        headers=tokens["staff"],
    )
    assert missing.status_code == 404 and missing.json["error"]
    shown = legal.version
    ok = client.post(url, json={"action": "approve", "version": shown}, headers=tokens["staff"])
    assert ok.status_code == 200, ok.json
    assert ok.json["status"] == "approved" and ok.json["version"] == shown + 1
    assert ok.json["areas"] == [{"slug": "legal-studies", "hours": "2"}]
    stale = client.post(
        url, json={"action": "reject", "version": shown, "note": "x"}, headers=tokens["staff"]
    )
    assert stale.status_code == 409 and "Nothing was saved" in stale.json["error"]
    db.session.expire_all()
    assert db.session.get(Course, legal.id).status == "approved"

    crash_url = f"/api/v1/courses/{crash.id}/decision"
    bad = client.post(
        crash_url,
        json={
            "action": "override",
            "version": crash.version,
            "areas": [{"slug": "technical-studies", "hours": "1.5"}],
        },
        headers=tokens["staff"],
    )
    assert bad.status_code == 422 and "must add up exactly" in bad.json["error"]
    assert bad.json["details"][0]["field"] == "areas"
    for payload, message in [
        ({"action": "override"}, "needs 'areas'"),
        ({"action": "reject"}, "Give a reason"),
        ({"action": "override", "areas": "x"}, "must be a list"),
        (
            {
                "action": "override",
                "areas": [{"slug": "legal-studies", "hours": "2"}],
                "topics": "firearms",
            },
            "list of topic slugs",
        ),
        (
            {
                "action": "override",
                "areas": [{"slug": "legal-studies", "hours": "2"}],
                "approved_until": "soon",
            },
            "must be a date",
        ),
    ]:
        response = client.post(
            crash_url, json={"version": crash.version, **payload}, headers=tokens["staff"]
        )
        assert response.status_code == 422, payload
        assert message in response.json["error"], (payload, response.json)
    assert client.post(crash_url, data="[[[", headers=tokens["staff"]).status_code == 400
    ok = client.post(
        crash_url,
        json={
            "action": "override",
            "version": crash.version,
            "note": "split",
            "areas": [
                {"slug": "technical-studies", "hours": "1.5"},
                {"slug": "legal-studies", "hours": 0.5},
            ],
        },
        headers=tokens["staff"],
    )
    assert ok.status_code == 200 and ok.json["decision_note"] == "split"

    firearms = client.post(
        f"/api/v1/courses/{pistol.id}/decision",
        json={
            "action": "override",
            "version": pistol.version,
            "areas": [{"slug": "skill-development", "hours": "2"}],
            "topics": ["firearms"],
        },
        headers=tokens["staff"],
    )
    assert firearms.status_code == 422
    assert "only counts for live training" in firearms.json["error"]
    decided = db.session.query(AuditEntry).filter(AuditEntry.course_id.is_not(None))
    assert [e.action for e in decided.order_by(AuditEntry.id)] == ["approve", "override"]
