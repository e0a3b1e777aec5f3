"""The mission in a real browser: a provider uploads a catalog with "Introduction to De-escalation
(1 hour)", staff approve it, and a visitor finds it through the finder and the facets and downloads
the CSV. Screenshots of each step go to test-output/screenshots/<test name>/."""

from __future__ import annotations

import csv
import io

TITLE = "Introduction to De-escalation (1 hour)"
CATALOG_CSV = (
    "title,hours,delivery,description,area_hours,topics\n"
    f'"{TITLE}",1,online,"Verbal de-escalation basics for patrol officers.",'
    "skill-development:1,de-escalation\n"
    '"Missouri Legal Update",2,in-person,"Case law of the year.",legal-studies:2,\n'
)


def visitor_finds_and_downloads(page, live_server, screenshot, tmp_path) -> None:
    """From the start page: finder card -> list; /courses facets; CSV download containing it."""
    page.goto(live_server + "/")
    screenshot("start-page-finder")
    page.click('a[data-requirement="de-escalation"]')
    page.wait_for_url("**/courses?**topic=de-escalation**")
    assert page.locator(".course-item h3").first.inner_text() == TITLE  # one-hour first
    assert page.locator(".requirement-banner").is_visible()
    assert page.locator(".course-item .chip.online").first.is_visible()
    screenshot("finder-result-de-escalation")

    page.goto(live_server + "/courses")
    page.click('[data-facet="topic"] a[data-value="de-escalation"]')
    page.wait_for_url("**topic=de-escalation**")
    page.click('[data-facet="delivery"] a[data-value="online"]')
    page.wait_for_url("**delivery=online**")
    assert page.locator(".course-item").count() == 1
    assert TITLE in page.locator(".course-item h3").inner_text()
    screenshot("facets-topic-and-delivery")

    with page.expect_download() as info:
        page.click(".downloads a:text('CSV')")
    download = info.value
    path = tmp_path / "courses.csv"
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["title"] for r in rows] == [TITLE]
    assert rows[0]["topics"] == "de-escalation" and rows[0]["hours"] == "1"

    page.goto(live_server + "/courses?q=deescalation")
    assert page.locator(".course-item mark").first.is_visible()
    page.locator(".course-item h3 a", has_text="Introduction to").click()
    assert page.locator("h1").inner_text() == TITLE
    screenshot("course-page")


def test_public_visitor_flow(page, live_server, screenshot, tmp_path, make_course):
    """The visitor half on a course approved directly in the database."""
    make_course(
        TITLE,
        provider="virtual-academy",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
        description="Verbal de-escalation basics for patrol officers.",
    )
    make_course(
        "De-escalation and Crisis Intervention",
        hours="4",
        areas={"skill-development": 4},
        topics=["de-escalation"],
    )
    make_course("Missouri Legal Update", hours="2", areas={"legal-studies": 2})
    visitor_finds_and_downloads(page, live_server, screenshot, tmp_path)


def test_public_mission(
    page, live_server, screenshot, tmp_path, taxonomy, make_provider, make_user, password
):
    provider = make_provider("virtual-academy", "Virtual Academy")
    provider_user = make_user("upload@test.example", "provider", provider)
    staff_user = make_user("staff@test.example", "staff")

    def sign_in(user) -> None:
        page.goto(live_server + "/login")
        page.fill('input[name="email"]', user.email)
        page.fill('input[name="password"]', password)
        page.click("main form button[type='submit']")

    sign_in(provider_user)
    page.goto(live_server + "/provider/catalogs/new")
    upload = tmp_path / "catalog.csv"
    upload.write_text(CATALOG_CSV, encoding="utf-8")
    page.set_input_files('input[name="file"]', str(upload))
    screenshot("provider-upload")
    page.click("form[enctype='multipart/form-data'] button[type='submit']")
    page.wait_for_url("**/provider/catalogs/*")
    row = page.locator("tr", has_text=TITLE)
    assert "De-escalation" in row.inner_text()  # the suggestion is visible before submitting
    screenshot("provider-preview")
    page.click("form[action$='/confirm'] button[type='submit']")
    assert "Imported: 2 new" in page.locator(".flash, .flashes, [role='status']").first.inner_text()
    screenshot("provider-confirmed")
    page.click("form[action='/logout'] button")

    sign_in(staff_user)
    page.goto(live_server + "/review")
    page.click(f"a:text('{TITLE}')")
    page.wait_for_url("**/review/*")
    screenshot("staff-review")
    page.click("form.action-approve button[type='submit']")
    assert "approved" in page.locator("body").inner_text().lower()
    screenshot("staff-approved")
    page.click("form[action='/logout'] button")

    visitor_finds_and_downloads(page, live_server, screenshot, tmp_path)
