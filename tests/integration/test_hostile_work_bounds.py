"""Issue 14 class 1: the work of reading an upload is bounded by what the file really holds.

A 5 KB XLSX whose used range claims the whole sheet (a cell in column XFD, one in the last row,
the `dimension` tag saying A1:XFD1048576) made openpyxl's row iterator walk ~1.7e10 empty
cells; a CSV header of 200,000 columns made a 73 MB column-mapping page. The parser's work is
counted here (cells turned into text), not timed: on the old reader the counter trips at once.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import CatalogSubmission, Course
from catalog.services.accounts import issue_token
from catalog.services.errors import Invalid
from catalog.services.imports import xlsx as xlsx_reader
from catalog.services.imports.files import MAX_COLUMNS, read_table

SHEET = "xl/worksheets/sheet1.xml"
WORK_LIMIT = 100_000  # cells turned into text; a 2-row catalog needs a handful


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_sheet_xml(data: bytes, transform) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == SHEET:
                body = transform(body.decode()).encode()
            target.writestr(info.filename, body)
    return out.getvalue()


def whole_sheet_claim(extra_cells: str = '<c r="XFD1"/>') -> bytes:
    """A real 2-row catalog whose used range claims every cell of the sheet."""

    def transform(xml: str) -> str:
        xml = xml.replace('<dimension ref="A1:B2" />', '<dimension ref="A1:XFD1048576" />')
        xml = xml.replace("</c></row>", "</c>" + extra_cells + "</row>", 1)
        return xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"/></row></sheetData>')

    return with_sheet_xml(xlsx([["title", "hours"], ["Firearms Qualification", 2]]), transform)


def many_empty_cells(count: int) -> bytes:
    cells = "".join(f'<c r="C{n}"/>' for n in range(3, 3 + count))
    rows = "".join(f'<row r="{n}"><c r="A{n}"/></row>' for n in range(3, 3 + count))
    return with_sheet_xml(
        xlsx([["title", "hours"], ["Firearms Qualification", 2]]),
        lambda xml: xml.replace(
            "</sheetData>", rows + cells.join(["<row r='99999'>", "</row>"]) + "</sheetData>"
        ),
    )


@pytest.fixture
def counted_work(monkeypatch):
    """Count the cells the reader turns into text; fail fast past WORK_LIMIT."""
    calls = {"n": 0}
    real = xlsx_reader._cell_text

    def counting(value):
        calls["n"] += 1
        if calls["n"] > WORK_LIMIT:
            raise AssertionError(f"the reader walked more than {WORK_LIMIT:,} cells")
        return real(value)

    monkeypatch.setattr(xlsx_reader, "_cell_text", counting)
    return calls


def test_a_sheet_claiming_every_cell_is_read_by_what_it_holds(counted_work):
    table = read_table(whole_sheet_claim(), "catalog.xlsx", max_rows=50_000)
    assert table.headers == ["title", "hours"]
    assert table.rows == [(2, ["Firearms Qualification", "2"])]
    assert counted_work["n"] < 20


def test_data_far_right_is_refused_by_column_not_walked(counted_work):
    hostile = whole_sheet_claim('<c r="XFD1" t="inlineStr"><is><t>x</t></is></c>')
    with pytest.raises(Invalid) as refused:
        read_table(hostile, "catalog.xlsx", max_rows=50_000)
    assert "column XFD" in refused.value.message
    assert f"at most {MAX_COLUMNS} columns" in refused.value.message


def test_millions_of_empty_cell_elements_stop_at_the_cell_budget(counted_work):
    # every element is read, data or not: past the budget the upload is refused
    hostile = many_empty_cells(60_000)
    with pytest.raises(Invalid) as refused:
        read_table(hostile, "catalog.xlsx", max_rows=100)
    assert "far more" in refused.value.message


def test_shared_strings_by_the_million_are_counted_before_loading():
    strings = "<si><t/></si>" * 300_000
    data = xlsx([["title", "hours"], ["Firearms Qualification", 2]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + strings
            + "</sst>",
        )
    with pytest.raises(Invalid) as refused:
        read_table(out.getvalue(), "catalog.xlsx", max_rows=100)
    assert "different texts" in refused.value.message


def test_a_csv_header_of_200000_columns_is_refused_with_a_short_answer():
    header = ",".join(f"c{n}" for n in range(200_000))
    with pytest.raises(Invalid) as refused:
        read_table(f"title,hours,{header}\nA,1\n".encode(), "catalog.csv", max_rows=100)
    assert f"at most {MAX_COLUMNS} columns" in refused.value.message


def test_trailing_empty_columns_are_not_columns():
    table = read_table(
        b"title,hours" + b"," * 5000 + b"\nA,1" + b"," * 5000 + b"\n", "c.csv", max_rows=9
    )
    assert table.headers == ["title", "hours"] and table.rows == [(2, ["A", "1"])]


def test_a_header_of_book_length_is_refused():
    with pytest.raises(Invalid) as refused:
        read_table(b"title,hours," + b"x" * 100_000 + b"\nA,1,b\n", "c.csv", max_rows=9)
    assert "column 3" in refused.value.message


def test_json_with_thousands_of_field_names_is_refused():
    import json

    items = [{f"f{n}": "x" for n in range(5000)} | {"title": "A", "hours": 1}]
    with pytest.raises(Invalid):
        read_table(json.dumps(items).encode(), "c.json", max_rows=9)


# -- through the pages and the API, on both databases ------------------------------------------


@pytest.fixture
def provider_client(client, taxonomy, users, login):
    login(users["provider_a"])
    return client


def test_hostile_xlsx_upload_on_the_page_previews_the_real_rows(provider_client, counted_work):
    response = provider_client.post(
        "/provider/catalogs/new",
        data={"file": (io.BytesIO(whole_sheet_claim()), "catalog.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db.session.scalar(select(func.count(CatalogSubmission.id))) == 1
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_hostile_csv_header_on_the_page_is_a_short_422(provider_client):
    # 200,000 one-letter columns: under the test client's 500 kB spool-to-disk threshold
    header = ",".join("c" for n in range(200_000))
    response = provider_client.post(
        "/provider/catalogs/new",
        data={"file": (io.BytesIO(f"{header}\nA,1\n".encode()), "catalog.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert len(response.get_data()) < 100_000
    assert f"at most {MAX_COLUMNS} columns" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CatalogSubmission.id))) == 0


def test_hostile_xlsx_through_the_api_dry_run(client, taxonomy, users, counted_work):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    hostile = whole_sheet_claim('<c r="XFD1" t="inlineStr"><is><t>x</t></is></c>')
    response = client.post(
        "/api/v1/catalogs?dry_run=1",
        data={"file": (io.BytesIO(hostile), "catalog.xlsx")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "column XFD" in response.get_json()["error"]
    assert db.session.scalar(select(func.count(Course.id))) == 0
