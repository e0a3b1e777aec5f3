"""Provider workflows in a real browser (issue 15 items 1, 3 and 4): seeing POST's decisions,
catalog templates and the format page, re-uploads with nothing new, https-only web addresses,
withdrawing a pending course and making one's own API token."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import ApiToken, Course
from catalog.services.reviewing import decisions as reviewing

UNTIL = dt.date.today() + dt.timedelta(days=200)


def _sign_in(page, live_server, email, password):
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()


def test_provider_sees_every_decision(
    page, live_server, screenshot, users, make_pending_course, password, tmp_path
):
    provider = users["providers"][0]
    staff = users["staff"]
    overridden = make_pending_course(provider, "Verbal Judo", hours="2")
    rejected = make_pending_course(provider, "Team Building Lunch", hours="1")
    reviewing.decide(
        db.session,
        overridden,
        "override",
        overridden.version,
        staff,
        areas={"interpersonal-perspectives": Decimal("1.5"), "skill-development": Decimal("0.5")},
        topics=["de-escalation"],
        note="Communication with a hands-on part",
        approved_until=UNTIL,
        control_number="MO-2026-0042",
    )
    reviewing.decide(
        db.session,
        rejected,
        "reject",
        rejected.version,
        staff,
        note="Not law-enforcement training: no learning objectives.",
    )
    db.session.commit()
    ids = (overridden.id, rejected.id)
    email = users["provider_a"].email
    db.session.remove()

    _sign_in(page, live_server, email, password)
    page.goto(live_server + "/provider/")
    row = page.locator(f"table.courses tr[data-course-id='{ids[0]}']")
    expect(row).to_contain_text("Approved with changes by POST staff")
    expect(row).to_contain_text("Interpersonal Perspectives 1.5 h")
    expect(row).to_contain_text("De-escalation")
    expect(row).to_contain_text(UNTIL.isoformat())
    expect(row).to_contain_text("MO-2026-0042")
    other = page.locator(f"table.courses tr[data-course-id='{ids[1]}']")
    expect(other).to_contain_text("Not law-enforcement training: no learning objectives.")
    screenshot("provider-course-list-decisions")

    row.get_by_role("link").click()
    decision = page.locator("section.decision")
    expect(decision).to_contain_text("Approved with changes by POST staff")
    expect(decision.locator(".decided-areas")).to_contain_text("Skill Development 0.5 h")
    expect(decision.locator(".decided-topics")).to_contain_text("De-escalation")
    expect(decision.locator(".approved-until")).to_have_text(UNTIL.isoformat())
    expect(decision.locator(".control-number")).to_have_text("MO-2026-0042")
    expect(decision).to_contain_text("POST staff set this split themselves")
    expect(decision).to_contain_text("Communication with a hands-on part")
    screenshot("provider-course-page-decision")

    page.goto(live_server + f"/provider/courses/{ids[1]}/edit")
    expect(page.locator("section.decision .reason")).to_have_text(
        "Not law-enforcement training: no learning objectives."
    )
    screenshot("provider-course-page-rejected")

    page.goto(live_server + "/provider/")
    with page.expect_download() as info:
        page.get_by_role(
            "link", name="Download all your courses with POST's decisions (CSV)"
        ).click()
    path = tmp_path / "mine.csv"
    info.value.save_as(path)
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(path.read_text("utf-8-sig")))}
    assert set(rows) == {"Verbal Judo", "Team Building Lunch"}  # never another provider's
    judo = rows["Verbal Judo"]
    assert judo["decision"] == "Approved with changes by POST staff"
    assert judo["areas"] == "interpersonal-perspectives:1.5;skill-development:0.5"
    assert judo["topics"] == "de-escalation"
    assert (judo["approved_until"], judo["control_number"]) == (UNTIL.isoformat(), "MO-2026-0042")
    assert rows["Team Building Lunch"]["reason"].startswith("Not law-enforcement training")
    assert rows["Team Building Lunch"]["status"] == "rejected"


def test_templates_and_format_page(
    page, live_server, screenshot, taxonomy, users, password, tmp_path
):
    email = users["provider_a"].email
    db.session.remove()
    _sign_in(page, live_server, email, password)
    page.goto(live_server + "/provider/catalogs/new")
    screenshot("upload-page-template-links")
    page.get_by_role("link", name="The whole format, JSON too").click()
    expect(page.locator("h1")).to_have_text("Catalog format")
    example = json.loads(page.locator("pre.json-example").inner_text())
    assert example["courses"][0]["title"] and example["courses"][0]["hours"] == 1
    expect(page.locator("table.fields")).to_contain_text("area_hours")
    screenshot("format-page")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the Excel template").click()
    xlsx = tmp_path / "template.xlsx"
    info.value.save_as(xlsx)
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames[0] == "Courses"
    header = next(book["Courses"].iter_rows(values_only=True))
    assert header[:3] == ("provider_code", "title", "hours")
    book.close()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the CSV template").click()
    csv_path = tmp_path / "template.csv"
    info.value.save_as(csv_path)

    # the template uploads as it is: its example row previews with no error
    page.goto(live_server + "/provider/catalogs/new")
    page.set_input_files('input[name="file"]', str(xlsx))
    page.click("form[enctype='multipart/form-data'] button[type='submit']")
    page.wait_for_url("**/provider/catalogs/*")
    expect(page.locator("table.preview tbody tr")).to_have_count(1)
    expect(page.locator("table.preview tr.row-error")).to_have_count(0)

    # JSON rows are numbered as the user counts them: the 2nd course is row 2
    bad = tmp_path / "catalog.json"
    bad.write_text(json.dumps([{"title": "Good", "hours": 1}, {"title": "", "hours": 1}]))
    page.goto(live_server + "/provider/catalogs/new")
    page.set_input_files('input[name="file"]', str(bad))
    page.click("form[enctype='multipart/form-data'] button[type='submit']")
    page.wait_for_url("**/provider/catalogs/*")
    expect(page.locator("tr.row-error td").nth(1)).to_have_text("2")
    screenshot("json-preview-numbered-from-1")


def test_unchanged_reupload_and_https_only(
    page, live_server, screenshot, taxonomy, users, password, tmp_path
):
    email = users["provider_a"].email
    db.session.remove()
    _sign_in(page, live_server, email, password)
    upload = tmp_path / "catalog.csv"
    upload.write_text(
        "title,hours,url\nMissouri Legal Update,2,https://example.org/legal\n"
        "Crash Investigation Basics,3,\n",
        encoding="utf-8",
    )

    def send(path):
        page.goto(live_server + "/provider/catalogs/new")
        page.set_input_files('input[name="file"]', str(path))
        page.click("form[enctype='multipart/form-data'] button[type='submit']")
        page.wait_for_url("**/provider/catalogs/*")

    send(upload)
    page.get_by_role("button", name="Confirm and submit 2 course(s)").click()
    expect(page.locator(".flash-success")).to_contain_text("Imported: 2 new")

    send(upload)  # the same file again: nothing to submit
    expect(page.locator(".nothing-to-submit")).to_contain_text("Nothing to submit")
    expect(page.get_by_role("button", name="Confirm and submit", exact=False)).to_have_count(0)
    screenshot("reupload-nothing-to-submit")
    page.get_by_role("button", name="Close this upload").click()
    expect(page.locator(".flash")).to_contain_text("nothing was imported")

    plain = tmp_path / "plain.csv"
    plain.write_text("title,hours,url\nMissouri Legal Update,2,http://example.org/legal\n")
    send(plain)
    error = page.locator("tr.row-error")
    expect(error).to_contain_text("https://")
    expect(page.locator("form[action$='/confirm'] button")).to_be_disabled()
    screenshot("http-url-refused")


def test_withdraw_pending_course_and_own_api_token(
    page, live_server, screenshot, users, make_pending_course, password
):
    course = make_pending_course(users["providers"][0], "Defensive Tactics Refresher", hours="2")
    course_id, email = course.id, users["provider_a"].email
    db.session.remove()
    _sign_in(page, live_server, email, password)
    page.goto(live_server + f"/provider/courses/{course_id}/edit")
    page.get_by_role("button", name="Withdraw from review").click()
    expect(page.locator(".flash-success")).to_contain_text("was withdrawn")
    expect(page.locator("section.decision")).to_contain_text("Withdrawn by you")
    screenshot("course-withdrawn")
    assert db.session.get(Course, course_id).status == "withdrawn"
    db.session.remove()

    page.goto(live_server + "/provider/tokens")
    page.fill("input[name=name]", "our LMS")
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("code.token").inner_text()
    assert token.startswith("pc_")
    screenshot("provider-token-created")
    page.reload()  # post/redirect/get: no second token, and the token is not shown again
    expect(page.locator("code.token")).to_have_count(0)
    expect(page.locator("table.tokens tbody tr")).to_have_count(1)
    answer = page.request.get(
        live_server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200
    page.get_by_role("button", name="Revoke token our LMS", exact=False).click()
    expect(page.locator("table.tokens")).to_contain_text("revoked")
    answer = page.request.get(
        live_server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 401
    rows = db.session.scalars(select(ApiToken)).all()
    assert len(rows) == 1 and rows[0].revoked_at is not None
    screenshot("provider-token-revoked")
