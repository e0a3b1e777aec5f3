"""Exports of the published list on both databases: contract columns first, names beside slugs,
typed XLSX cells, the formula guard only where a cell would run, `_col=`/`_nocol=` and every page
at once (`_stream=on`)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from catalog.extensions import db
from catalog.public.exports import would_run_as_formula

CONTRACT = ["id", "title", "provider", "hours", "delivery", "areas", "topics", "url"]
CONTRACT.append("approved_until")


@pytest.fixture
def courses(make_course):
    deesc = make_course(
        "Introduction to De-escalation",
        hours="1.5",
        delivery="online",
        areas={"skill-development": 1, "interpersonal-perspectives": "0.5"},
        topics=["de-escalation"],
        description="Talking people down.\nSecond line",
    )
    deesc.provider_code = "DE-101"
    dash = make_course("Use-of-force review", description="-5")
    bad = make_course('=HYPERLINK("http://x","y")', description="- a list item")
    db.session.commit()
    return {"deesc": deesc.id, "dash": dash.id, "bad": bad.id}


def read_csv(client, query: str = "") -> list[dict]:
    response = client.get(f"/courses.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_keeps_the_contract_header_first_and_adds_names_description_and_code(client, courses):
    response = client.get("/courses.csv")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[: len(CONTRACT)] == CONTRACT
    assert {"area_names", "topic_names", "description", "provider_code"} <= set(header)
    rows = {int(r["id"]): r for r in read_csv(client)}
    deesc = rows[courses["deesc"]]
    assert deesc["areas"] == "interpersonal-perspectives:0.5;skill-development:1"
    assert deesc["area_names"] == "Interpersonal Perspectives: 0.5 h; Skill Development: 1 h"
    assert deesc["topics"] == "de-escalation" and deesc["topic_names"] == "De-escalation"
    assert deesc["provider_code"] == "DE-101"
    assert deesc["description"] == "Talking people down.\nSecond line"
    assert deesc["hours"] == "1.5"


def test_the_guard_marks_only_cells_a_spreadsheet_would_run(client, courses):
    rows = {int(r["id"]): r for r in read_csv(client)}
    assert rows[courses["dash"]]["title"] == "Use-of-force review"
    assert rows[courses["dash"]]["description"] == "-5"  # a number, not a formula
    assert rows[courses["bad"]]["title"] == '\'=HYPERLINK("http://x","y")'
    assert rows[courses["bad"]]["description"] == "'- a list item"
    assert not any(v.startswith("'") for v in rows[courses["deesc"]].values())
    assert would_run_as_formula("@SUM(A1)") and would_run_as_formula("\tx")
    assert not would_run_as_formula("+1") and not would_run_as_formula("-0.25")


def test_xlsx_has_numbers_dates_and_no_visible_apostrophe(client, courses):
    sheet = load_workbook(io.BytesIO(client.get("/courses.xlsx").data)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header[: len(CONTRACT)] == CONTRACT
    by_id = {r[0].value: {h: c for h, c in zip(header, r, strict=True)} for r in rows[1:]}
    deesc = by_id[courses["deesc"]]
    assert deesc["hours"].value == 1.5 and deesc["hours"].data_type == "n"
    assert isinstance(deesc["approved_until"].value, dt.datetime)
    assert deesc["area_names"].value.startswith("Interpersonal Perspectives")
    assert deesc["provider_code"].value == "DE-101"
    bad = by_id[courses["bad"]]
    assert bad["title"].value == '=HYPERLINK("http://x","y")'  # as typed, but text
    assert bad["title"].data_type == "s" and bad["title"].quotePrefix
    assert not deesc["title"].quotePrefix
    assert by_id[courses["dash"]]["description"].value == "-5"


def test_col_and_nocol_choose_the_columns(client, courses):
    text = client.get("/courses.csv?_col=title&_col=hours").get_data(as_text=True)
    assert text.splitlines()[0] == "id,title,hours"
    text = client.get("/courses.csv?_col=hours,title").get_data(as_text=True)
    assert text.splitlines()[0] == "id,title,hours"  # the export's order, id always kept
    header = client.get("/courses.csv?_nocol=description").get_data(as_text=True).splitlines()[0]
    assert "description" not in header and header.startswith("id,title,provider")
    sheet = load_workbook(io.BytesIO(client.get("/courses.xlsx?_col=title").data)).active
    assert [c.value for c in next(sheet.iter_rows())] == ["id", "title"]
    data = client.get("/courses.json?_col=title&_col=topic_names").get_json()
    assert set(data["courses"][0]) == {"id", "title", "topic_names"}
    for url in ("/courses.csv?_col=bogus", "/courses.xlsx?_nocol=x", "/courses.json?_col=z"):
        response = client.get(url)
        assert response.status_code == 400
        assert "Unknown column" in response.get_data(as_text=True)


def test_json_keeps_the_contract_and_adds_names(client, courses):
    data = client.get("/courses.json?q=de-escalation").get_json()
    (course,) = data["courses"]
    assert course["areas"] == [
        {"slug": "interpersonal-perspectives", "hours": 0.5},
        {"slug": "skill-development", "hours": 1},
    ]
    assert course["area_names"] == ["Interpersonal Perspectives", "Skill Development"]
    assert course["topics"] == ["de-escalation"] and course["topic_names"] == ["De-escalation"]
    assert course["provider_code"] == "DE-101"
    assert course["description"].startswith("Talking")


def test_every_page_at_once(client, make_course, courses):
    for i in range(22):
        make_course(f"Roll Call {i:02d}")
    paged = client.get("/courses.json?_col=title").get_json()
    assert len(paged["courses"]) == 20 and paged["total"] == 25
    assert "_col=title" in paged["next"]
    response = client.get("/courses.json?_stream=on&_col=title&per_page=5&page=3")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.is_streamed
    data = response.get_json()
    assert data["total"] == 25 and data["next"] is None
    assert len(data["courses"]) == 25 and len({c["id"] for c in data["courses"]}) == 25
    assert set(data["courses"][0]) == {"id", "title"}
    empty = client.get("/courses.json?_stream=on&q=nothingmatchesthis").get_json()
    assert empty == {"courses": [], "total": 0, "page": 1, "pages": 1, "next": None}
    assert len(read_csv(client, "?per_page=5&page=2")) == 25  # CSV is never paged


def test_search_page_offers_all_pages_and_column_choice(client, make_course, courses):
    for i in range(22):
        make_course(f"Roll Call {i:02d}")
    html = client.get("/courses?per_page=20").get_data(as_text=True)
    assert "Take all 25 away (every page at once)" in html
    assert "_stream=on" in html
    assert 'name="_col" value="description"' in html
