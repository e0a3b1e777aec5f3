"""A reviewer on a phone (390 px wide): the queue, a course's decision page, the audit log and the
dashboard fit the screen without sideways scrolling, and no dashboard label is cut off."""

from __future__ import annotations

from decimal import Decimal

from catalog.extensions import db
from catalog.services.reviewing import decisions

PHONE = {"width": 390, "height": 844}


def _sign_in(page, live_server, email, password):
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()


def _overflow(page) -> dict:
    """Document width beyond the viewport, and the widest elements sticking out."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && r.width > 0) {
                    out.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.right));
                }
            }
            return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
        }"""
    )


def _unreadable_labels(page) -> list[str]:
    """Chart and stat labels that are cut off (wider than their box, or outside their chart)
    or shrunk below 11 px (an SVG's text scales down with it)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.bar-label, .bar-text, .chart-axis span, .stat, svg text')]
            .filter(el => {
                const r = el.getBoundingClientRect();
                if (el instanceof SVGElement) {
                    const svg = el.ownerSVGElement.getBoundingClientRect();
                    return r.height < 11 || r.left < svg.left - 1 || r.right > svg.right + 1;
                }
                return el.scrollWidth > el.clientWidth + 1 || r.right > innerWidth
                    || parseFloat(getComputedStyle(el).fontSize) < 11;
            })
            .map(el => el.textContent.trim().slice(0, 40))"""
    )


def test_review_pages_fit_a_phone(
    page, live_server, screenshot, users, make_pending_course, password
):
    provider = users["providers"][0]
    email = users["staff"].email
    long_title = "Interpersonal Communication and Crisis De-escalation for Patrol Officers Part II"
    courses = [
        make_pending_course(provider, long_title, hours="2", provider_code="IPC-2025-LONG-CODE"),
        make_pending_course(provider, "Missouri Legal Update 2025", hours="2"),
        make_pending_course(provider, "Racial Profiling Data Collection", hours="1"),
        make_pending_course(provider, "Verbal Judo", hours="2"),
    ]
    legal = courses[1]
    decisions.decide(db.session, legal, "approve", legal.version, users["staff"])
    judo = courses[3]
    decisions.decide(
        db.session,
        judo,
        "override",
        judo.version,
        users["staff"],
        {"interpersonal-perspectives": Decimal("1"), "skill-development": Decimal("1")},
        ["de-escalation"],
    )
    db.session.commit()
    first_id, legal_id = courses[0].id, legal.id
    db.session.remove()

    page.set_viewport_size(PHONE)
    _sign_in(page, live_server, email, password)
    for name, path in [
        ("queue", "/review/"),
        ("queue-all", "/review/?status=all"),
        ("course", f"/review/{first_id}"),
        ("course-decided", f"/review/{legal_id}"),
        ("audit", "/review/audit"),
        ("dashboard", "/review/dashboard"),
    ]:
        page.goto(live_server + path)
        result = _overflow(page)
        screenshot(f"phone-{name}")
        assert result["scroll"] <= PHONE["width"], (name, result)
    page.goto(live_server + "/review/dashboard")
    assert _unreadable_labels(page) == []
    assert page.get_by_text("Interpersonal Perspectives").first.is_visible()
    for name, path in [("public-list", "/courses"), ("public-course", f"/courses/{legal_id}")]:
        page.goto(live_server + path)
        result = _overflow(page)
        screenshot(f"phone-{name}")
        assert result["scroll"] <= PHONE["width"], (name, result)
