"""A reviewer opens the queue, overrides one suggestion, bulk-approves the rest and finds every
decision in the audit log (Playwright with Debian chromium)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import AuditEntry, Course


def test_review_flow(live_server, page, screenshot, users, make_pending_course, password):
    provider = users["providers"][0]
    staff_email = users["staff"].email
    titles = [
        "Missouri Legal Update 2025",
        "Crash Investigation Basics",
        "Defensive Tactics Refresher",
        "Verbal Judo",
    ]
    for title in titles:
        make_pending_course(provider, title, hours="2")
    db.session.remove()

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", staff_email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/review/")
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    first = page.locator("table.queue tbody tr").first
    expect(first).to_contain_text("Verbal Judo")  # engine unsure first
    screenshot("queue")

    first.locator("a").first.click()
    expect(page.locator("h1.course-title mark")).to_have_count(1)
    page.fill("#hours-interpersonal-perspectives", "1.5")
    page.fill("#hours-skill-development", "0.5")
    expect(page.locator(".hours-sum")).to_contain_text("2 of 2")
    page.check("input[name=topic][value=de-escalation]")
    page.fill("#override-note", "Communication with a hands-on part")
    screenshot("override")
    page.click("form.action-override button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Approved")

    page.goto(f"{live_server}/review/")
    expect(page.locator("table.queue tbody tr")).to_have_count(3)
    page.select_option("#min_score", "90")
    page.click("form.bulk button[type=submit]")
    expect(page.locator(".bulk-count")).to_have_text("3")
    screenshot("bulk-confirm")
    page.get_by_role("button", name=re.compile(r"Approve 3 courses")).click()
    expect(page.locator(".done-count")).to_have_text("3")
    screenshot("bulk-done")

    page.get_by_role("link", name="See the audit log").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("table.audit")).to_contain_text("Communication with a hands-on part")
    for title in titles:
        expect(page.locator("table.audit")).to_contain_text(title)
    screenshot("audit")

    page.goto(f"{live_server}/review/dashboard")
    expect(page.locator("svg.chart").first).to_be_visible()
    screenshot("dashboard")

    statuses = set(db.session.scalars(select(Course.status)))
    assert statuses == {"approved"}
    actions = sorted(db.session.scalars(select(AuditEntry.action)))
    assert actions == ["bulk-approve"] * 3 + ["override"]
