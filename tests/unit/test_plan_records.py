"""Reading training records: loose headers, dates, hours, and row-numbered problems."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.services.errors import Invalid
from catalog.services.imports.files import Table
from catalog.services.planning.records import column_map, officers_from_table, parse_date


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-01", dt.date(2026, 3, 1)),
        ("3/1/2026", dt.date(2026, 3, 1)),
        ("03/01/26", dt.date(2026, 3, 1)),
        ("Mar 1, 2026", dt.date(2026, 3, 1)),
        ("2026-03-01T00:00:00", dt.date(2026, 3, 1)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "1/1/1850", ""])
def test_bad_dates(text):
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


def test_loose_headers():
    headers = [
        "Officer Name",
        "Course Title",
        "Date Completed",
        "CLEE Hours",
        "Provider",
        "POST Control #",
        "Format",
    ]
    assert column_map(headers) == {
        "officer": 0,
        "title": 1,
        "date": 2,
        "hours": 3,
        "provider": 4,
        "control_number": 5,
        "delivery": 6,
    }


def test_roster_groups_records_by_officer_and_names_bad_rows():
    table = Table(
        "csv",
        ["Badge", "Course", "Hours"],
        [(2, ["1", "Legal", "2"]), (3, ["2", "Ethics", "1"]), (4, ["1", "Range", "4"])],
    )
    officers = officers_from_table(table, roster=True, max_officers=10, max_records=10)
    assert [(o.id, [r.title for r in o.records]) for o in officers] == [
        ("1", ["Legal", "Range"]),
        ("2", ["Ethics"]),
    ]
    bad = Table("csv", ["Badge", "Course", "Hours"], [(2, ["1", "A", "-1"]), (5, ["", "B", "1"])])
    with pytest.raises(Invalid) as info:
        officers_from_table(bad, roster=True, max_officers=10, max_records=10)
    assert [(d["row"], d["field"]) for d in info.value.details] == [(2, "hours"), (5, "officer")]


def test_too_many_records_for_one_officer():
    rows = [(n, ["1", f"C{n}", "1"]) for n in range(2, 6)]
    with pytest.raises(Invalid) as info:
        officers_from_table(
            Table("csv", ["Officer", "Title", "Hours"], rows),
            roster=True,
            max_officers=5,
            max_records=3,
        )
    assert info.value.details[0]["row"] == 5
