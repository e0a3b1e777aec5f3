"""Issue 15 item 2 in a real browser: a provider edits only the description of an approved
course; the form says beforehand what will happen, the approved version stays on the public list
while the change waits, and staff publish it from the review page."""

from __future__ import annotations

from playwright.sync_api import expect

from catalog.extensions import db

OLD = "Verbal tactics for patrol officers."
NEW = "Communication drills with hovercraft scenarios."


def _sign_in(page, live_server, email, password):
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()


def test_description_change_waits_while_the_approved_version_stays_published(
    page, live_server, screenshot, users, make_course, password
):
    course = make_course(
        "Introduction to De-escalation",
        provider="provider-a",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
        description=OLD,
    )
    course_id = course.id
    provider_email, staff_email = users["provider_a"].email, users["staff"].email
    db.session.remove()

    _sign_in(page, live_server, provider_email, password)
    page.goto(live_server + f"/provider/courses/{course_id}/edit")
    rule = page.locator("#approved-edit-rule")
    expect(rule).to_contain_text("the approved version stays published while POST reviews")
    page.fill("input[name=hours]", "2")  # said before saving: hours take it off the list
    expect(page.locator("#approved-edit-warning")).to_contain_text(
        "You changed the hours: saving takes this course off the public list"
    )
    screenshot("approved-course-hours-warning")
    page.fill("input[name=hours]", "1")
    expect(page.locator("#approved-edit-warning")).to_have_text("")
    page.fill("textarea[name=description]", NEW)
    screenshot("approved-course-description-edit")
    page.get_by_role("button", name="Save and send for review").click()
    expect(page.locator(".flash-success")).to_contain_text("the approved version stays")
    expect(page.locator(".revision-waiting")).to_contain_text("waits for POST review")
    expect(page.locator("section.decision")).to_contain_text("Approved")
    screenshot("change-waiting-for-review")

    page.goto(live_server + "/courses?q=patrol")  # the approved text is still what is found
    expect(page.locator(".course-item h3")).to_have_text(["Introduction to De-escalation"])
    page.goto(live_server + f"/courses/{course_id}")
    expect(page.locator("main")).to_contain_text(OLD)
    screenshot("public-course-still-approved-version")
    page.click("form[action='/logout'] button")

    _sign_in(page, live_server, staff_email, password)
    page.goto(live_server + "/review/")
    page.get_by_role("link", name="Changes to approved", exact=False).first.click()
    expect(page.locator("table.queue")).to_contain_text("change waiting")
    screenshot("queue-changes-to-approved")
    page.get_by_role("link", name="Introduction to De-escalation").click()
    box = page.locator("section.revision")
    expect(box.locator("td.published")).to_have_text(OLD)
    expect(box.locator("td.proposed")).to_have_text(NEW)
    screenshot("review-change-diff")
    box.get_by_role("button", name="Publish the change").click()
    expect(page.locator(".flash-success")).to_contain_text("Published the change")

    page.goto(live_server + "/courses?q=hovercraft")
    expect(page.locator(".course-item h3")).to_have_text(["Introduction to De-escalation"])
    screenshot("public-course-change-published")
