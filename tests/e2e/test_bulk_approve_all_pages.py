"""A reviewer bulk-approves a filtered queue longer than one page: the preview counts every page,
says why the one unsure course is left out, and one confirmation approves them all."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Course


def test_bulk_approve_every_page(
    page, live_server, screenshot, users, make_pending_course, password
):
    provider = users["providers"][0]
    email = users["staff"].email
    for i in range(27):
        make_pending_course(provider, f"Missouri Legal Update {2000 + i}")
    make_pending_course(provider, "Verbal Judo")
    db.session.remove()

    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.goto(live_server + "/review/?provider=provider-a")
    assert page.locator("table.queue tbody tr").count() == 25
    label = page.locator("form.bulk label").inner_text()
    assert "28 pending courses" in label and "all 2 pages" in label
    screenshot("queue-bulk-all-pages")

    page.click("form.bulk button[type=submit]")
    assert page.locator(".bulk-count").inner_text() == "27"
    reason = page.locator("table.will-skip tbody tr", has_text="Verbal Judo").inner_text()
    assert "not sure: " in reason and "two areas have strong evidence" in reason
    screenshot("bulk-preview-with-reasons")

    page.get_by_role("button", name=re.compile(r"Approve 27 courses")).click()
    assert page.locator(".done-count").inner_text() == "27"
    screenshot("bulk-done")
    page.goto(live_server + "/review/")
    assert page.locator("table.queue tbody tr").all_inner_texts()[0].startswith("Verbal Judo")
    approved = db.session.scalar(select(func.count(Course.id)).where(Course.status == "approved"))
    assert approved == 27
