"""Reading catalog files: encodings, delimiters, XLSX and JSON shapes, and every way a file is bad."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import Workbook

from catalog.services.errors import Invalid
from catalog.services.imports import columns, xlsx
from catalog.services.imports import files as cf


def read(data: bytes, name: str = "c.csv", max_rows: int = 100):
    return cf.read_table(data, name, max_rows=max_rows)


def xlsx_bytes(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbftitle,hours\r\nCaf\xc3\xa9 Law,1\r\n",  # UTF-8 with BOM, CRLF
        b"title;hours\nCaf\xc3\xa9 Law;1\n",  # UTF-8, semicolon
        b"title\thours\nCaf\xe9 Law\t1\n",  # Windows-1252, tab
    ],
)
def test_csv_encodings_and_delimiters(data):
    table = read(data)
    assert table.headers == ["title", "hours"]
    assert table.rows == [(2, ["Café Law", "1"])]


def test_csv_quoted_newlines_blank_lines_and_row_numbers():
    table = read(b'title,hours\n"Two\nlines",1\n\n,\nThird,2\n')
    assert [n for n, _ in table.rows] == [2, 5]


@pytest.mark.parametrize(
    ("data", "name", "fragment"),
    [
        (b"\x00\x01\x02binary", "c.csv", "binary"),
        (b"PK\x03\x04rest", "c.csv", "compressed"),
        (b"", "c.csv", "empty"),
        (b"title,hours\n", "c.exe", "not a catalog file"),
        (b"\x81\x8d\x8f\x90\x9d", "c.csv", "encoding"),
        (b"not a zip", "c.xlsx", "not a valid Excel"),
        (b"{broken", "c.json", "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, "c.json", "nested"),
        (b'{"items": []}', "c.json", "courses"),
        (b'{"courses": 3}', "c.json", "must be a list"),
        (b"[1, 2]", "c.json", "not an object"),
        (b'[{"title": "A", "hours": {"a": {"b": 1}}}]', "c.json", "must be text"),
    ],
)
def test_bad_files_give_clear_errors(data, name, fragment):
    with pytest.raises(Invalid) as info:
        read(data, name)
    assert fragment in info.value.message
    assert info.value.details and info.value.details[0]["field"] == "file"


def test_too_many_rows_is_refused():
    data = b"title,hours\n" + b"A,1\n" * 11
    with pytest.raises(Invalid, match="more than 10"):
        read(data, max_rows=10)
    assert len(read(data, max_rows=11).rows) == 11


def test_xlsx_first_sheet_numbers_and_blank_rows():
    data = xlsx_bytes(
        [
            ["Course Title", "Credit Hours", "Code"],
            ["Legal Update", 2.0, 123],
            [None, None, None],
            ["Rifle", 1.25, "R-1"],
        ]
    )
    table = read(data, "c.xlsx")
    assert table.file_format == "xlsx"
    assert table.headers == ["Course Title", "Credit Hours", "Code"]
    assert table.rows == [(2, ["Legal Update", "2", "123"]), (4, ["Rifle", "1.25", "R-1"])]


def test_xlsx_zip_bomb_and_broken_workbook(monkeypatch):
    monkeypatch.setattr(xlsx, "XLSX_MAX_INFLATED", 1000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"0" * 5000)
    with pytest.raises(Invalid, match="unpacks to more than"):
        read(buf.getvalue(), "c.xlsx")
    monkeypatch.undo()
    # a valid zip that is not a workbook (openpyxl KeyError / InvalidFileException)
    with pytest.raises(Invalid, match="could not be read"):
        read(buf.getvalue(), "c.xlsx")


def test_json_list_and_object_shapes():
    items = [
        {
            "title": "A",
            "hours": 1,
            "topics": ["de-escalation"],
            "area_hours": {"skill-development": 1},
        },
        {"title": "B", "hours": 2.5, "code": "X"},
    ]
    for payload in (items, {"courses": items}):
        table = read(json.dumps(payload).encode(), "c.json")
        assert table.headers == ["title", "hours", "topics", "area_hours", "code"]
        assert table.rows[0] == (1, ["A", "1", "de-escalation", "skill-development:1", ""])
        assert table.rows[1][1][1] == "2.5"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Course Title", "title"),
        ("Course Name", "title"),
        ("Length (hrs)", "hours"),
        ("Credit Hours", "hours"),
        ("Course #", "provider_code"),
        ("SKU", "provider_code"),
        ("Delivery Method", "delivery"),
        ("Format", "delivery"),
        ("area_hours", "area_hours"),
    ],
)
def test_loose_header_matching(header, field):
    assert columns.guess_column_map(["x", header]) == {field: 1}


def test_missing_required_columns():
    assert columns.missing_required(columns.guess_column_map(["Name of class", "Hours"])) == [
        "title"
    ]
