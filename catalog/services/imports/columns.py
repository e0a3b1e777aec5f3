"""The catalog format's columns: the fields, which are required, their labels, the header names
providers use for each (HEADER_ALIASES), and guessing a file's column map from its headers."""

from __future__ import annotations

import re

FIELDS = (
    "provider_code",
    "title",
    "hours",
    "delivery",
    "description",
    "objectives",
    "url",
    "area_hours",
    "topics",
)
REQUIRED_FIELDS = ("title", "hours")
FIELD_LABELS = {
    "provider_code": "Course code",
    "title": "Title",
    "hours": "Hours",
    "delivery": "Delivery",
    "description": "Description",
    "objectives": "Objectives",
    "url": "Web address",
    "area_hours": "Area hours",
    "topics": "Topics",
}

# Header spellings seen in real exports, after `header_key` folding.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "provider_code": (
        "provider code",
        "code",
        "course code",
        "course number",
        "course no",
        "course num",
        "number",
        "sku",
        "course id",
        "id",
        "catalog number",
        "catalog no",
        "class code",
        "class number",
        "item number",
        "reference",
    ),
    "title": (
        "title",
        "course title",
        "course name",
        "name",
        "course",
        "class title",
        "class name",
        "class",
        "training title",
        "training name",
        "program title",
        "session title",
    ),
    "hours": (
        "hours",
        "hrs",
        "hour",
        "length",
        "length hrs",
        "length hours",
        "credit hours",
        "clee hours",
        "ce hours",
        "contact hours",
        "duration",
        "duration hrs",
        "duration hours",
        "total hours",
        "credits",
        "credit",
        "post hours",
        "training hours",
        "course hours",
    ),
    "delivery": (
        "delivery",
        "format",
        "delivery method",
        "delivery mode",
        "delivery format",
        "method",
        "mode",
        "modality",
        "course format",
        "type",
        "course type",
        "training type",
    ),
    "description": (
        "description",
        "course description",
        "synopsis",
        "summary",
        "overview",
        "abstract",
        "details",
        "course summary",
        "scope",
    ),
    "objectives": (
        "objectives",
        "learning objectives",
        "course objectives",
        "outcomes",
        "learning outcomes",
        "performance objectives",
        "goals",
    ),
    "url": ("url", "link", "website", "web", "course url", "course link", "web address", "page"),
    "area_hours": (
        "area hours",
        "areas",
        "area",
        "core areas",
        "core area",
        "curricula areas",
        "curriculum areas",
        "categories",
        "clee areas",
        "post areas",
    ),
    "topics": (
        "topics",
        "topic",
        "designations",
        "designation",
        "mandated topics",
        "topic designations",
        "tags",
    ),
}
_ALIAS_INDEX = {alias: f for f, aliases in HEADER_ALIASES.items() for alias in aliases}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(header: str) -> str:
    """Fold a header for alias lookup: "Course #" -> "course number", "Length (hrs)" -> "length hrs"."""
    text = str(header or "").replace("#", " number ").replace("_", " ").lower()
    return _NON_ALNUM.sub(" ", text).strip()


def guess_column_map(headers: list[str]) -> dict[str, int]:
    """{field: column index} for every header whose name is a known spelling of a field."""
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = _ALIAS_INDEX.get(header_key(header))
        if name and name not in found:
            found[name] = index
    return found


def missing_required(column_map: dict) -> list[str]:
    """The required fields a column map does not assign."""
    return [f for f in REQUIRED_FIELDS if f not in column_map]
