"""The compliance planner in a real browser: from the start page to /plan, rows typed and a
course added by search, status bars and the smallest plan, a match corrected, online-only
delivery explained, the CSV download, and (signed in) a roster with its chart and XLSX.
Screenshots go to test-output/screenshots/test_plan_flow/."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook

DAY = f"{dt.date.today().year}-02-10"


def _catalog(make_course):
    c = {}
    c["legal"] = make_course("Missouri Legal Update", hours="4", areas={"legal-studies": 4})
    c["tech"] = make_course("Traffic Stop Procedures", hours="4", areas={"technical-studies": 4})
    c["ethics"] = make_course(
        "Ethics and Professional Conduct", hours="2", areas={"interpersonal-perspectives": 2}
    )
    c["rp"] = make_course(
        "Racial Profiling Awareness",
        hours="1",
        delivery="online",
        areas={"interpersonal-perspectives": 1},
        topics=["racial-profiling"],
    )
    c["de"] = make_course(
        "Introduction to De-escalation",
        hours="1",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
    )
    c["report"] = make_course("Report Writing", hours="8", areas={"technical-studies": 8})
    c["ib"] = make_course(
        "Implicit Bias for Law Enforcement",
        hours="1",
        delivery="online",
        areas={"interpersonal-perspectives": 1},
        topics=["implicit-bias"],
        provider="virtual-academy",
    )
    c["fire"] = make_course(
        "Handgun Skills Live Fire",
        hours="3",
        delivery="in-person",
        areas={"skill-development": 3},
        topics=["firearms"],
    )
    return c


def _row(page, n, title="", hours="", date=DAY):
    page.fill(f'input[name="records-{n}-title"]', title)
    page.fill(f'input[name="records-{n}-hours"]', hours)
    page.fill(f'input[name="records-{n}-date"]', date)


def test_plan_flow(page, live_server, screenshot, axe, tmp_path, make_course, users, password):
    c = _catalog(make_course)
    page.goto(live_server + "/")
    page.click("a[href='/plan']")
    page.wait_for_url("**/plan")
    assert page.locator("h1").inner_text() == "Compliance planner"
    screenshot("plan-empty")
    assert axe("plan-empty") == []

    # Four rows typed (one of them only roughly like the approved title) ...
    _row(page, 0, "Missouri Legal Update", "4")
    _row(page, 1, "traffic stop procedures", "4")
    _row(page, 2, "Ethics & professional conduct class", "2")
    _row(page, 3, "Report Writing", "8")
    # ... and two approved courses picked by search.
    page.fill('input[name="q"]', "racial profiling")
    page.click("button[value='search']")
    page.click(f"button[value='add-{c['rp'].id}']")
    page.fill('input[name="q"]', "de-escalation")
    page.click("button[value='search']")
    page.click(f"button[value='add-{c['de'].id}']")
    assert page.locator(f"option[value='{c['de'].id}'][selected]").count() == 1
    page.click("button[value='plan']")
    page.wait_for_selector(".plan-result")
    status = page.locator(".status-lines").inner_text()
    assert "1 more hour of implicit bias" in status
    assert "2 more hours of firearms" in status
    assert page.locator(".plan-bars rect.bar-met").count() >= 5
    planned = page.locator(".plan-course a").all_inner_texts()
    assert "Implicit Bias for Law Enforcement" in planned and "Handgun Skills Live Fire" in planned
    assert page.locator(".plan-hours").inner_text() == "4"
    screenshot("status-bars-and-plan")
    assert axe("plan-result") == []

    # The rough title: the user corrects its match to the approved ethics course.
    row = page.locator("tr.record-row[data-row='3']")
    if "not an approved course" in row.inner_text():
        row.locator("select").select_option(str(c["ethics"].id))
        page.click("button[value='plan']")
        page.wait_for_selector(".plan-result")
    row = page.locator("tr.record-row[data-row='3']")
    assert "Ethics and Professional Conduct" in row.inner_text()
    screenshot("match-corrected")

    # Online only: no live firearms course can be planned, and the page says so.
    page.check("input[name='delivery'][value='online']")
    page.click("button[value='plan']")
    page.wait_for_selector(".unmet")
    assert "no live firearms course" in page.locator(".unmet").inner_text()
    assert "allow in person" in page.locator(".unmet").inner_text()
    screenshot("online-only-unmet")

    with page.expect_download() as info:
        page.click("button[value='csv']")
    path = tmp_path / "plan.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert any(r["section"] == "unmet" and r["category"] == "firearms" for r in rows)
    assert any(r["section"] == "plan" and "Implicit Bias" in r["title"] for r in rows)

    # Signed in: a roster, its chart of officers missing each requirement, and the XLSX.
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', users["staff"].email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Officer,Course Title,Date,Hours,Delivery\n"
        f"7-101,Missouri Legal Update,{DAY},4,in-person\n"
        f"7-101,Handgun Skills Live Fire,{DAY},3,in-person\n"
        f"7-102,Implicit Bias for Law Enforcement,{DAY},1,online\n"
        f"7-103,Handgun Skills Live Fire,{DAY},3,online\n",
        encoding="utf-8",
    )
    page.goto(live_server + "/plan")
    page.set_input_files("input[name='file']", str(roster))
    page.click(".roster button[type='submit']")
    page.wait_for_selector(".missing-chart")
    assert "0 of 3 officers compliant" in page.locator(".roster h3").inner_text()
    assert page.locator(".roster-table tbody tr").count() == 3
    screenshot("roster-chart")
    assert axe("plan-roster") == []
    page.set_input_files("input[name='file']", str(roster))
    page.select_option("select[name='output']", "xlsx")
    with page.expect_download() as info:
        page.click(".roster button[type='submit']")
    path = tmp_path / "roster.xlsx"
    info.value.save_as(path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Summary", "Detail"]
    assert [r[0].value for r in workbook["Summary"].iter_rows(min_row=2)] == [
        "7-101",
        "7-102",
        "7-103",
    ]
