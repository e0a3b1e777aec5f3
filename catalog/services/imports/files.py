"""Reading catalog files (CSV, XLSX, JSON) into a plain table of text cells, and matching headers.

Everything a user can upload ends here as either a `Table` or an `Invalid` with a message a
non-technical person can act on; nothing in this module raises anything else for bad input.
Row numbers are what the user sees: in a CSV or XLSX file the spreadsheet's row (the header is row
1, so the first course is row 2); in JSON (a file or an API payload) the course's position in the
list, counting from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.services.cleaning import clean_text
from catalog.services.errors import Invalid
from catalog.services.imports.deadline import NO_DEADLINE, Deadline

FORMATS = ("csv", "xlsx", "json")
# Work bounds for one upload, whatever the file declares: columns with data (CSV, XLSX, JSON).
MAX_COLUMNS = 200
MAX_HEADER_CHARS = 200


@dataclass
class Table:
    """A catalog file as text: the header and the data records with their 1-based row numbers."""

    file_format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def detect_format(filename: str) -> str:
    """csv, xlsx or json from the file name; anything else is Invalid."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext not in FORMATS:
        raise Invalid(
            f"'{filename}' is not a catalog file: upload a .csv, .xlsx or .json file.",
            [{"row": None, "field": "file", "message": "Accepted types: CSV, XLSX, JSON."}],
        )
    return ext


def read_table(
    data: bytes, filename: str, *, max_rows: int, deadline: Deadline = NO_DEADLINE
) -> Table:
    """Parse an uploaded file's bytes by its extension; raise Invalid with a clear reason (a
    TimeLimit when reading runs past the deadline)."""
    fmt = detect_format(filename)
    if not data.strip():
        raise _file_error("The file is empty.")
    if fmt == "csv":
        table = _read_csv(data, max_rows, deadline)
    elif fmt == "xlsx":
        from catalog.services.imports.xlsx import read_xlsx  # xlsx.py builds on this module

        table = read_xlsx(data, max_rows, deadline=deadline)
    else:
        table = _read_json(data, max_rows)
    if not any(h.strip() for h in table.headers):
        raise _file_error("The first row must name the columns (Title, Hours, ...).")
    check_headers(table.headers)
    deadline.check()
    return scrub(table, deadline)


def check_headers(headers: list[str]) -> None:
    """Column names are short labels: refuse more than MAX_COLUMNS, or one of book length."""
    if len(headers) > MAX_COLUMNS:
        raise _too_many_columns(f"{len(headers):,}")
    for index, header in enumerate(headers, start=1):
        if len(header) > MAX_HEADER_CHARS:
            raise _file_error(
                f"The name of column {index} is {len(header):,} characters long; column names "
                f"must be at most {MAX_HEADER_CHARS}. Is the first row really the header?"
            )


def scrub(table: Table, deadline: Deadline = NO_DEADLINE) -> Table:
    """Every header and cell through the one input-cleaning rule (`cleaning.clean_text`)."""
    table.headers = [clean_text(h) for h in table.headers]
    rows = []
    for i, (n, cells) in enumerate(table.rows, start=1):
        deadline.every(i)
        rows.append((n, [clean_text(c) for c in cells]))
    table.rows = rows
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


def _bounded_cells(cells: list[str]) -> list[str]:
    """A row without its trailing empty cells; data past MAX_COLUMNS is refused (a header of
    200,000 columns would otherwise become a column-mapping page of 73 MB)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    if end > MAX_COLUMNS:
        raise _too_many_columns(f"{end:,}")
    return cells[:end] if end < len(cells) else cells


def _read_csv(data: bytes, max_rows: int, deadline: Deadline = NO_DEADLINE) -> Table:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    table = Table("csv", [])
    try:
        for number, cells in enumerate(reader, start=1):
            deadline.every(number)
            cells = _bounded_cells(cells)
            if number == 1:
                table.headers = [c.strip() for c in cells]
                continue
            if not cells:
                continue
            if len(table.rows) >= max_rows:
                raise _too_many_rows(max_rows)
            table.rows.append((number, cells))
    except csv.Error as exc:
        raise _file_error(f"The CSV file is malformed near row {reader.line_num}: {exc}.") from exc
    if not table.headers:
        raise _file_error("The file is empty.")
    return table


# -- cells shared by the formats -------------------------------------------------------------


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


def _too_many_columns(found: int | str) -> Invalid:
    return _file_error(
        f"The file has data in column {found}; a catalog has at most {MAX_COLUMNS} columns. "
        "Delete the extra columns (or export only the catalog's columns) and upload again."
    )


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
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _file_error(f"Course {number} (row {number}) is not an object with fields.")
        for key in item:
            headers.setdefault(str(key), None)
        if len(headers) > MAX_COLUMNS:
            break
    names = list(headers)
    if len(names) > MAX_COLUMNS:
        raise _file_error(
            f"The courses have {len(names):,} different fields; a catalog has at most "
            f"{MAX_COLUMNS} columns."
        )
    check_headers(names)
    table = Table(fmt, names)
    for number, item in enumerate(items, start=1):
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
