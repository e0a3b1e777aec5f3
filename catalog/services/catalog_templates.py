"""Catalog templates (CSV and XLSX) and the description of the catalog format, built from the
catalog fields the importer reads and the served jurisdiction's categories (data, not code), so
the template, the format page and the importer never disagree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from catalog.models import Category
from catalog.services.imports.columns import FIELD_LABELS, FIELDS, REQUIRED_FIELDS

DELIVERY_VALUES = ("in-person", "online", "live-virtual", "blended")


@dataclass(frozen=True)
class FieldHelp:
    name: str
    label: str
    required: bool
    rule: str


def categories(session, jurisdiction) -> tuple[list[Category], list[Category]]:
    """(areas, topics) of the jurisdiction, in the order staff set."""
    rows = session.scalars(
        select(Category)
        .where(Category.jurisdiction_id == jurisdiction.id)
        .order_by(Category.sort_order, Category.id)
    ).all()
    return [c for c in rows if c.kind == "area"], [c for c in rows if c.kind != "area"]


def field_help(areas: list[Category], topics: list[Category]) -> list[FieldHelp]:
    """One line per catalog field: what it holds and the rule the importer applies."""
    area = areas[0].slug if areas else "area"
    other = areas[1].slug if len(areas) > 1 else area
    topic = topics[0].slug if topics else "topic"
    rules = {
        "provider_code": "your own code for the course (up to 64 characters); a re-upload "
        "recognises the course by it, otherwise by its title",
        "title": "the course title as officers see it",
        "hours": "total contact hours in quarter hours: 1, 1.5, 2.25",
        "delivery": "one of " + ", ".join(DELIVERY_VALUES) + " (in-person when empty)",
        "description": "what the course covers (the matcher reads it too)",
        "objectives": "learning objectives",
        "url": "a web page about the course, starting with https://",
        "area_hours": f"hours per core area you propose, adding up to the total: "
        f"{area}:1;{other}:0.5",
        "topics": f"mandated topics you propose, separated by ';': {topic}",
    }
    return [
        FieldHelp(name, FIELD_LABELS[name], name in REQUIRED_FIELDS, rules[name]) for name in FIELDS
    ]


def _example_labels(areas: list[Category], topics: list[Category]) -> tuple[str, str]:
    """An area and a topic that make a valid online example (a live-only topic would not)."""
    topic = next((t for t in topics if not t.live_only), None)
    slugs = {a.slug for a in areas}
    if topic is not None and topic.default_area_slug in slugs:
        return topic.default_area_slug, topic.slug
    return (areas[0].slug if areas else ""), (topic.slug if topic is not None else "")


def example_course(areas: list[Category], topics: list[Category]) -> dict:
    """One example row, valid for the jurisdiction (the importer accepts it as it is)."""
    area, topic = _example_labels(areas, topics)
    if not area:
        topic = ""  # a topic counts inside an area
    return {
        "provider_code": "EX-101",
        "title": "Example: Introduction to De-escalation",
        "hours": "1",
        "delivery": "online",
        "description": "Replace this row with your own courses.",
        "objectives": "Recognise escalation; use time, distance and communication",
        "url": "https://example.org/courses/ex-101",
        "area_hours": f"{area}:1" if area else "",
        "topics": topic,
    }


def json_example(areas: list[Category], topics: list[Category]) -> dict:
    """The JSON shape of a catalog (a file or `POST /api/v1/catalogs`), with one course."""
    row = example_course(areas, topics)
    course = {k: v for k, v in row.items() if v}
    course["hours"] = 1
    if row["area_hours"]:
        course["area_hours"] = [{"slug": row["area_hours"].split(":")[0], "hours": 1}]
    if row["topics"]:
        course["topics"] = [row["topics"]]
    return {"courses": [course]}


def template_csv(areas: list[Category], topics: list[Category]) -> bytes:
    """A CSV template: the header row and one example course (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    row = example_course(areas, topics)
    writer.writerow([row[name] for name in FIELDS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(areas: list[Category], topics: list[Category]) -> bytes:
    """An XLSX template: the courses sheet first (the importer reads it), then a sheet that
    explains each column and one that lists the category slugs to use."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Courses"
    sheet.append(list(FIELDS))
    row = example_course(areas, topics)
    sheet.append([float(row[n]) if n == "hours" else row[n] for n in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHI", (12, 40, 8, 14, 40, 40, 36, 28, 20), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("Columns")
    help_sheet.append(["column", "required", "what to put in it"])
    for item in field_help(areas, topics):
        help_sheet.append([item.name, "yes" if item.required else "no", item.rule])
    names = book.create_sheet("Categories")
    names.append(["slug", "name", "kind"])
    for c in areas + topics:
        names.append([c.slug, c.name, "core area" if c.kind == "area" else "mandated topic"])
    for extra in (help_sheet, names):
        for cell in extra[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
