"""Issue 14 class 2: one input-cleaning rule for every way text enters, and the formula guard on
what is finally written.

A title typed into the course form as "\\x01=HYPERLINK(...)" passed the formula guard (it did not
start with "="), then the XLSX writer stripped the control character and stored a live formula;
the same characters made the Atom feed invalid XML, and a NUL in a form field was a 500 on
PostgreSQL. Forms, query strings, JSON bodies and uploads now all meet `clean_text`, and the
exports apply the guard to the exact value they write.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Course, Provider
from catalog.services.accounts import issue_token
from catalog.services.cleaning import clean_text, spreadsheet_cell

FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE = ["\x01" + FORMULA, "\x00" + FORMULA, "\x1f\x7f" + FORMULA, "\x85" + FORMULA]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_guard_sees_what_is_written(value):
    assert spreadsheet_cell(value) == "'" + FORMULA
    assert clean_text(value) == FORMULA


def test_the_rule_keeps_tabs_and_line_breaks_and_drops_surrogates():
    assert clean_text("a\tb\nc\r\n") == "a\tb\nc\r\n"
    assert clean_text("a\ud800b\ufffe") == "ab"


@pytest.fixture
def provider_login(taxonomy, users, login):
    login(users["provider_a"])
    return users["providers"][0]


@pytest.mark.parametrize("prefix", ["\x01", "\x00", "\x0b"])
def test_course_form_cleans_what_is_typed(client, provider_login, prefix):
    response = client.post(
        "/provider/courses/new",
        data={
            "title": prefix + "Firearms Qualification\x00",
            "hours": "2",
            "delivery": "in-person",
            "description": "Range\x00 day\x07",
            "area__skill-development": "2",
        },
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    course = db.session.scalar(select(Course))
    assert course is not None
    assert course.title == "Firearms Qualification"
    assert course.description == "Range day"


def test_nul_in_query_arguments_is_no_server_error(client, taxonomy):
    for path in ("/courses?q=fire%00arms", "/courses.json?q=%00", "/courses.atom?q=%01x"):
        response = client.get(path)
        assert response.status_code < 500, path


def test_nul_in_the_login_form_is_no_server_error(client, users):
    response = client.post("/login", data={"email": "a\x00@test.example", "password": "x\x00"})
    assert response.status_code == 401


def test_api_json_bodies_are_cleaned(client, taxonomy, users):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    body = {"courses": [{"title": "\x01" + FORMULA + "\x00", "hours": 1, "description": "\x00"}]}
    response = client.post(
        "/api/v1/catalogs", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(Course.title)) == FORMULA


def test_admin_forms_are_cleaned(client, users, login):
    login(users["admin"])
    response = client.post(
        "/admin/providers/new",
        data={"slug": "nul-academy", "name": "Nul\x00 Academy\x01", "kind": "academy"},
    )
    assert response.status_code < 500
    provider = db.session.scalar(select(Provider).where(Provider.slug == "nul-academy"))
    assert provider is not None and provider.name == "Nul Academy"


def test_exports_of_older_rows_with_control_characters(client, make_course):
    """Rows stored before the rule (or by a direct database write) are still written safely."""
    make_course("\x01" + FORMULA, provider="old-academy")
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(client.get("/courses.xlsx").data))
    cell = workbook.active["B2"]
    assert cell.data_type == "s" and cell.value == FORMULA and cell.quotePrefix
    rows = list(csv.reader(io.StringIO(client.get("/courses.csv").get_data(as_text=True))))
    assert rows[1][1] == "'" + FORMULA
    feed = client.get("/courses.atom")
    assert feed.status_code == 200
    root = ET.fromstring(feed.data)  # valid XML
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert FORMULA in titles
