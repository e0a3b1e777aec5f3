"""A reviewer types a rejection reason and the session expires before they press Reject: the
reason is not lost, neither while still signed in (token renewed elsewhere) nor after signing in
again (session gone)."""

from __future__ import annotations

import pytest

from catalog.extensions import db
from catalog.models import Course

REASON = "Duplicate of the 2024 course; same outline and hours."


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_typed_reason_survives_an_expired_session(
    page, live_server, screenshot, users, make_pending_course, password
):
    email = users["staff"].email
    course_id = make_pending_course(users["providers"][0], "Crash Investigation Basics").id
    db.session.remove()

    def sign_in():
        page.fill('input[name="email"]', email)
        page.fill('input[name="password"]', password)
        page.click("main form button[type='submit']")
        page.wait_for_load_state()

    page.goto(f"{live_server}/login?next=/review/{course_id}")
    sign_in()
    page.fill("#reject-note", REASON)
    # The token the page holds no longer matches the session (renewed in another tab).
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'old')"
    )
    page.click("form.action-reject button[type=submit]")
    assert "Nothing was saved" in page.locator(".flash.expired").inner_text()
    assert page.locator("#reject-note").input_value() == REASON
    screenshot("token-expired-reason-kept")

    # Now the whole session is gone (cookies cleared) when they press Reject again.
    page.context.clear_cookies()
    page.click("form.action-reject button[type=submit]")
    assert "Sign in again" in page.locator(".flash.expired").inner_text()
    assert page.locator("#typed-note").input_value() == REASON
    screenshot("session-expired-sign-in")
    sign_in()
    page.wait_for_url(f"**/review/{course_id}")
    assert page.locator("#reject-note").input_value() == REASON
    screenshot("signed-in-again-reason-back")
    page.click("form.action-reject button[type=submit]")
    assert "Rejected" in page.locator(".flash-success").first.inner_text()
    assert db.session.get(Course, course_id).status == "rejected"
    assert db.session.get(Course, course_id).decision_note == REASON
