"""Bulk approve takes the whole filtered queue (every page, not the 25 rows shown), previews it,
says for each course left out why, and applies the preview in one transaction; both databases."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.services.reviewing import bulk, decisions
from catalog.services.reviewing.reasons import unsure_reason


@pytest.fixture
def big_queue(users, make_pending_course):
    a, b = users["providers"]
    sure = [make_pending_course(a, f"Missouri Legal Update {2000 + i}") for i in range(30)]
    other = make_pending_course(b, "Missouri Legal Update 1999")
    judo = make_pending_course(a, "Verbal Judo")
    return {"sure": [c.id for c in sure], "other": other.id, "judo": judo.id}


def preview(client, filters: str, min_score: str = "90"):
    response = client.post(
        "/review/bulk-approve",
        data={"filters": filters, "min_score": min_score, "back": "/review/"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def items_of(html: str) -> str:
    return re.search(r'name="items" value="([^"]*)"', html).group(1)


def pending(ids) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(Course.id)).where(Course.id.in_(ids), Course.status == "pending")
    )


def test_the_whole_filtered_set_is_previewed_and_approved(client, login, users, big_queue):
    login(users["staff"])
    queue = client.get("/review/?provider=provider-a").get_data(as_text=True)
    assert len(re.findall(r'<a href="/review/\d+">', queue)) == 25  # one page shown
    assert re.search(r'class="bulk-total">31<', queue) and "(all 2 pages" in queue
    html = preview(client, "provider=provider-a")
    assert re.search(r'class="bulk-count">30<', html) and "of the 31 pending courses" in html
    left_out = re.findall(r"<tr><td><a[^>]*>([^<]+)</a></td><td>([^<]+)</td></tr>", html)
    judo = db.session.get(Course, big_queue["judo"])
    engine_says = unsure_reason(judo.suggestion)  # the engine's own line when it gives one
    assert "two areas have strong evidence" in engine_says
    assert left_out == [("Verbal Judo", escape("not sure: " + engine_says))]
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0  # the preview wrote nothing
    done = client.post(
        "/review/bulk-approve",
        data={"items": items_of(html), "min_score": "90", "confirm": "1", "back": "/review/"},
    )
    assert re.search(r'class="done-count">30<', done.get_data(as_text=True))
    assert pending(big_queue["sure"]) == 0
    assert pending([big_queue["other"], big_queue["judo"]]) == 2  # other provider, unsure
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 30


def test_text_search_and_score_narrow_the_set(client, login, users, big_queue):
    login(users["staff"])
    html = preview(client, "q=update+2001")
    assert re.search(r'class="bulk-count">1<', html)
    html = preview(client, "")  # the whole queue
    assert re.search(r'class="bulk-count">31<', html)
    html = preview(client, "status=approved")  # nothing pending there
    assert "None of the 0 pending courses" in html
    html = preview(client, "%%%&&provider=", min_score="90")  # garbage is ignored, never a 500
    assert "bulk-count" in html


def test_a_failure_midway_saves_nothing(client, login, users, big_queue, monkeypatch):
    login(users["staff"])
    items = items_of(preview(client, "provider=provider-a"))
    calls = {"n": 0}
    real = decisions.audit.record

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(decisions.audit, "record", failing)
    response = client.post(
        "/review/bulk-approve", data={"items": items, "min_score": "90", "confirm": "1"}
    )
    assert response.status_code == 500 and calls["n"] == 10
    db.session.rollback()
    assert pending(big_queue["sure"]) == 30  # one transaction: all or nothing


def test_the_engines_own_reason_is_used_when_it_gives_one(users, big_queue):
    judo = db.session.get(Course, big_queue["judo"])
    without = {k: v for k, v in judo.suggestion.items() if k != "reason"}
    without["areas"] = [{k: v for k, v in a.items() if k != "reason"} for a in without["areas"]]
    assert unsure_reason(without) == (  # our own line when the engine gives none
        "two areas have strong evidence: Interpersonal Perspectives (100) and "
        "Skill Development (75)"
    )
    judo.suggestion = {**judo.suggestion, "reason": "Interpersonal Perspectives: one keyword only"}
    db.session.commit()
    plan = bulk.plan_bulk_approve(db.session, [(judo.id, judo.version)], 90)
    assert plan.skip[0].reason == "not sure: Interpersonal Perspectives: one keyword only"
    assert unsure_reason({}) == "the engine has no suggestion"
    flagged = {"areas": [{"slug": "x", "score": 90}], "flags": [{"message": "hours look odd"}]}
    assert unsure_reason(flagged) == "hours look odd"
