"""The queue's text search (title, provider code, provider name) and the audit log's course filter
(number, code or title) on both databases, and before/after shown with names, hours and a diff."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from catalog.extensions import db
from catalog.services.audit_log import describe_changes
from catalog.services.reviewing import decisions


@pytest.fixture
def queue(users, make_pending_course):
    a, b = users["providers"]
    b.name = "Mid-Missouri Academy"
    db.session.commit()
    return {
        "legal": make_pending_course(a, "Missouri Legal Update 2025", provider_code="LEG-25"),
        "crash": make_pending_course(a, "Crash Investigation 100% Basics", provider_code="CR_1"),
        "judo": make_pending_course(b, "Verbal Judo", provider_code="VJ-7"),
    }


def titles(client, **args) -> list[str]:
    html = client.get("/review/", query_string=args).get_data(as_text=True)
    return sorted(re.findall(r'<a href="/review/\d+">([^<]+)</a>', html))


def test_queue_text_search(client, login, users, queue):
    login(users["staff"])
    assert titles(client, q="legal") == ["Missouri Legal Update 2025"]
    assert titles(client, q="  LEG-25 ") == ["Missouri Legal Update 2025"]  # provider code
    assert titles(client, q="mid-missouri") == ["Verbal Judo"]  # provider name
    assert titles(client, q="missouri") == ["Missouri Legal Update 2025", "Verbal Judo"]
    assert titles(client, q="missouri judo") == ["Verbal Judo"]  # every word
    assert titles(client, q=f"#{queue['crash'].id}") == ["Crash Investigation 100% Basics"]
    assert titles(client, q="100%") == ["Crash Investigation 100% Basics"]
    assert titles(client, q="%") == ["Crash Investigation 100% Basics"]  # % is a character
    assert titles(client, q="_") == ["Crash Investigation 100% Basics"]  # CR_1, not a wildcard
    assert titles(client, q="nothing like this") == []
    html = client.get("/review/?q=legal&sort=title").get_data(as_text=True)
    assert 'value="legal"' in html and "search: legal" in html
    assert re.search(r'href="/review/\?q=legal[^"]*provider=provider-a', html)  # facets keep q
    assert client.get("/review/", query_string={"q": "x" * 5000}).status_code == 200


def test_audit_course_filter_matches_numbers_codes_and_titles(client, login, users, queue):
    staff = users["staff"]
    for key in ("legal", "judo"):
        course = queue[key]
        decisions.decide(db.session, course, "reject", course.version, staff, note=f"no {key}")
    db.session.commit()
    login(staff)

    def notes(course: str) -> list[str]:
        html = client.get("/review/audit", query_string={"course": course}).get_data(as_text=True)
        return sorted(re.findall(r'data-label="Note">(no \w+)<', html))

    assert notes(str(queue["legal"].id)) == ["no legal"]
    assert notes(f"#{queue['judo'].id}") == ["no judo"]
    assert notes("leg-25") == ["no legal"]
    assert notes("verbal") == ["no judo"]
    assert notes("") == ["no judo", "no legal"]
    assert notes("zzz") == []
    rows = list(
        csv.DictReader(io.StringIO(client.get("/review/audit.csv?course=VJ-7").get_data(True)))
    )
    assert [r["note"] for r in rows] == ["no judo"]
    assert rows[0]["changes"] == "Status: pending → rejected"


def test_audit_shows_names_hours_and_what_changed(client, login, users, queue):
    staff = users["staff"]
    legal = queue["legal"]
    decisions.decide(db.session, legal, "approve", legal.version, staff)
    db.session.commit()
    decisions.decide(
        db.session,
        legal,
        "override",
        legal.version,
        staff,
        {"legal-studies": Decimal("1.5"), "skill-development": Decimal("0.5")},
        ["de-escalation"],
    )
    db.session.commit()
    login(staff)
    html = client.get(f"/review/audit?course={legal.id}&action=override").get_data(as_text=True)
    change = html[html.index('class="change"') : html.index('data-label="Note"')]
    assert "legal-studies" not in change and "{" not in change  # no slugs, no raw data
    assert re.search(r'part-changed">Legal Studies 2 h → 1.5 h<', change)
    assert re.search(r'part-added"><span class="visually-hidden">added: </span>Skill Dev', change)
    assert re.search(r"part-added\">.*De-escalation<", change)


def test_describe_changes_reads_like_a_sentence():
    names = {"legal-studies": "Legal Studies", "firearms": "Firearms", "de-escalation": "De-esc"}
    changes = describe_changes(
        {
            "status": "pending",
            "version": 3,
            "areas": {"legal-studies": "2"},
            "topics": ["firearms"],
            "description": "Covers the use of force law and the new statutes passed this year.",
            "hours": "2.00",
        },
        {
            "status": "approved",
            "version": 4,
            "areas": {"legal-studies": "2"},
            "topics": ["de-escalation"],
            "description": "Covers the use of force law and the statutes passed in 2025 here.",
            "hours": "2.5",
            "suggested": {"areas": {}},
        },
        names,
    )
    by_key = {c.key: c for c in changes}
    assert set(by_key) == {"status", "topics", "description", "hours"}  # areas unchanged
    assert (by_key["status"].before, by_key["status"].after) == ("pending", "approved")
    assert [(p.text, p.state) for p in by_key["topics"].parts] == [
        ("De-esc", "added"),
        ("Firearms", "removed"),
    ]
    assert (by_key["hours"].before, by_key["hours"].after) == ("2 h", "2.5 h")
    removed = "".join(p.text for p in by_key["description"].parts if p.state == "removed")
    added = "".join(p.text for p in by_key["description"].parts if p.state == "added")
    assert "new" in removed and "2025" in added and "Covers" not in added
    assert describe_changes({}, {"email": "a@b", "active": True}, {})[1].after == "yes"
