"""Reading catalog files (CSV, XLSX, JSON) into a plain table of text cells, and matching headers.

Everything a user can upload ends here as either a `Table` or an `Invalid` with a message a
non-technical person can act on; nothing in this module raises anything else for bad input.
Row numbers are 1-based with the header as row 1 (JSON items are numbered the same way, so a
catalog gives the same row numbers whichever format it came in).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.services.errors import Invalid

FORMATS = ("csv", "xlsx", "json")
XLSX_MAX_INFLATED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 2000

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


@dataclass
class Table:
    """A catalog file as text: the header and the data records with their 1-based row numbers."""

    file_format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


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
    return [f for f in REQUIRED_FIELDS if f not in column_map]


def detect_format(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext not in FORMATS:
        raise Invalid(
            f"'{filename}' is not a catalog file: upload a .csv, .xlsx or .json file.",
            [{"row": None, "field": "file", "message": "Accepted types: CSV, XLSX, JSON."}],
        )
    return ext


def read_table(data: bytes, filename: str, *, max_rows: int) -> Table:
    """Parse an uploaded file's bytes by its extension; raise Invalid with a clear reason."""
    fmt = detect_format(filename)
    if not data.strip():
        raise _file_error("The file is empty.")
    if fmt == "csv":
        table = _read_csv(data, max_rows)
    elif fmt == "xlsx":
        table = _read_xlsx(data, max_rows)
    else:
        table = _read_json(data, max_rows)
    if not any(h.strip() for h in table.headers):
        raise _file_error("The first row must name the columns (Title, Hours, ...).")
    return scrub(table)


# NUL and other control characters (tab and line breaks kept): PostgreSQL refuses NUL in text
# and JSON, and none of them belongs in a course catalog.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    return _CONTROL_CHARS.sub("", value)


def scrub(table: Table) -> Table:
    """Drop control characters from every header and cell."""
    table.headers = [clean_text(h) for h in table.headers]
    table.rows = [(n, [clean_text(c) for c in cells]) for n, cells in table.rows]
    return table


def _file_error(message: str) -> Invalid:
    return Invalid(message, [{"row": None, "field": "file", "message": message}])


def _too_many_rows(max_rows: int) -> Invalid:
    return _file_error(f"The file has more than {max_rows:,} courses; split it into smaller files.")


# -- CSV ---------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; binary data is refused."""
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise _file_error(
            "This file is a compressed (Excel or zip) file, not a CSV. Save it as .xlsx or "
            "export it as CSV."
        )
    if b"\x00" in head:
        raise _file_error("This does not look like a text (CSV) file: it contains binary data.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _file_error(
            "The file's text encoding is not UTF-8 or Windows-1252; save it as CSV UTF-8."
        ) from exc


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most (outside quotes)."""
    first = text.split("\n", 1)[0]
    first = re.sub(r'"[^"]*"', "", first)
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes, max_rows: int) -> Table:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    table = Table("csv", [])
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                table.headers = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(table.rows) >= max_rows:
                raise _too_many_rows(max_rows)
            table.rows.append((number, cells))
    except csv.Error as exc:
        raise _file_error(f"The CSV file is malformed near row {reader.line_num}: {exc}.") from exc
    if not table.headers:
        raise _file_error("The file is empty.")
    return table


# -- XLSX --------------------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def check_zip(data: bytes) -> None:
    """Refuse zip bombs before openpyxl inflates anything: entry count and total inflated size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _file_error(
            "This is not a valid Excel (.xlsx) file. Open it in Excel and save it again as .xlsx."
        ) from exc
    if len(entries) > XLSX_MAX_ENTRIES:
        raise _file_error("The Excel file has too many parts to be a catalog; refused.")
    if sum(e.file_size for e in entries) > XLSX_MAX_INFLATED:
        raise _file_error(
            f"The Excel file unpacks to more than {XLSX_MAX_INFLATED // (1024 * 1024)} MB; refused."
        )


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    check_zip(data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    table = Table("xlsx", [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise _file_error("The Excel file has no sheet.")
                sheet = workbook.worksheets[0]
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    cells = [_cell_text(v) for v in values]
                    if number == 1 or not table.headers:
                        if any(c.strip() for c in cells):
                            table.headers = [c.strip() for c in cells]
                        continue
                    if not any(c.strip() for c in cells):
                        continue
                    if len(table.rows) >= max_rows:
                        raise _too_many_rows(max_rows)
                    table.rows.append((number, cells))
            finally:
                workbook.close()
    except Invalid:
        raise
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        EOFError,
        IndexError,
        AttributeError,
        SyntaxError,
        zlib.error,
    ) as exc:
        # SyntaxError covers xml.etree's ParseError: entity tricks (billion laughs, external
        # entities) and broken sheet XML are refused by expat and must not become a 500.
        raise _file_error(
            "This Excel file could not be read (it may be damaged or not really .xlsx). "
            "Open it in Excel and save it again, or export it as CSV."
        ) from exc
    if not table.headers:
        raise _file_error("The first sheet of the Excel file is empty.")
    return table


# -- JSON --------------------------------------------------------------------------------------


def _json_cell(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float | Decimal):
        return _cell_text(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        # [{"slug": "legal-studies", "hours": 1}, ...]
        return ";".join(f"{v.get('slug', '')}:{_cell_text(v.get('hours'))}" for v in value)
    if isinstance(value, dict) and not any(isinstance(v, dict | list) for v in value.values()):
        return ";".join(f"{k}:{_cell_text(v)}" for k, v in value.items())
    raise ValueError(key)


def courses_from_json(payload) -> list:
    """The list of course objects in a JSON catalog (a list, or {"courses": [...]})."""
    if isinstance(payload, dict):
        if "courses" not in payload:
            raise _file_error('A JSON catalog must be a list of courses or {"courses": [...]}.')
        payload = payload["courses"]
    if not isinstance(payload, list):
        raise _file_error('"courses" must be a list of course objects.')
    return payload


def table_from_objects(items: list, max_rows: int, fmt: str = "json") -> Table:
    """A Table from JSON course objects; the union of their keys, in first-seen order, is the header."""
    if len(items) > max_rows:
        raise _too_many_rows(max_rows)
    headers: dict[str, None] = {}
    for number, item in enumerate(items, start=2):
        if not isinstance(item, dict):
            raise _file_error(f"Course {number - 1} (row {number}) is not an object with fields.")
        for key in item:
            headers.setdefault(str(key), None)
    names = list(headers)
    table = Table(fmt, names)
    for number, item in enumerate(items, start=2):
        cells = []
        for name in names:
            try:
                cells.append(_json_cell(name, item.get(name)))
            except ValueError:
                raise _file_error(
                    f"Row {number}: the field '{name}' must be text, a number or a list of text."
                ) from None
        table.rows.append((number, cells))
    return scrub(table)


def _read_json(data: bytes, max_rows: int) -> Table:
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except RecursionError as exc:
        raise _file_error("The JSON file is nested too deeply to be a catalog.") from exc
    except UnicodeDecodeError as exc:
        raise _file_error("The JSON file must be UTF-8 text.") from exc
    except ValueError as exc:
        raise _file_error(f"The file is not valid JSON: {exc}.") from exc
    return table_from_objects(courses_from_json(payload), max_rows)
