"""Catalog import: validate rows, match them to the provider's courses, suggest, and write all or nothing.

Stages, each usable alone (the upload preview, the API, the CLI and the single-course form share them):
1. `parse_row` turns a row's cells into values and errors (the file format's rules);
2. `matching.check_rows` adds the errors that need the whole file or the database (duplicates, a title
   already used by another course) and decides new / changed / unchanged per row;
3. `suggest_rows` runs the engine once over the rows that need a suggestion (one batched call);
4. `writer.write_rows` creates and updates courses in the caller's transaction (flush, never commit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from catalog.models import (
    DELIVERY_MODES,
    LIVE_DELIVERY_MODES,
    Category,
    Jurisdiction,
)
from catalog.models.types import format_hours
from catalog.services.imports.columns import FIELDS, header_key
from catalog.services.imports.deadline import NO_DEADLINE, Deadline

QUARTER = Decimal("0.25")
MAX_HOURS = Decimal("2000")
TITLE_MAX = 500
CODE_MAX = 64
URL_MAX = 1000
SUGGEST_CHUNK = 2000
TIMED_SUGGEST_CHUNK = 250  # smaller under a deadline: the clock is read between chunks

_DELIVERY_WORDS = {
    "online": (
        "online",
        "on line",
        "self paced",
        "selfpaced",
        "web based",
        "e learning",
        "elearning",
        "computer based",
        "cbt",
        "on demand",
        "asynchronous",
        "internet",
        "distance learning",
        "online self paced",
        "self paced online",
        "web",
        "wbt",
    ),
    "in-person": (
        "in person",
        "inperson",
        "classroom",
        "class room",
        "face to face",
        "onsite",
        "on site",
        "instructor led",
        "ilt",
        "range",
        "hands on",
        "lecture",
        "in class",
        "live in person",
    ),
    "live-virtual": (
        "live virtual",
        "virtual",
        "virtual instructor led",
        "vilt",
        "webinar",
        "live online",
        "zoom",
        "synchronous online",
        "web conference",
        "video conference",
        "virtual classroom",
        "live webinar",
        "teams",
    ),
    "blended": ("blended", "hybrid", "mixed", "blended learning", "hybrid online and classroom"),
}
DELIVERY_SYNONYMS = {w: mode for mode, words in _DELIVERY_WORDS.items() for w in words}
_HOURS_RE = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?|[.,]\d+)\s*(?:h|hr|hrs|hour|hours|clee hours)?\.?\s*$", re.I
)
_LIST_SPLIT = re.compile(r"[;|\n]+")


@dataclass
class Context:
    """What validation needs to know about the jurisdiction's taxonomy and the limits."""

    areas: dict[str, Category]
    topics: dict[str, Category]
    lookup: dict[str, str]  # folded slug or name -> slug
    max_cell_chars: int = 5000
    jurisdiction: Jurisdiction | None = None  # the served one; None only in row-level unit tests
    # The upload's wall-clock bound (none for the command line) and how many seconds an engine
    # may lag behind the latest decisions before an import builds a new one (0: never).
    deadline: Deadline = field(default=NO_DEADLINE)
    engine_max_stale: float = 0.0

    @property
    def categories(self) -> dict[str, Category]:
        return {**self.areas, **self.topics}


def load_context(
    session,
    jurisdiction: Jurisdiction,
    max_cell_chars: int = 5000,
    *,
    deadline: Deadline = NO_DEADLINE,
    engine_max_stale: float = 0.0,
) -> Context:
    """The jurisdiction's categories (by slug and by folded name) and the limits, built once
    per request or command and passed to every import service."""
    categories = session.scalars(
        select(Category).where(Category.jurisdiction_id == jurisdiction.id)
    ).all()
    areas = {c.slug: c for c in categories if c.kind == "area"}
    topics = {c.slug: c for c in categories if c.kind != "area"}
    lookup = {}
    for c in categories:
        lookup[header_key(c.slug)] = c.slug
        lookup[header_key(c.name)] = c.slug
    return Context(areas, topics, lookup, max_cell_chars, jurisdiction, deadline, engine_max_stale)


@dataclass
class PreparedRow:
    """One catalog row on its way in: values, errors, and what it will do to which course."""

    row_number: int
    values: dict
    errors: list[dict] = field(default_factory=list)
    suggestion: dict = field(default_factory=dict)
    change: str = ""  # new | changed | unchanged ("" while it has errors)
    course_id: int | None = None
    notes: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# -- 1. one row ----------------------------------------------------------------------------------


def parse_hours(text: str) -> Decimal:
    """'1.5', '1,5', '2 hrs' -> Decimal; raises ValueError with the reason."""
    match = _HOURS_RE.match(text or "")
    if not match:
        raise ValueError(f"'{text}' is not a number of hours")
    try:
        hours = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"'{text}' is not a number of hours") from exc
    if hours <= 0:
        raise ValueError("must be more than 0")
    if hours > MAX_HOURS:
        raise ValueError(f"must be at most {MAX_HOURS}")
    if hours % QUARTER:
        raise ValueError(f"{text.strip()} is not in quarter hours (0.25, 0.5, 0.75 ...)")
    return hours


def parse_delivery(text: str) -> str:
    """A delivery mode from the words providers use for it (in person, online ...); blank is
    in-person, anything unknown a ValueError."""
    key = header_key(text)
    if not key:
        return "in-person"
    if text.strip().lower() in DELIVERY_MODES:
        return text.strip().lower()
    mode = DELIVERY_SYNONYMS.get(key)
    if mode is None:
        raise ValueError(
            f"'{text}' is not a delivery mode; use online, in-person, live-virtual or blended"
        )
    return mode


def parse_area_hours(text: str, ctx: Context) -> tuple[dict[str, str], list[str]]:
    """'legal-studies:1;Technical Studies: 1.5' -> ({slug: hours}, problems); areas of ctx."""
    areas: dict[str, str] = {}
    problems: list[str] = []
    for part in filter(None, (p.strip() for p in _LIST_SPLIT.split(text or ""))):
        name, sep, hours_text = part.rpartition(":") if ":" in part else (part, "", "")
        if not sep:
            example = min(ctx.areas.values(), key=lambda c: (c.sort_order, c.id), default=None)
            problems.append(
                f"'{part}' should look like area:hours (e.g. {example.slug if example else 'area'}:1)"
            )
            continue
        slug = ctx.lookup.get(header_key(name))
        if slug is None or slug not in ctx.areas:
            problems.append(f"'{name.strip()}' is not an area ({', '.join(ctx.areas)})")
            continue
        try:
            hours = parse_hours(hours_text)
        except ValueError as exc:
            problems.append(f"hours for {slug}: {exc}")
            continue
        if slug in areas:
            problems.append(f"{slug} is given twice")
            continue
        areas[slug] = format_hours(hours)
    return areas, problems


def parse_topics(text: str, ctx: Context) -> tuple[list[str], list[str]]:
    """Topic slugs from a list cell (slugs or names), and the problems with it."""
    topics: list[str] = []
    problems: list[str] = []
    for part in filter(None, (p.strip() for p in re.split(r"[;,|\n]+", text or ""))):
        slug = ctx.lookup.get(header_key(part))
        if slug is None or slug not in ctx.topics:
            problems.append(f"'{part}' is not a topic ({', '.join(ctx.topics)})")
        elif slug not in topics:
            topics.append(slug)
    return topics, problems


def cells_to_fields(cells: list[str], column_map: dict, overrides: dict | None = None) -> dict:
    """{field: cell text} for the mapped columns (missing cells are empty)."""
    out = {}
    for name in FIELDS:
        index = column_map.get(name)
        text = cells[index] if index is not None and 0 <= int(index) < len(cells) else ""
        out[name] = (text if isinstance(text, str) else str(text)).strip()
    out.update(overrides or {})
    return out


def parse_fields(raw: dict, ctx: Context) -> tuple[dict, list[dict]]:
    """Values and [{field, message}] errors for one course given as field texts (file or form)."""
    errors: list[dict] = []

    def err(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    for name, text in raw.items():
        if text and len(text) > ctx.max_cell_chars:
            err(name, f"is longer than {ctx.max_cell_chars:,} characters")
    title = " ".join((raw.get("title") or "").split())
    if not title:
        err("title", "title is missing")
    elif len(title) > TITLE_MAX:
        err("title", f"title is longer than {TITLE_MAX} characters")
    hours = None
    if not raw.get("hours"):
        err("hours", "hours are missing")
    else:
        try:
            hours = parse_hours(raw["hours"])
        except ValueError as exc:
            err("hours", f"hours {exc}" if not str(exc).startswith("'") else str(exc))
    try:
        delivery = parse_delivery(raw.get("delivery") or "")
    except ValueError as exc:
        delivery = None
        err("delivery", str(exc))
    code = raw.get("provider_code") or None
    if code and len(code) > CODE_MAX:
        err("provider_code", f"course code is longer than {CODE_MAX} characters")
    url = raw.get("url") or ""
    if url and re.match(r"^http://", url, re.I):
        err("url", "web address must use https:// (a plain http:// page is not accepted)")
    elif url and not re.match(r"^https://[^\s/]+[^\s]*$", url, re.I):
        err("url", "web address must start with https://, e.g. https://example.org/course")
    elif len(url) > URL_MAX:
        err("url", f"web address is longer than {URL_MAX} characters")
    areas, problems = parse_area_hours(raw.get("area_hours") or "", ctx)
    for problem in problems:
        err("area_hours", problem)
    topics, problems = parse_topics(raw.get("topics") or "", ctx)
    for problem in problems:
        err("topics", problem)
    if areas and hours is not None and not problems:
        total = sum((Decimal(h) for h in areas.values()), Decimal(0))
        if total != hours:
            err(
                "area_hours",
                f"area hours add up to {format_hours(total)} "
                f"but the course has {format_hours(hours)} hours",
            )
    if topics and not areas and raw.get("area_hours", "") == "":
        err("topics", "a topic counts inside an area: give area_hours as well")
    if delivery and delivery not in LIVE_DELIVERY_MODES:
        for slug in topics:
            if ctx.topics[slug].live_only:
                err("topics", f"{slug} must be taught live (in-person or blended), not {delivery}")
    values = {
        "provider_code": code,
        "title": title,
        "hours": format_hours(hours) if hours is not None else None,
        "delivery": delivery,
        "description": raw.get("description") or "",
        "objectives": raw.get("objectives") or "",
        "url": url,
        "area_hours": areas,
        "topics": topics,
    }
    return values, errors


def parse_row(
    row_number: int, cells: list[str], column_map: dict, ctx: Context, overrides: dict | None = None
) -> PreparedRow:
    """A PreparedRow from one row's cells: its values and its errors."""
    values, errors = parse_fields(cells_to_fields(cells, column_map, overrides), ctx)
    mapped = {int(i) for i in column_map.values()}
    for index, extra in enumerate(cells):
        if index not in mapped and extra and len(extra) > ctx.max_cell_chars:
            errors.append(
                {
                    "field": f"column {index + 1}",
                    "message": f"is longer than {ctx.max_cell_chars:,} characters",
                }
            )
    return PreparedRow(row_number, values, [{"row": row_number, **e} for e in errors])


def course_fields(values: dict) -> dict:
    """Course column values from parsed row values."""
    return {
        "title": values["title"],
        "hours": Decimal(values["hours"]),
        "delivery": values["delivery"],
        "description": values.get("description") or "",
        "objectives": values.get("objectives") or "",
        "url": values.get("url") or "",
        "provider_code": values.get("provider_code") or None,
    }


# -- 3. suggestions ------------------------------------------------------------------------------


def suggest_rows(
    session,
    jurisdiction,
    rows: list[PreparedRow],
    *,
    only_needed: bool = False,
    progress: Callable[[int], None] | None = None,
    deadline: Deadline = NO_DEADLINE,
    engine_max_stale: float = 0.0,
) -> None:
    """Store the engine's suggestion on each row with a title: batched (chunks bound memory),
    the deadline checked before each chunk (TimeLimit when the time is up)."""
    from catalog.services.suggesting import course_input, get_engine

    todo = [
        r
        for r in rows
        if r.values.get("title") and (not only_needed or r.change in ("new", "changed"))
    ]
    if not todo:
        return
    engine = get_engine(session, jurisdiction, max_stale=engine_max_stale)
    chunk_size = SUGGEST_CHUNK if deadline.at is None else TIMED_SUGGEST_CHUNK
    for start in range(0, len(todo), chunk_size):
        deadline.check()
        chunk = todo[start : start + chunk_size]
        results = engine.suggest_many([course_input(r.values) for r in chunk])
        for row, result in zip(chunk, results, strict=True):
            row.suggestion = result.to_dict()
        if progress:
            progress(len(chunk))
