"""Training records in: one officer's (JSON, a form, a transcript file) or a roster file.

The same file reader as catalog uploads (imports.files.read_table: CSV, XLSX, loose headers) and
the same error style: every problem is {"row", "field", "message"} with the file's row number
(header = row 1), and a file with any error plans nothing. Nothing here is stored or logged:
officer records live only for the request.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.models import DELIVERY_MODES
from catalog.services.errors import Invalid
from catalog.services.imports.columns import HEADER_ALIASES, header_key
from catalog.services.imports.files import Table, read_table
from catalog.services.imports.rows import parse_delivery, parse_hours

MAX_TITLE = 500
MAX_TEXT = 200
MAX_ID = 100

# Header spellings of a transcript or roster (folded with header_key). "name" is the officer in
# a roster, so the course title takes the catalog's title spellings except the bare "name".
RECORD_HEADERS: dict[str, tuple[str, ...]] = {
    "title": tuple(a for a in HEADER_ALIASES["title"] if a != "name")
    + ("training", "course completed", "training course"),
    "hours": HEADER_ALIASES["hours"] + ("hours completed", "hours earned", "clee", "ceu"),
    "delivery": HEADER_ALIASES["delivery"],
    "date": (
        "date",
        "completed",
        "completion date",
        "date completed",
        "completed on",
        "course date",
        "training date",
        "class date",
        "end date",
        "date of training",
    ),
    "provider": (
        "provider",
        "provider name",
        "training provider",
        "provider slug",
        "presented by",
        "sponsor",
        "academy",
        "vendor",
        "agency provider",
    ),
    "control_number": (
        "control number",
        "control no",
        "post control number",
        "control",
        "course number",
        "course no",
        "course num",
        "tcole course number",
        "tcole number",
        "course code",
        "provider code",
        "code",
        "course id",
        "number",
    ),
    "officer": (
        "officer",
        "officer id",
        "officer name",
        "officer number",
        "name",
        "employee",
        "employee id",
        "employee number",
        "badge",
        "badge number",
        "dle number",
        "license number",
        "licence number",
        "pid",
        "tcole pid",
        "person id",
        "id",
        "student",
        "student id",
    ),
}
_INDEX = {alias: name for name, aliases in RECORD_HEADERS.items() for alias in aliases}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%b %d %Y", "%B %d %Y", "%d %b %Y")


@dataclass(frozen=True)
class Record:
    """One completed training as the officer or agency reported it."""

    title: str
    hours: Decimal | None = None
    date: dt.date | None = None
    provider: str = ""
    course_id: int | None = None
    control_number: str = ""
    delivery: str | None = None
    row: int | None = None


@dataclass
class Officer:
    """An officer's id (as the caller names them; never stored) and records."""

    id: str
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """The user's choices for the plan: delivery modes allowed, providers excluded/preferred."""

    delivery: tuple[str, ...] = ()
    exclude_providers: frozenset[str] = frozenset()
    prefer_providers: frozenset[str] = frozenset()


def parse_date(text: str) -> dt.date:
    """'2026-03-01', '3/1/2026', 'Mar 1, 2026' (or an Excel date) -> date; ValueError if not."""
    value = (text or "").strip().replace(",", " ")
    value = re.sub(r"\s+", " ", value)
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        value = value[:10]
    for fmt in _DATE_FORMATS:
        try:
            found = dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if not 1990 <= found.year <= 2100:
            break
        return found
    raise ValueError(f"'{text[:40]}' is not a date; write it as 2026-03-01 or 3/1/2026")


def _text(value, limit: int) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", str(value or "")).strip()[:limit]


def record_from_fields(values: dict, row, problems: list[dict], where) -> Record | None:
    """A Record from loose values; problems get {"row", "field", "message"} (where(field) names
    the field, e.g. "officers[0].records[2].hours" for JSON, the column for files)."""
    count = len(problems)

    def problem(name: str, message: str) -> None:
        problems.append({"row": row, "field": where(name), "message": message})

    title = _text(values.get("title"), MAX_TITLE)
    course_id = None
    raw_id = values.get("course_id")
    if raw_id not in (None, ""):
        if isinstance(raw_id, bool) or not re.fullmatch(r"\d{1,12}", str(raw_id).strip()):
            problem("course_id", f"'{str(raw_id)[:30]}' is not a course id (a whole number)")
        else:
            course_id = int(str(raw_id).strip())
    control = _text(values.get("control_number"), MAX_TEXT)
    if not title and course_id is None and not control:
        problem("title", "a course title is required (or a course id or control number)")
    hours = None
    raw_hours = values.get("hours")
    if raw_hours not in (None, ""):
        if isinstance(raw_hours, bool) or not isinstance(raw_hours, str | int | float | Decimal):
            problem("hours", "must be a number of hours")
        else:
            try:
                hours = parse_hours(str(raw_hours))
            except ValueError as exc:
                problem("hours", str(exc))
    when = None
    raw_date = values.get("date")
    if raw_date not in (None, ""):
        try:
            when = parse_date(str(raw_date))
        except ValueError as exc:
            problem("date", str(exc))
    delivery = None
    raw_delivery = _text(values.get("delivery"), MAX_TEXT)
    if raw_delivery:
        try:
            delivery = parse_delivery(raw_delivery)
        except ValueError as exc:
            problem("delivery", str(exc))
    if len(problems) > count:
        return None
    return Record(
        title=title,
        hours=hours,
        date=when,
        provider=_text(values.get("provider"), MAX_TEXT),
        course_id=course_id,
        control_number=control,
        delivery=delivery,
        row=row,
    )


def column_map(headers: list[str]) -> dict[str, int]:
    """{field: column} for every header that is a known spelling (first one wins)."""
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = _INDEX.get(header_key(header))
        if name and name not in found:
            found[name] = index
    return found


def officers_from_table(
    table: Table, *, roster: bool, max_officers: int, max_records: int
) -> list[Officer]:
    """Officers and their records from a transcript (roster=False: one officer) or a roster
    (an officer column); Invalid with every row's problems, nothing planned, on any error."""
    columns = column_map(table.headers)
    missing = [f for f in (("officer",) if roster else ()) + ("title",) if f not in columns]
    if "title" in missing and ("control_number" in columns or "course_id" in columns):
        missing.remove("title")
    if missing:
        names = {"officer": "Officer (id or name)", "title": "Course title"}
        seen = ", ".join(h for h in table.headers if h.strip()) or "none"
        message = (
            "The file needs a column for "
            + " and ".join(names[m] for m in missing)
            + f". Columns found: {seen[:300]}."
        )
        raise Invalid(message, [{"row": 1, "field": m, "message": message} for m in missing])
    problems: list[dict] = []
    officers: dict[str, Officer] = {}
    for number, cells in table.rows:
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        officer_id = _text(values.get("officer"), MAX_ID) if roster else "officer"
        if roster and not officer_id:
            problems.append(
                {"row": number, "field": "officer", "message": "the officer id or name is empty"}
            )
            continue
        record = record_from_fields(values, number, problems, lambda f: f)
        if record is None:
            continue
        officer = officers.get(officer_id)
        if officer is None:
            if len(officers) >= max_officers:
                raise Invalid(
                    f"The file has more than {max_officers:,} officers; split it into smaller "
                    "files.",
                    [{"row": number, "field": "officer", "message": "too many officers"}],
                )
            officer = officers[officer_id] = Officer(officer_id)
        if len(officer.records) >= max_records:
            problems.append(
                {
                    "row": number,
                    "field": "officer",
                    "message": f"more than {max_records} records for one officer",
                }
            )
            continue
        officer.records.append(record)
    if problems:
        shown = problems[:200]
        raise Invalid(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the file: fix "
            "the rows below and upload it again (nothing was planned).",
            shown,
        )
    if not officers:
        raise Invalid(
            "The file has no training records below its header row.",
            [{"row": None, "field": "file", "message": "no records"}],
        )
    return list(officers.values())


def read_officers(
    data: bytes, filename: str, *, roster: bool, max_officers: int, max_records: int
) -> list[Officer]:
    """Read an uploaded transcript or roster (CSV or XLSX) into officers."""
    name = filename or "records.csv"
    if name.rsplit(".", 1)[-1].lower() not in ("csv", "xlsx"):
        raise Invalid(
            f"'{name[:80]}' is not a transcript file: upload a .csv or .xlsx file.",
            [{"row": None, "field": "file", "message": "Accepted types: CSV, XLSX."}],
        )
    limit = max_officers * max_records
    table = read_table(data, name, max_rows=limit)
    return officers_from_table(
        table, roster=roster, max_officers=max_officers, max_records=max_records
    )


def _list_of_slugs(value, name: str, problems: list[dict], allowed=None) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append({"field": f"options.{name}", "message": "must be a list of text"})
        return ()
    out = tuple(dict.fromkeys(v.strip()[:MAX_TEXT] for v in value if v.strip()))
    if allowed is not None:
        for v in out:
            if v not in allowed:
                problems.append(
                    {
                        "field": f"options.{name}",
                        "message": f"'{v[:40]}' is not a delivery mode; use "
                        + ", ".join(DELIVERY_MODES),
                    }
                )
    return out


def options_from_json(payload) -> Options:
    """Options from {"delivery": [...], "exclude_providers": [...], "prefer_providers": [...]}."""
    if payload in (None, {}):
        return Options()
    if not isinstance(payload, dict):
        raise Invalid("'options' must be an object.", [{"field": "options", "message": "object"}])
    problems: list[dict] = []
    delivery = _list_of_slugs(payload.get("delivery"), "delivery", problems, DELIVERY_MODES)
    exclude = _list_of_slugs(payload.get("exclude_providers"), "exclude_providers", problems)
    prefer = _list_of_slugs(payload.get("prefer_providers"), "prefer_providers", problems)
    if problems:
        raise Invalid(problems[0]["message"], problems)
    return Options(delivery, frozenset(exclude), frozenset(prefer))


def officers_from_json(payload, *, max_officers: int, max_records: int) -> list[Officer]:
    """Officers from the API's "officers" list; Invalid naming every bad field."""
    if not isinstance(payload, list) or not payload:
        raise Invalid(
            '\'officers\' must be a non-empty list of {"id", "records": [...]}.',
            [{"field": "officers", "message": "a non-empty list is required"}],
        )
    if len(payload) > max_officers:
        raise Invalid(
            f"At most {max_officers:,} officers per request.",
            [{"field": "officers", "message": f"more than {max_officers:,} officers"}],
        )
    problems: list[dict] = []
    officers = []
    for n, item in enumerate(payload):
        if not isinstance(item, dict):
            problems.append({"field": f"officers[{n}]", "message": "must be an object"})
            continue
        officer_id = item.get("id", str(n + 1))
        if not isinstance(officer_id, str | int) or isinstance(officer_id, bool):
            problems.append({"field": f"officers[{n}].id", "message": "must be text"})
            continue
        records = item.get("records")
        if not isinstance(records, list):
            problems.append({"field": f"officers[{n}].records", "message": "must be a list"})
            continue
        if len(records) > max_records:
            problems.append(
                {
                    "field": f"officers[{n}].records",
                    "message": f"at most {max_records} records per officer",
                }
            )
            continue
        officer = Officer(_text(officer_id, MAX_ID) or str(n + 1))
        for k, values in enumerate(records):
            if not isinstance(values, dict):
                problems.append(
                    {"field": f"officers[{n}].records[{k}]", "message": "must be an object"}
                )
                continue
            record = record_from_fields(
                values, None, problems, lambda f, n=n, k=k: f"officers[{n}].records[{k}].{f}"
            )
            if record is not None:
                officer.records.append(record)
        officers.append(officer)
    if problems:
        for p in problems:
            p.pop("row", None)
        raise Invalid(f"{problems[0]['field']}: {problems[0]['message']}", problems)
    return officers
