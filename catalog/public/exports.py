"""Serialising published courses: JSON items, CSV/XLSX rows (formula-safe), schema.org JSON-LD."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from catalog.services.publishing import format_hours

CSV_HEADER = [
    "id",
    "title",
    "provider",
    "hours",
    "delivery",
    "areas",
    "topics",
    "url",
    "approved_until",
    "provider_name",
    "control_number",
    "enrol_url",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_hours(value: Decimal) -> int | float:
    """Hours as a JSON number: 1 rather than "1.00"; quarter hours are exact in binary."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def course_json(course: dict, page_url: str) -> dict:
    """One course in the /courses.json contract shape (plus a few extra keys)."""
    return {
        "id": course["id"],
        "title": course["title"],
        "provider": course["provider"],
        "provider_name": course["provider_name"],
        "hours": json_hours(course["hours"]),
        "delivery": course["delivery"],
        "areas": [{"slug": a["slug"], "hours": json_hours(a["hours"])} for a in course["areas"]],
        "topics": [t["slug"] for t in course["topics"]],
        "url": page_url,
        "approved_until": course["approved_until"].isoformat()
        if course["approved_until"]
        else None,
        "control_number": course["control_number"],
        "enrol_url": course["url"],
    }


def neutralise(value):
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def row_values(course: dict, page_url: str) -> list:
    areas = ";".join(f"{a['slug']}:{format_hours(a['hours'])}" for a in course["areas"])
    topics = ";".join(t["slug"] for t in course["topics"])
    values = [
        course["id"],
        course["title"],
        course["provider"],
        format_hours(course["hours"]),
        course["delivery"],
        areas,
        topics,
        page_url,
        course["approved_until"].isoformat() if course["approved_until"] else "",
        course["provider_name"],
        course["control_number"],
        course["url"],
    ]
    return [neutralise(v) for v in values]


def csv_lines(courses: Iterable[dict], page_url: Callable[[int], str]) -> Iterator[str]:
    """CSV text, header first, a line at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_HEADER)
    yield flush()
    for n, course in enumerate(courses, start=1):
        writer.writerow(row_values(course, page_url(course["id"])))
        if n % 100 == 0:
            yield flush()
    yield flush()


def xlsx_bytes(courses: Iterable[dict], page_url: Callable[[int], str]) -> bytes:
    """An XLSX workbook (write-only mode) with the same columns as the CSV."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Approved courses")
    sheet.append(CSV_HEADER)
    for course in courses:
        values = row_values(course, page_url(course["id"]))
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


DELIVERY_TO_COURSE_MODE = {
    "in-person": "onsite",
    "online": "online",
    "live-virtual": "online",
    "blended": "blended",
}


def json_ld(course: dict, page_url: str, jurisdiction_label: str = "Control number") -> str:
    """schema.org Course JSON-LD, safe inside <script>: <, > and & are written as \\u escapes."""
    data = {
        "@context": "https://schema.org",
        "@type": "Course",
        "@id": page_url,
        "url": page_url,
        "name": course["title"],
        "description": course["description"] or course["title"],
        "provider": {
            "@type": "Organization",
            "name": course["provider_name"],
            **({"url": course["provider_url"]} if course["provider_url"] else {}),
        },
        "timeRequired": f"PT{format_hours(course['hours'])}H",
        "about": [a["name"] for a in course["areas"]] + [t["name"] for t in course["topics"]],
        "hasCourseInstance": {
            "@type": "CourseInstance",
            "courseMode": DELIVERY_TO_COURSE_MODE.get(course["delivery"], course["delivery"]),
        },
    }
    if course["control_number"]:
        data["courseCode"] = course["control_number"]
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": jurisdiction_label,
            "value": course["control_number"],
        }
    if course["approved_until"]:
        data["expires"] = course["approved_until"].isoformat()
    if course["url"]:
        data["sameAs"] = course["url"]
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
