"""A visitor takes the whole list away from the search page: CSV with names beside slugs, an Excel
sheet with numeric hours and no visible apostrophe, JSON of every page at once, and a CSV with only
the columns chosen (Datasette's `_col=`)."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from catalog.extensions import db

FORMULA = '=HYPERLINK("http://x","click")'


def download(page, selector: str, tmp_path, name: str):
    with page.expect_download() as info:
        page.click(selector)
    path = tmp_path / name
    info.value.save_as(path)
    return path


def test_exports_from_the_search_page(page, live_server, screenshot, tmp_path, make_course):
    for i in range(22):
        make_course(f"Roll Call Training {i:02d}", hours="0.5")
    coded = make_course(
        "Introduction to De-escalation",
        hours="1.5",
        areas={"skill-development": 1, "interpersonal-perspectives": "0.5"},
        topics=["de-escalation"],
        description="Talking people down.",
    )
    coded.provider_code = "DE-101"
    make_course(FORMULA, description="-5")
    db.session.commit()
    db.session.remove()

    page.goto(live_server + "/courses")
    downloads = page.locator(".downloads")
    assert "Take all 24 away (every page at once)" in downloads.inner_text()
    screenshot("search-page-downloads")

    rows = list(
        csv.DictReader(
            io.StringIO(
                download(page, ".downloads a:text('CSV')", tmp_path, "all.csv").read_text("utf-8")
            )
        )
    )
    assert len(rows) == 24  # every page, not the 20 shown
    deesc = next(r for r in rows if r["title"] == "Introduction to De-escalation")
    assert deesc["area_names"] == "Interpersonal Perspectives: 0.5 h; Skill Development: 1 h"
    assert deesc["topic_names"] == "De-escalation" and deesc["provider_code"] == "DE-101"
    assert deesc["description"] == "Talking people down."
    assert next(r for r in rows if r["title"] == "'" + FORMULA)["description"] == "-5"

    sheet = load_workbook(download(page, ".downloads a:text('Excel')", tmp_path, "all.xlsx")).active
    header = [c.value for c in next(sheet.iter_rows())]
    cells = {r[1].value: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    assert len(cells) == 24
    assert cells["Introduction to De-escalation"]["hours"].value == 1.5
    assert cells[FORMULA]["title"].data_type == "s"  # shown as typed, never run

    page.goto(live_server + page.locator(".downloads a.json-all").get_attribute("href"))
    data = json.loads(page.locator("body").inner_text())
    assert data["total"] == 24 and len(data["courses"]) == 24 and data["next"] is None

    page.goto(live_server + "/courses")
    page.click(".choose-columns summary")
    for box in page.locator(".choose-columns input[name=_col]").all():
        if box.get_attribute("value") not in ("title", "hours", "area_names"):
            box.uncheck()
    screenshot("choose-columns")
    path = download(page, ".choose-columns button:text('Download CSV')", tmp_path, "some.csv")
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == "id,title,hours,area_names" and len(lines) == 25
