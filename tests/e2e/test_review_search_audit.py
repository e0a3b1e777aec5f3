"""A reviewer searches the queue by a word of the title, a provider's code and a provider's name,
then finds a course's history in the audit log by its code and reads the change as names and
hours, not stored JSON."""

from __future__ import annotations

from decimal import Decimal

from catalog.extensions import db
from catalog.services.reviewing import decisions


def test_queue_search_and_readable_audit(
    page, live_server, screenshot, users, make_pending_course, password
):
    a, b = users["providers"]
    b.name = "Mid-Missouri Academy"
    email = users["staff"].email
    legal = make_pending_course(a, "Missouri Legal Update 2025", provider_code="LEG-25")
    make_pending_course(a, "Crash Investigation Basics", provider_code="CR-1")
    make_pending_course(b, "Verbal Judo", provider_code="VJ-7")
    decisions.decide(db.session, legal, "approve", legal.version, users["staff"])
    db.session.commit()
    decisions.decide(
        db.session,
        legal,
        "override",
        legal.version,
        users["staff"],
        {"legal-studies": Decimal("1.5"), "skill-development": Decimal("0.5")},
        ["de-escalation"],
        note="Half an hour of scenarios",
    )
    db.session.commit()
    db.session.remove()

    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.goto(live_server + "/review/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    page.fill("#queue-q", "cr-1")
    page.click(".queue-search button")
    assert [t.strip() for t in rows.locator("td:first-child a").all_inner_texts()] == [
        "Crash Investigation Basics"
    ]
    screenshot("queue-search-by-code")
    page.fill("#queue-q", "mid-missouri")
    page.click(".queue-search button")
    assert rows.locator("td:first-child a").all_inner_texts() == ["Verbal Judo"]

    page.goto(live_server + "/review/audit")
    page.fill("#f-course", "LEG-25")
    page.click(".filters button[type=submit]")
    entries = page.locator("table.audit tbody tr")
    assert entries.count() == 2
    override = entries.filter(has_text="override")
    change = override.locator("td.change").inner_text()
    assert "Legal Studies 2 h → 1.5 h" in change
    assert "Skill Development 0.5 h" in change and "De-escalation" in change
    assert "legal-studies" not in change and "{" not in change
    screenshot("audit-readable-diff")
