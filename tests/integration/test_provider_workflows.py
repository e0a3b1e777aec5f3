"""Provider workflows on both databases (issue 15 items 1, 3, 4): decisions a provider sees and
exports, only its own; templates and the JSON example import as they are; JSON rows counted from
1; https-only web addresses; withdrawing; its own API tokens."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import ApiToken, AuditEntry, Course
from catalog.services import catalog_templates, provider_courses, provider_tokens
from catalog.services.accounts import issue_token
from catalog.services.errors import Conflict, Invalid, NotFound
from catalog.services.reviewing import decisions as reviewing

UNTIL = dt.date.today() + dt.timedelta(days=100)


@pytest.fixture
def decided(users, make_pending_course):
    a, b = users["providers"]
    staff = users["staff"]
    judo = make_pending_course(a, "Verbal Judo", hours="2")
    lunch = make_pending_course(a, "Team Building Lunch", hours="1")
    waiting = make_pending_course(a, "Defensive Tactics Refresher", hours="2")
    theirs = make_pending_course(b, "Implicit Bias B", hours="1")
    reviewing.decide(
        db.session,
        judo,
        "override",
        judo.version,
        staff,
        areas={"interpersonal-perspectives": Decimal("1.5"), "skill-development": Decimal("0.5")},
        topics=["de-escalation"],
        approved_until=UNTIL,
        control_number="MO-1",
    )
    reviewing.decide(db.session, lunch, "reject", lunch.version, staff, note="=not training")
    reviewing.decide(db.session, theirs, "reject", theirs.version, staff, note="B's reason")
    db.session.commit()
    return {"judo": judo, "lunch": lunch, "waiting": waiting, "theirs": theirs, "a": a, "b": b}


def test_decisions_show_split_override_reason_until_and_number(decided):
    found = provider_courses.decisions_for(
        db.session, [decided["judo"], decided["lunch"], decided["waiting"]]
    )
    judo = found[decided["judo"].id]
    assert judo.label == "Approved with changes by POST staff" and judo.changed_by_staff
    assert [(a.slug, a.hours) for a in judo.areas] == [
        ("interpersonal-perspectives", Decimal("1.5")),
        ("skill-development", Decimal("0.5")),
    ]
    assert [t.slug for t in judo.topics] == ["de-escalation"]
    assert (judo.approved_until, judo.control_number) == (UNTIL, "MO-1")
    lunch = found[decided["lunch"].id]
    assert (lunch.label, lunch.reason, lunch.areas) == ("Rejected", "=not training", [])
    assert found[decided["waiting"].id].label == "Waiting for POST review"


def test_export_lists_only_own_courses_with_formula_guard(client, login, users, decided):
    login(users["provider_a"])
    response = client.get("/provider/courses.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["title"] for r in rows) == [
        "Defensive Tactics Refresher",
        "Team Building Lunch",
        "Verbal Judo",
    ]
    by_title = {r["title"]: r for r in rows}
    assert (
        by_title["Verbal Judo"]["areas"] == "interpersonal-perspectives:1.5;skill-development:0.5"
    )
    assert by_title["Verbal Judo"]["control_number"] == "MO-1"
    assert not by_title["Team Building Lunch"]["reason"].startswith("=")  # formula neutralised
    assert "B's reason" not in response.get_data(as_text=True)


def test_provider_pages_show_decisions(client, login, users, decided):
    login(users["provider_a"])
    listing = client.get("/provider/").get_data(as_text=True)
    assert "Approved with changes by POST staff" in listing and "MO-1" in listing
    assert UNTIL.isoformat() in listing and "not training" in listing
    page = client.get(f"/provider/courses/{decided['judo'].id}/edit").get_data(as_text=True)
    assert "Interpersonal Perspectives 1.5 h" in page and "POST staff set this split" in page
    assert client.get(f"/provider/courses/{decided['theirs'].id}/edit").status_code == 404


def test_withdraw_only_pending_own_courses_and_resubmit(users, decided):
    a, b = decided["a"], decided["b"]
    user = users["provider_a"]
    waiting = decided["waiting"]
    with pytest.raises(Conflict):
        provider_courses.withdraw_course(db.session, a, waiting.id, user, waiting.version + 1)
    with pytest.raises(NotFound):
        provider_courses.withdraw_course(db.session, b, waiting.id, users["provider_b"])
    with pytest.raises(Invalid, match="approved"):
        provider_courses.withdraw_course(db.session, a, decided["judo"].id, user)
    provider_courses.withdraw_course(db.session, a, waiting.id, user, waiting.version)
    db.session.commit()
    assert db.session.get(Course, waiting.id).status == "withdrawn"
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "provider-withdraw")) == 1
    )
    with pytest.raises(Invalid, match="withdrew"):  # staff can no longer decide it
        reviewing.decide(db.session, waiting, "reject", waiting.version, users["staff"], note="x")
    provider_courses.resubmit_course(db.session, a, waiting.id, user)
    db.session.commit()
    assert db.session.get(Course, waiting.id).status == "pending"


def test_withdraw_route_refuses_another_providers_course(client, login, users, decided):
    login(users["provider_b"])
    answer = client.post(f"/provider/courses/{decided['waiting'].id}/withdraw")
    assert answer.status_code == 404
    assert db.session.get(Course, decided["waiting"].id).status == "pending"


def test_own_tokens_create_list_revoke(client, login, users, taxonomy):
    login(users["provider_a"])
    created = client.post("/provider/tokens", data={"name": "our LMS"})
    assert created.status_code == 302 and created.location.endswith("/provider/tokens")
    shown = client.get("/provider/tokens")
    assert shown.headers["Cache-Control"] == "no-store"
    text = shown.get_data(as_text=True)
    assert "shown only once" in text
    again = client.get("/provider/tokens").get_data(as_text=True)
    assert "shown only once" not in again  # the plain token is gone after one view
    (row,) = db.session.scalars(select(ApiToken)).all()
    assert row.user_id == users["provider_a"].id and row.name == "our LMS"
    other, _ = issue_token(db.session, users["provider_b"], "b")
    db.session.commit()
    with pytest.raises(NotFound):
        provider_tokens.revoke_token(db.session, users["provider_a"], other.id)
    assert client.post(f"/provider/tokens/{other.id}/revoke").status_code == 404
    assert client.post(f"/provider/tokens/{row.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    assert db.session.get(ApiToken, other.id).revoked_at is None


def test_token_limit(users, taxonomy):
    user = users["provider_a"]
    for n in range(provider_tokens.MAX_ACTIVE_TOKENS):
        provider_tokens.create_token(db.session, user, f"t{n}")
    with pytest.raises(Invalid, match="revoke one"):
        provider_tokens.create_token(db.session, user, "one too many")


def _categories():
    from catalog.serving import served

    return catalog_templates.categories(db.session, served())


def test_templates_and_json_example_import_cleanly(client, users, taxonomy):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    for name in ("template.csv", "template.xlsx"):
        body = client.get(f"/provider/{name}")
        assert body.status_code == 200 and "attachment" in body.headers["Content-Disposition"]
        answer = client.post(
            "/api/v1/catalogs?dry_run=1",
            headers=auth,
            data={"file": (io.BytesIO(body.data), name)},
            content_type="multipart/form-data",
        )
        assert answer.status_code in (200, 201), answer.json
        assert answer.json["errors"] == [] and answer.json["rows"] == 1
    example = catalog_templates.json_example(*_categories())
    answer = client.post("/api/v1/catalogs?dry_run=1", headers=auth, json=example)
    assert answer.status_code in (200, 201) and answer.json["errors"] == [], answer.json
    page = client.get("/provider/format").get_data(as_text=True)
    assert "&#34;courses&#34;" in page and "area_hours" in page and "skill-development" in page


def test_json_rows_numbered_from_one_and_http_refused(client, users, taxonomy):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    payload = [
        {"title": "Good", "hours": 1, "url": "https://example.org/a"},
        {"title": "Plain web address", "hours": 1, "url": "http://example.org/b"},
        {"title": "No scheme", "hours": 1, "url": "example.org/c"},
    ]
    answer = client.post(
        "/api/v1/catalogs", headers={"Authorization": f"Bearer {token}"}, json=payload
    )
    assert answer.status_code == 422
    assert [(e["row"], e["field"]) for e in answer.json["errors"]] == [(2, "url"), (3, "url")]
    assert "https://" in answer.json["errors"][0]["message"]
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_unchanged_reupload_offers_nothing_to_submit(client, login, users, taxonomy):
    login(users["provider_a"])
    data = b"title,hours\nMissouri Legal Update,2\n"

    def upload():
        answer = client.post(
            "/provider/catalogs/new",
            data={"file": (io.BytesIO(data), "c.csv")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 302
        return answer.location

    first = upload()
    assert "Confirm and submit 1 course(s)" in client.get(first).get_data(as_text=True)
    client.post(first.rstrip("/") + "/confirm")
    page = client.get(upload()).get_data(as_text=True)
    assert "Nothing to submit" in page and "Confirm and submit" not in page
