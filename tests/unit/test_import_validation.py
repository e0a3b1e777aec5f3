"""Row validation without a database: every rule of the catalog format, and duplicates."""

from __future__ import annotations

import pytest

from catalog.models import Category
from catalog.services.courses import content_hash
from catalog.services.imports.columns import FIELDS
from catalog.services.imports.matching import Existing, check_rows
from catalog.services.imports.rows import (
    Context,
    course_fields,
    parse_delivery,
    parse_fields,
    parse_row,
)

AREAS = ["legal-studies", "technical-studies", "interpersonal-perspectives", "skill-development"]
TOPICS = ["de-escalation", "implicit-bias", "racial-profiling", "firearms"]


@pytest.fixture
def ctx() -> Context:
    areas = {s: Category(slug=s, kind="area", name=s.replace("-", " ").title()) for s in AREAS}
    topics = {
        s: Category(
            slug=s, kind="topic", name=s.replace("-", " ").title(), live_only=(s == "firearms")
        )
        for s in TOPICS
    }
    lookup = {}
    for c in [*areas.values(), *topics.values()]:
        from catalog.services.imports.columns import header_key

        lookup[header_key(c.slug)] = c.slug
        lookup[header_key(c.name)] = c.slug
    return Context(areas, topics, lookup, max_cell_chars=50)


def fields(**kw) -> dict:
    base = {name: "" for name in FIELDS}
    base.update(title="Legal Update", hours="2")
    base.update(kw)
    return base


def errors_of(ctx, **kw) -> dict[str, list[str]]:
    _, errors = parse_fields(fields(**kw), ctx)
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e["field"], []).append(e["message"])
    return out


def test_a_good_row(ctx):
    values, errors = parse_fields(
        fields(
            provider_code="L-1",
            hours="1.5 hrs",
            delivery="Hybrid",
            url="https://x.example/c",
            area_hours="Legal Studies: 1; skill-development:0.5",
            topics="De-escalation",
        ),
        ctx,
    )
    assert errors == []
    assert values["hours"] == "1.5" and values["delivery"] == "blended"
    assert values["area_hours"] == {"legal-studies": "1", "skill-development": "0.5"}
    assert values["topics"] == ["de-escalation"]


@pytest.mark.parametrize(
    ("kw", "field", "fragment"),
    [
        ({"title": "  "}, "title", "missing"),
        ({"hours": ""}, "hours", "missing"),
        ({"hours": "abc"}, "hours", "not a number"),
        ({"hours": "0"}, "hours", "more than 0"),
        ({"hours": "-1"}, "hours", "not a number"),
        ({"hours": "1.3"}, "hours", "quarter hours"),
        ({"delivery": "carrier pigeon"}, "delivery", "not a delivery mode"),
        ({"area_hours": "legal-studies:1"}, "area_hours", "add up to 1"),
        ({"area_hours": "cooking:2"}, "area_hours", "not an area"),
        ({"area_hours": "legal-studies"}, "area_hours", "area:hours"),
        ({"area_hours": "legal-studies:x"}, "area_hours", "hours for legal-studies"),
        ({"area_hours": "legal-studies:2", "topics": "knitting"}, "topics", "not a topic"),
        ({"topics": "implicit-bias"}, "topics", "give area_hours"),
        (
            {"delivery": "online", "area_hours": "skill-development:2", "topics": "firearms"},
            "topics",
            "taught live",
        ),
        ({"description": "x" * 51}, "description", "longer than 50"),
        ({"url": "javascript:alert(1)"}, "url", "http"),
        ({"provider_code": "C" * 65}, "provider_code", "longer than 64"),
    ],
)
def test_each_rule(ctx, kw, field, fragment):
    found = errors_of(ctx, **kw)
    assert field in found, found
    assert any(fragment in m for m in found[field]), found


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("Online", "online"),
        ("Self-paced", "online"),
        ("Classroom", "in-person"),
        ("In Person", "in-person"),
        ("Virtual instructor-led", "live-virtual"),
        ("Webinar", "live-virtual"),
        ("Hybrid", "blended"),
        ("", "in-person"),
        ("live-virtual", "live-virtual"),
    ],
)
def test_delivery_synonyms(text, mode):
    assert parse_delivery(text) == mode


def test_unmapped_overlong_cell_is_reported(ctx):
    row = parse_row(2, ["T", "1", "y" * 60], {"title": 0, "hours": 1}, ctx)
    assert row.errors == [
        {"row": 2, "field": "column 3", "message": "is longer than 50 characters"}
    ]


def test_duplicates_and_matching(ctx):
    rows = [
        parse_row(n, cells, {"provider_code": 0, "title": 1, "hours": 2}, ctx)
        for n, cells in [
            (2, ["A-1", "Legal Update", "2"]),
            (3, ["a-1", "Other", "1"]),  # same code (case-insensitive)
            (4, ["", "legal  update!", "1"]),  # same normalised title
            (5, ["B-1", "Kept Course", "1"]),  # matches an existing course by code, unchanged
            (6, ["", "Renamed Course", "1"]),  # matches by title, content changed
            (7, ["Z-9", "Taken Title", "1"]),  # title belongs to another course with another code
        ]
    ]
    kept = course_fields(rows[3].values)
    existing = [
        Existing(10, "B-1", "kept course", content_hash(kept)),
        Existing(11, None, "renamed course", "old-hash"),
        Existing(12, "T-1", "taken title", "h"),
    ]
    check_rows(rows, existing)
    assert [r.errors[0]["message"][:20] for r in rows[1:3]] == ["Duplicate of row 2: "] * 2
    assert (rows[0].change, rows[3].change, rows[4].change) == ("new", "unchanged", "changed")
    assert (rows[3].course_id, rows[4].course_id) == (10, 11)
    assert "code T-1" in rows[5].errors[0]["message"]
