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
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.services.cleaning import clean_text
from catalog.services.errors import Invalid

FORMATS = ("csv", "xlsx", "json")
XLSX_MAX_INFLATED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 2000
# Work bounds for one upload, whatever the file declares: columns with data (CSV, XLSX, JSON),
# cell and row elements read from a sheet (empty ones included), and wall-clock time.
MAX_COLUMNS = 200
MAX_HEADER_CHARS = 200
XLSX_CELLS_PER_ROW = 40
XLSX_MIN_CELL_BUDGET = 200_000
XLSX_EMPTY_ROW_ALLOWANCE = 10_000
XLSX_MAX_SECONDS = 30.0

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
    check_headers(table.headers)
    return scrub(table)


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


def scrub(table: Table) -> Table:
    """Every header and cell through the one input-cleaning rule (`cleaning.clean_text`)."""
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


def _bounded_cells(cells: list[str]) -> list[str]:
    """A row without its trailing empty cells; data past MAX_COLUMNS is refused (a header of
    200,000 columns would otherwise become a column-mapping page of 73 MB)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    if end > MAX_COLUMNS:
        raise _too_many_columns(f"{end:,}")
    return cells[:end] if end < len(cells) else cells


def _read_csv(data: bytes, max_rows: int) -> Table:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    table = Table("csv", [])
    try:
        for number, cells in enumerate(reader, start=1):
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


def _shared_strings_entry(archive: zipfile.ZipFile) -> str | None:
    for name in archive.namelist():
        if name.lower().endswith("sharedstrings.xml"):
            return name
    return None


def _check_shared_strings(data: bytes, limit: int) -> None:
    """Count the shared strings before openpyxl loads them all: a few kilobytes of deflated
    `<si/>` make millions of strings in memory. Stops reading at the limit."""
    from openpyxl.xml.functions import iterparse

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = _shared_strings_entry(archive)
        if name is None:
            return
        count = 0
        with archive.open(name) as source:
            for _event, element in iterparse(source):
                if element.tag.endswith("}si") or element.tag == "si":
                    count += 1
                    element.clear()
                    if count > limit:
                        raise _file_error(
                            f"The Excel file holds more than {limit:,} different texts; a catalog "
                            "of this size has far fewer. Export it as CSV, or split it."
                        )


def _too_many_columns(found: int | str) -> Invalid:
    return _file_error(
        f"The file has data in column {found}; a catalog has at most {MAX_COLUMNS} columns. "
        "Delete the extra columns (or export only the catalog's columns) and upload again."
    )


def _too_much_work() -> Invalid:
    return _file_error(
        "The Excel file holds far more (mostly empty) cells than a catalog needs, or took too long "
        "to read; refused. Copy the catalog's rows into a new sheet, or export it as CSV."
    )


def _read_xlsx(data: bytes, max_rows: int, deadline: float | None = None) -> Table:
    """The first sheet as text, reading only the cells the file really holds.

    openpyxl's own row iterator pads every row to the sheet's declared width and fills in every
    missing row, so one cell in column XFD and one in row 1,048,576 make it walk 1.7e10 empty
    cells. Here the sheet XML is streamed element by element and every cell element counts
    against a budget (data or not), rows elements likewise; the `dimension` tag is never read.
    """
    check_zip(data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    cell_budget = max(XLSX_MIN_CELL_BUDGET, max_rows * XLSX_CELLS_PER_ROW)
    row_budget = max_rows + XLSX_EMPTY_ROW_ALLOWANCE
    deadline = deadline if deadline is not None else time.monotonic() + XLSX_MAX_SECONDS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_shared_strings(data, cell_budget)
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise _file_error("The Excel file has no sheet.")
                table = _read_sheet(
                    workbook, workbook.worksheets[0], max_rows, cell_budget, row_budget, deadline
                )
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
        OverflowError,
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


def _read_sheet(workbook, sheet, max_rows, cell_budget, row_budget, deadline) -> Table:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.functions import iterparse

    table = Table("xlsx", [])
    cells_read = rows_read = 0
    row_cells: dict[int, str] = {}
    sheet_data = None
    with sheet._get_source() as source:
        # openpyxl's cell decoding (shared strings, dates by style, booleans, inline strings),
        # fed one element at a time so nothing is padded or accumulated.
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    rows_read += 1
                    if rows_read > row_budget:
                        raise _too_much_work()
                    number = element.get("r")
                    parser.row_counter = int(number) if number else parser.row_counter + 1
                    parser.col_counter = 0
                    row_cells = {}
                elif tag == "sheetData":
                    sheet_data = element
                continue
            if tag == "c":
                cells_read += 1
                if cells_read > cell_budget:
                    raise _too_much_work()
                if not cells_read % 4096 and time.monotonic() > deadline:
                    raise _too_much_work()
                cell = parser.parse_cell(element)
                element.clear()
                text = _cell_text(cell["value"])
                if not text.strip():
                    continue
                if cell["column"] > MAX_COLUMNS:
                    raise _too_many_columns(get_column_letter(min(cell["column"], 16384)))
                row_cells[cell["column"]] = text
            elif tag == "row":
                number = parser.row_counter
                if sheet_data is not None:
                    sheet_data.clear()  # drop the finished row element from the tree
                if not row_cells:
                    continue
                cells = [""] * max(row_cells)
                for column, text in row_cells.items():
                    cells[column - 1] = text
                if not table.headers:
                    table.headers = [c.strip() for c in cells]
                    continue
                if len(table.rows) >= max_rows:
                    raise _too_many_rows(max_rows)
                table.rows.append((number, cells))
            elif tag == "sheetData":
                break
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
