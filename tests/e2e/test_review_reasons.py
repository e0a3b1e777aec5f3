"""A reviewer sorts the queue by "most useful to decide next" and reads, on the queue and on the
review page, why the engine is not sure (Playwright with Debian chromium)."""

from __future__ import annotations

from playwright.sync_api import expect

from catalog.extensions import db


def test_queue_useful_order_and_reasons(
    live_server, page, screenshot, users, make_pending_course, password
):
    provider = users["providers"][0]
    staff_email = users["staff"].email
    for title in ("Zebra Seminar Alpha", "Report Writing", "Officer Safety Safe Streets"):
        make_pending_course(provider, title, hours="2")
    for i in range(1, 4):
        make_pending_course(provider, f"Blue Courage Module {i}", hours="2")
    db.session.remove()

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", staff_email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/review/")
    page.select_option("#sort", "useful")
    page.locator("form.sort-form").evaluate("f => f.requestSubmit ? f.requestSubmit() : f.submit()")
    page.wait_for_url("**sort=useful**")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("Blue Courage Module")
    expect(rows.first.locator(".why-not")).to_contain_text("not sure: ")
    sure = page.locator("table.queue tbody tr", has_text="Report Writing")
    expect(sure.locator(".why-not")).to_have_count(0)
    screenshot("queue-useful-order-reasons")

    page.locator("table.queue tbody tr", has_text="Officer Safety Safe Streets").locator(
        "a"
    ).first.click()
    expect(page.locator(".card.suggestion .why-not").first).to_contain_text("not sure: ")
    screenshot("review-page-reason")
