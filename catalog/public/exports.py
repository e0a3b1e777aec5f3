"""Serialising published courses: JSON items, CSV/XLSX rows (formula-safe), schema.org JSON-LD.

One column list serves CSV and XLSX: the contract's columns first, then the useful extras
(names beside slugs, description, provider course code). `_col=` / `_nocol=` choose columns
(Datasette style: `id` is always kept), for JSON too. Cells are typed: XLSX gets numbers and dates;
text that a spreadsheet would run as a formula is guarded, and only that text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from catalog.services.cleaning import clean_text, web_address, would_run_as_formula
from catalog.services.publishing.listing import BadQuery, format_hours


def neutralise(value):
    """CSV cell text a spreadsheet would run as a formula gets a leading apostrophe; everything
    else is left exactly as it is."""
    if isinstance(value, str):
        value = clean_text(value)  # the guard sees exactly what is written
        if would_run_as_formula(value):
            return "'" + value
    return value


def json_hours(value: Decimal) -> int | float:
    """Hours as a JSON number: 1 rather than "1.00"; quarter hours are exact in binary."""
    found = _JSON_HOURS.get(value)
    if found is None:
        number = value.normalize()
        found = int(number) if number == number.to_integral_value() else float(number)
        if len(_JSON_HOURS) < 1024:  # a catalog has a handful of distinct hours
            _JSON_HOURS[value] = found
    return found


_JSON_HOURS: dict[Decimal, int | float] = {}


# --- columns ---------------------------------------------------------------------------------


def _areas(course: dict) -> str:
    return ";".join(f"{a['slug']}:{format_hours(a['hours'])}" for a in course["areas"])


def _area_names(course: dict) -> str:
    return "; ".join(f"{a['name']}: {format_hours(a['hours'])} h" for a in course["areas"])


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[dict, str], object]  # (course, page URL) -> str, int, Decimal, date or None


COLUMNS: tuple[Column, ...] = (
    # The contract's columns, in its order.
    Column("id", lambda c, url: c["id"]),
    Column("title", lambda c, url: c["title"]),
    Column("provider", lambda c, url: c["provider"]),
    Column("hours", lambda c, url: c["hours"]),
    Column("delivery", lambda c, url: c["delivery"]),
    Column("areas", lambda c, url: _areas(c)),
    Column("topics", lambda c, url: ";".join(t["slug"] for t in c["topics"])),
    Column("url", lambda c, url: url),
    Column("approved_until", lambda c, url: c["approved_until"]),
    # Further columns.
    Column("provider_name", lambda c, url: c["provider_name"]),
    Column("control_number", lambda c, url: c["control_number"]),
    Column("enrol_url", lambda c, url: c["url"]),
    Column("area_names", lambda c, url: _area_names(c)),
    Column("topic_names", lambda c, url: "; ".join(t["name"] for t in c["topics"])),
    Column("provider_code", lambda c, url: c.get("provider_code") or ""),
    Column("description", lambda c, url: c["description"]),
)
CSV_HEADER = [c.name for c in COLUMNS]
JSON_KEYS = (
    "id",
    "title",
    "provider",
    "provider_name",
    "hours",
    "delivery",
    "areas",
    "area_names",
    "topics",
    "topic_names",
    "url",
    "approved_until",
    "control_number",
    "enrol_url",
    "provider_code",
    "description",
)


def choose_columns(args, available) -> list[str]:
    """The columns `_col=` asks for (repeatable or comma-separated), minus `_nocol=`, in the
    export's own order; `id` is always kept. Unknown names raise BadQuery (a 400)."""
    available = list(available)

    def names(key: str) -> list[str]:
        wanted = [n.strip() for v in args.getlist(key) for n in v.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in available]
        if unknown:
            raise BadQuery(
                f"Unknown column '{unknown[0][:40]}' in {key}: choose from {', '.join(available)}."
            )
        return wanted

    keep, drop = set(names("_col")), set(names("_nocol"))
    chosen = [n for n in available if (not keep or n in keep) and n not in drop]
    if "id" not in chosen:
        chosen.insert(0, "id")
    return chosen


def _columns(names: list[str] | None) -> list[Column]:
    if names is None:
        return list(COLUMNS)
    by_name = {c.name: c for c in COLUMNS}
    return [by_name[n] for n in names]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_hours(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def row_values(course: dict, page_url: str, columns: list[str] | None = None) -> list:
    """One course as CSV cells: text, formula-guarded where a spreadsheet would run it."""
    return [neutralise(_text(c.value(course, page_url))) for c in _columns(columns)]


def course_json(course: dict, page_url: str, keys: list[str] | None = None) -> dict:
    """One course in the /courses.json contract shape plus extra keys (names beside slugs,
    description, provider course code); `keys` keeps only those."""
    item = {
        "id": course["id"],
        "title": course["title"],
        "provider": course["provider"],
        "provider_name": course["provider_name"],
        "hours": json_hours(course["hours"]),
        "delivery": course["delivery"],
        "areas": [{"slug": a["slug"], "hours": json_hours(a["hours"])} for a in course["areas"]],
        "area_names": [a["name"] for a in course["areas"]],  # in the order of "areas"
        "topics": [t["slug"] for t in course["topics"]],
        "topic_names": [t["name"] for t in course["topics"]],
        "url": page_url,
        "approved_until": course["approved_until"].isoformat()
        if course["approved_until"]
        else None,
        "control_number": course["control_number"],
        "enrol_url": course["url"],
        "provider_code": course.get("provider_code") or "",
        "description": course["description"],
    }
    if keys is not None:
        item = {k: item[k] for k in keys}
    return item


def json_stream(
    courses: Iterable[dict], page_url: Callable[[int], str], keys: list[str] | None = None
) -> Iterator[str]:
    """Every course as one JSON document, a chunk at a time: `{"courses": [...], "total": N,
    "page": 1, "pages": 1, "next": null}` (the total is written last, once counted)."""
    yield '{"courses": ['
    n = 0
    chunk: list[str] = []
    for n, course in enumerate(courses, start=1):
        text = json.dumps(course_json(course, page_url(course["id"]), keys), ensure_ascii=False)
        chunk.append(("," if n > 1 else "") + text)
        if len(chunk) >= 100:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    yield f'], "total": {n}, "page": 1, "pages": 1, "next": null}}\n'


def csv_lines(
    courses: Iterable[dict], page_url: Callable[[int], str], columns: list[str] | None = None
) -> Iterator[str]:
    """CSV text, header first, a line at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow([c.name for c in _columns(columns)])
    yield flush()
    for n, course in enumerate(courses, start=1):
        writer.writerow(row_values(course, page_url(course["id"]), columns))
        if n % 100 == 0:
            yield flush()
    yield flush()


def _xlsx_cell(sheet, value):
    """A typed XLSX cell: numbers as numbers, dates as dates, text always as text (never a
    formula); text a spreadsheet would run is marked quote-prefixed, so it stays text even when
    edited, without a visible apostrophe."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Decimal):
        return json_hours(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    text = clean_text(_text(value))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if would_run_as_formula(text):
        cell.quotePrefix = True
    return cell


def xlsx_bytes(
    courses: Iterable[dict], page_url: Callable[[int], str], columns: list[str] | None = None
) -> bytes:
    """An XLSX workbook (write-only mode) with the same columns as the CSV, typed cells."""
    from openpyxl import Workbook

    chosen = _columns(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Approved courses")
    sheet.append([c.name for c in chosen])
    for course in courses:
        url = page_url(course["id"])
        sheet.append([_xlsx_cell(sheet, c.value(course, url)) for c in chosen])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


DELIVERY_TO_COURSE_MODE = {
    "in-person": "onsite",
    "online": "online",
    "live-virtual": "online",
    "blended": "blended",
}


def script_safe_json(data: dict) -> str:
    """JSON that is safe inside <script>: <, >, & and the two line separators as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


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
            # only http(s): a stored `javascript:` address (from before the check) never appears
            **({"url": url} if (url := web_address(course["provider_url"])) else {}),
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
    if web_address(course["url"]):
        data["sameAs"] = course["url"]
    return script_safe_json(data)
