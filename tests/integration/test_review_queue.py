"""Queue filters and counts, bulk approve on the filtered set, carry forward, audit log and CSV,
dashboard, and who may reach the review pages."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.services import audit, dashboard
from catalog.services.reviewing import bulk, decisions


@pytest.fixture
def catalog(users, make_pending_course):
    a, b = users["providers"]
    return {
        "legal": make_pending_course(a, "Missouri Legal Update 2025", hours="2"),
        "crash": make_pending_course(a, "Crash Investigation Basics", hours="2"),
        "dt": make_pending_course(a, "Defensive Tactics Refresher", hours="2"),
        "judo": make_pending_course(a, "Verbal Judo", hours="2"),  # engine unsure
        "other": make_pending_course(b, "Implicit Bias for Law Enforcement", hours="2"),
    }


def _filters(html: str) -> str:
    match = re.search(r'name="filters"[^>]*value="([^"]*)"', html)
    assert match, "the queue offers bulk approve"
    return match.group(1).replace("&amp;", "&")


def _items(html: str) -> str:
    """The id:version list a bulk preview will approve on confirmation."""
    match = re.search(r'name="items"[^>]*value="([^"]*)"', html)
    assert match, "the preview offers to confirm"
    return match.group(1)


def test_queue_filters_counts_and_unsure_first(client, login, users, catalog):
    login(users["staff"])
    html = client.get("/review/").get_data(as_text=True)
    titles = re.findall(r'<a href="/review/\d+">([^<]+)</a>', html)
    assert titles[0] == "Verbal Judo"  # engine unsure first
    assert len(titles) == 5
    html = client.get("/review/?provider=provider-a").get_data(as_text=True)
    assert "Implicit Bias for Law Enforcement" not in html
    assert re.search(r'provider-b">Provider B</a> <span class="count">1</span>', html)
    html = client.get("/review/?area=legal-studies").get_data(as_text=True)
    assert "Missouri Legal Update 2025" in html and "Crash Investigation" not in html
    html = client.get("/review/?band=zz&page=x&sort=title").get_data(as_text=True)
    assert "Ignored unknown band" in html and "not a whole number" in html
    assert client.get("/review/?status=approved").status_code == 200


def test_bulk_approve_acts_on_the_filtered_confident_courses(client, login, users, catalog):
    login(users["staff"])
    legal_version = catalog["legal"].version
    html = client.get("/review/?provider=provider-a").get_data(as_text=True)
    filters = _filters(html)
    assert filters == "provider=provider-a"
    confirm = client.post(
        "/review/bulk-approve", data={"filters": filters, "min_score": "90", "back": "/review/"}
    )
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert re.search(r'class="bulk-count">3<', page)
    assert "not sure: " in page and "two areas have strong evidence" in page  # Verbal Judo
    items = _items(page)
    assert str(catalog["other"].id) + ":" not in items
    assert db.session.scalar(select(AuditEntry.id)) is None  # the confirmation wrote nothing
    # Someone decides one course meanwhile: it is skipped, not overwritten.
    crash = catalog["crash"]
    decisions.decide(
        db.session,
        crash,
        "override",
        crash.version,
        users["staff"],
        {"technical-studies": Decimal("1"), "skill-development": Decimal("1")},
        [],
    )
    db.session.commit()
    done = client.post(
        "/review/bulk-approve",
        data={"items": items, "min_score": "90", "confirm": "1", "back": "/review/"},
    )
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert re.search(r'class="done-count">2<', page)
    assert "already approved" in page
    db.session.expire_all()
    statuses = {k: db.session.get(Course, c.id).status for k, c in catalog.items()}
    assert statuses == {
        "legal": "approved",
        "crash": "approved",
        "dt": "approved",
        "judo": "pending",
        "other": "pending",
    }
    bulk = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bulk-approve")).all()
    assert sorted(e.course_id for e in bulk) == sorted([catalog["legal"].id, catalog["dt"].id])
    legal = db.session.get(Course, catalog["legal"].id)
    assert legal.version == legal_version + 1
    from catalog.services.courses import course_categories

    assert course_categories(legal, "decided") == ({"legal-studies": Decimal("2")}, [])


def test_bulk_approve_skips_a_version_changed_after_planning(app, users, catalog):
    legal = catalog["legal"]
    shown = legal.version
    # The row changes between the reviewer's page and the UPDATE: WHERE version = shown misses.
    db.session.execute(update(Course).where(Course.id == legal.id).values(version=shown + 5))
    db.session.commit()
    result = bulk.bulk_approve(db.session, [(legal.id, shown)], 90, users["staff"])
    db.session.commit()
    assert result.approve == []
    assert [i.reason for i in result.skip] == ["changed since the list was shown"]
    assert db.session.get(Course, legal.id).status == "pending"


def test_bulk_approve_threshold_and_bad_input(client, login, users, catalog):
    login(users["staff"])
    legal = catalog["legal"]
    items = f"{legal.id}:{legal.version}"
    page = client.post("/review/bulk-approve", data={"items": items, "min_score": "101"})
    assert page.status_code == 302
    page = client.post("/review/bulk-approve", data={"items": "1;drop", "min_score": "90"})
    assert page.status_code == 400
    plan = bulk.plan_bulk_approve(db.session, [(legal.id, legal.version)], 100)
    assert len(plan.approve) == 1  # legal update scores 100
    judo = catalog["judo"]
    plan = bulk.plan_bulk_approve(db.session, [(judo.id, judo.version)], 0)
    assert plan.approve == [] and plan.skip[0].reason.startswith("not sure: ")


def test_carry_forward_prefills_the_earlier_decision(client, login, users, catalog):
    course = catalog["judo"]
    audit.record(
        db.session,
        action="override",
        entity_type="course",
        entity_id=course.id,
        course_id=course.id,
        actor="old@post.example",
        after={
            "status": "approved",
            "areas": {"interpersonal-perspectives": "1.5", "skill-development": "0.5"},
            "topics": ["de-escalation"],
            "approved_until": "2025-12-31",
        },
    )
    db.session.commit()
    carry = decisions.carry_forward(db.session, course)
    assert carry.areas == {
        "interpersonal-perspectives": Decimal("1.5"),
        "skill-development": Decimal("0.5"),
    }
    login(users["staff"])
    html = client.get(f"/review/{course.id}").get_data(as_text=True)
    assert "Earlier decision carried forward" in html
    assert re.search(r'name="hours-interpersonal-perspectives" value="1.5"', html)
    assert re.search(r'name="hours-skill-development" value="0.5"', html)


def test_similar_courses_come_from_approved_decisions(client, login, users, catalog):
    staff = users["staff"]
    legal = catalog["legal"]
    from catalog.services.suggesting import get_engine, load_examples

    engine_before = get_engine(db.session, legal.jurisdiction)
    decisions.decide(db.session, legal, "approve", legal.version, staff)
    db.session.commit()
    # The decision feeds the matcher: it is an example now, and the cached engine is rebuilt.
    examples = load_examples(db.session, legal.jurisdiction)
    assert [e.course_id for e in examples] == [legal.id]
    assert get_engine(db.session, legal.jurisdiction) is not engine_before
    a = users["providers"][0]
    from catalog.services.courses import normalise_title

    newer = Course(
        provider=a,
        jurisdiction=legal.jurisdiction,
        title="Missouri Legal Update 2026",
        normalised_title=normalise_title("Missouri Legal Update 2026"),
        hours=Decimal("2"),
    )
    db.session.add(newer)
    db.session.commit()
    login(staff)
    html = client.get(f"/review/{newer.id}").get_data(as_text=True)
    similar = html[html.index("Similar approved courses") :]
    assert "Missouri Legal Update 2025" in similar[:2000]


def test_title_highlight_escapes_user_text(client, login, users, make_pending_course):
    course = make_pending_course(
        users["providers"][0], "<script>alert(1)</script> Defensive Tactics", hours="1"
    )
    login(users["staff"])
    html = client.get(f"/review/{course.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark" in html


def test_audit_log_and_formula_safe_csv(client, login, users, catalog):
    staff = users["staff"]
    course = catalog["crash"]
    decisions.decide(db.session, course, "reject", course.version, staff, note="=HYPERLINK(1)")
    db.session.commit()
    login(staff)
    html = client.get(f"/review/audit?course={course.id}&action=reject").get_data(as_text=True)
    assert "Crash Investigation Basics" in html and "=HYPERLINK(1)" in html
    html = client.get("/review/audit?course=abc").get_data(as_text=True)
    assert "No entries." in html  # words search the titles and codes now
    response = client.get("/review/audit.csv?action=reject")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["note"] == "'=HYPERLINK(1)"
    assert rows[0]["actor"] == staff.email and rows[0]["action"] == "reject"


def test_dashboard_numbers(client, login, users, catalog):
    staff = users["staff"]
    for key in ("legal", "dt"):
        course = catalog[key]
        decisions.decide(db.session, course, "approve", course.version, staff)
    crash = catalog["crash"]
    decisions.decide(
        db.session, crash, "override", crash.version, staff, {"legal-studies": Decimal("2")}, []
    )
    db.session.commit()
    per_category, overall = dashboard.acceptance(db.session)
    by_slug = {a.slug: a for a in per_category}
    assert overall["courses"] == 3 and overall["same_labels"] == 2
    assert (by_slug["technical-studies"].suggested, by_slug["technical-studies"].agreed) == (1, 0)
    assert (by_slug["legal-studies"].decided, by_slug["legal-studies"].agreed) == (2, 1)
    approved = {a.slug: a for a in dashboard.approved_per_category(db.session)}
    assert approved["legal-studies"].courses == 2 and approved["legal-studies"].hours == 4
    points = dashboard.queue_over_time(db.session, days=7)
    assert points[-1].pending == 2
    login(staff)
    html = client.get("/review/dashboard").get_data(as_text=True)
    assert "<svg" in html and "67%" in html


REVIEW_URLS = [
    ("get", "/review/"),
    ("get", "/review/1"),
    ("post", "/review/1"),
    ("post", "/review/bulk-approve"),
    ("get", "/review/audit"),
    ("get", "/review/audit.csv"),
    ("get", "/review/dashboard"),
]


@pytest.mark.parametrize("method,url", REVIEW_URLS)
def test_only_staff_reach_review(client, login, users, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(users["provider_a"])
    assert getattr(client, method)(url).status_code == 403


def test_unknown_course_is_404(client, login, users, taxonomy):
    login(users["staff"])
    assert client.get("/review/999999").status_code == 404
    assert (
        client.post("/review/999999", data={"action": "approve", "version": 1}).status_code == 404
    )


def test_decision_form_needs_csrf(app_factory, users, catalog):
    other = app_factory(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    client.post(
        "/login",
        data={"email": users["staff"].email, "password": "Correct-Horse-42", "csrf_token": token},
    )
    course = catalog["legal"]
    response = client.post(
        f"/review/{course.id}", data={"action": "approve", "version": course.version}
    )
    assert response.status_code == 400
    with other.app_context():
        assert db.session.get(Course, course.id).status == "pending"


def test_dashboard_counts_only_published_courses(app, make_course):
    """The dashboard's "approved per category" follows the one rule of publication: an undated
    approval or one that ended yesterday is not on the public list, so it is not counted."""
    import datetime as dt

    today = dt.date.today()
    make_course("Case Law Update", hours="2", areas={"legal-studies": "2"})
    make_course(
        "Undated Legal Course", hours="3", areas={"legal-studies": "3"}, approved_until=None
    )
    make_course(
        "Ended Legal Course",
        hours="4",
        areas={"legal-studies": "4"},
        approved_until=today - dt.timedelta(days=1),
    )
    db.session.commit()
    approved = {a.slug: a for a in dashboard.approved_per_category(db.session, today=today)}
    assert approved["legal-studies"].courses == 1
    assert approved["legal-studies"].hours == 2
