"""axe-core on the pages people use most (start, search, course, upload, preview, queue, review,
admin): no serious or critical violation. Each page's full result goes to test-output/axe/."""

from __future__ import annotations

import pytest

from catalog.extensions import db

CATALOG_CSV = (
    "title,hours,delivery,description\n"
    '"Introduction to De-escalation (1 hour)",1,online,"Verbal de-escalation basics."\n'
    '"Crash Investigation Basics",3,in-person,""\n'
    '"",2,in-person,"a row with an error"\n'
)


def _sign_in(page, live_server, email, password):
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()


def _report(page_name: str, violations: list[dict]) -> str:
    return (
        page_name
        + ": "
        + "; ".join(
            f"{v['id']} ({v['impact']}, {len(v['nodes'])}x: {v['nodes'][0]['target']})"
            for v in violations
        )
    )


@pytest.fixture
def site(make_course, make_pending_course, users):
    approved = make_course(
        "Introduction to De-escalation (1 hour)",
        provider="provider-a",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
        description="Verbal de-escalation basics for patrol officers.",
    )
    make_course(
        "Missouri Legal Update", provider="provider-a", hours="2", areas={"legal-studies": 2}
    )
    pending = make_pending_course(users["providers"][0], "Defensive Tactics Refresher", hours="2")
    ids = {
        "approved": approved.id,
        "pending": pending.id,
        "provider": users["provider_a"].email,
        "provider_id": users["provider_a"].id,
        "admin": users["admin"].email,
    }
    db.session.remove()
    return ids


def test_pages_have_no_serious_accessibility_violations(
    page, live_server, axe, screenshot, site, password, tmp_path
):
    found = []

    def check(name: str) -> None:
        violations = axe(name)
        screenshot(name)
        if violations:
            found.append(_report(name, violations))

    page.goto(live_server + "/")
    check("start")
    page.goto(live_server + "/courses?topic=de-escalation")
    check("search")
    page.goto(live_server + f"/courses/{site['approved']}")
    check("course")

    _sign_in(page, live_server, site["provider"], password)
    page.goto(live_server + "/provider/catalogs/new")
    check("upload")
    upload = tmp_path / "catalog.csv"
    upload.write_text(CATALOG_CSV, encoding="utf-8")
    page.set_input_files('input[name="file"]', str(upload))
    page.click("form[enctype='multipart/form-data'] button[type='submit']")
    page.wait_for_url("**/provider/catalogs/*")
    check("preview")
    page.goto(live_server + "/provider/")
    check("provider-courses")
    page.goto(live_server + "/provider/format")
    check("provider-format")
    page.goto(live_server + "/provider/tokens")
    check("provider-tokens")
    page.goto(live_server + f"/provider/courses/{site['approved']}/edit")
    check("provider-course")
    page.click("form[action='/logout'] button")

    _sign_in(page, live_server, site["admin"], password)
    page.goto(live_server + "/review/")
    check("queue")
    page.goto(live_server + f"/review/{site['pending']}")
    check("review")
    page.goto(live_server + "/admin/")
    check("admin")
    page.goto(live_server + f"/admin/users/{site['provider_id']}")
    check("admin-user")
    page.goto(live_server + "/admin/abbreviations")
    check("admin-abbreviations")
    page.goto(live_server + "/admin/requirements/new")
    check("admin-requirement-set")

    assert not found, "\n".join(found)
