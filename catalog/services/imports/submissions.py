"""Catalog submissions: one-shot imports (CLI, API) and the upload -> preview -> confirm workflow.

Functions flush and never commit; the view or command commits once, so a confirm is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import defer

from catalog.models import CatalogRow, CatalogSubmission, Course
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.errors import Invalid
from catalog.services.imports.files import Table, guess_column_map, missing_required
from catalog.services.imports.rows import (
    Context,
    PreparedRow,
    check_rows,
    load_context,
    load_existing,
    missing_courses,
    near_duplicates,
    parse_row,
    suggest_rows,
)
from catalog.services.imports.writer import write_rows
from catalog.services.suggesting import default_jurisdiction

MISSING_LISTED = 50


@dataclass
class ImportReport:
    catalog_id: int | None
    rows: list[PreparedRow]
    summary: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    column_map: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "catalog_id": self.catalog_id,
            "rows": len(self.rows),
            "created": self.summary.get("created", 0),
            "updated": self.summary.get("updated", 0),
            "unchanged": self.summary.get("unchanged", 0),
            "missing": self.summary.get("missing", 0),
            "errors": [
                {"row": e.get("row"), "field": e["field"], "message": e["message"]}
                for e in self.errors
            ],
        }


def _column_map_or_fail(table: Table) -> dict:
    column_map = guess_column_map(table.headers)
    missing = missing_required(column_map)
    if missing:
        raise Invalid(
            "Could not find the column(s) " + ", ".join(missing) + " in the header row "
            f"({', '.join(h for h in table.headers if h) or 'empty'}). Name them e.g. "
            "'title' and 'hours' (Course Title, Course Name, Length (hrs) and Credit Hours work too).",
            [{"row": 1, "field": f, "message": f"no column for {f}"} for f in missing],
        )
    return column_map


def prepare(
    session,
    provider,
    jurisdiction,
    table: Table,
    column_map: dict,
    ctx: Context,
    *,
    preview: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[PreparedRow], list]:
    """Parse, check against the file and the provider's courses, and suggest; rows + existing."""
    rows = [parse_row(n, cells, column_map, ctx) for n, cells in table.rows]
    existing = load_existing(session, provider.id)
    check_rows(rows, existing)
    suggest_rows(session, jurisdiction, rows, only_needed=not preview, progress=progress)
    if preview:
        titles = dict(
            session.execute(
                select(Course.id, Course.title).where(Course.provider_id == provider.id)
            ).all()
        )
        near_duplicates(rows, titles)
    return rows, existing


def import_table(
    session,
    provider,
    table: Table,
    *,
    dry_run: bool = False,
    user=None,
    actor: str = "import",
    source: str = "cli",
    filename: str = "",
    max_cell_chars: int = 5000,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """All-or-nothing import of a whole table (CLI and API). Raises Invalid listing every row
    error, after which the caller rolls back; with dry_run nothing is added to the session."""
    jurisdiction = default_jurisdiction(session)
    ctx = load_context(session, jurisdiction, max_cell_chars)
    column_map = _column_map_or_fail(table)
    step = (lambda n: progress("suggest", n)) if progress else None
    rows, existing = prepare(
        session, provider, jurisdiction, table, column_map, ctx, preview=dry_run, progress=step
    )
    errors = [e for r in rows for e in r.errors]
    missing = missing_courses(existing, rows)
    report = ImportReport(None, rows, errors=errors, column_map=column_map)
    report.summary = {
        "rows": len(rows),
        "created": sum(r.change == "new" for r in rows),
        "updated": sum(r.change == "changed" for r in rows),
        "unchanged": sum(r.change == "unchanged" for r in rows),
        "missing": len(missing),
    }
    if errors:
        exc = Invalid(
            f"{len(errors)} problem(s) in {len({e['row'] for e in errors})} row(s); "
            "nothing was imported.",
            errors,
        )
        exc.report = report  # the API answers 422 with the same counts as a 201
        raise exc
    if dry_run:
        return report
    catalog = CatalogSubmission(
        provider_id=provider.id,
        uploaded_by_id=getattr(user, "id", None),
        filename=filename[:255],
        source=source,
        file_format=table.file_format,
        status="confirmed",
        column_map=column_map,
        headers=list(table.headers),
    )
    session.add(catalog)
    session.flush()
    write = (lambda n: progress("write", n)) if progress else None
    counts = write_rows(
        session,
        provider,
        jurisdiction,
        rows,
        ctx,
        catalog_id=catalog.id,
        user=user,
        actor=actor,
        progress=write,
    )
    catalog.summary = {**report.summary, **counts, "missing": len(missing)}
    catalog.confirmed_at = utcnow()
    report.catalog_id = catalog.id
    report.summary = catalog.summary
    session.flush()
    return report


# -- upload -> preview -> confirm --------------------------------------------------------------


def create_submission(
    session,
    provider,
    user,
    table: Table,
    *,
    filename: str,
    max_cell_chars: int = 5000,
    source: str = "upload",
) -> CatalogSubmission:
    """Store an uploaded file as a draft: raw rows always; parsed rows when the columns are known."""
    catalog = CatalogSubmission(
        provider_id=provider.id,
        uploaded_by_id=getattr(user, "id", None),
        filename=filename[:255],
        source=source,
        file_format=table.file_format,
        status="draft",
        column_map=guess_column_map(table.headers),
        headers=list(table.headers),
    )
    session.add(catalog)
    session.flush()
    if missing_required(catalog.column_map):
        session.execute(
            CatalogRow.__table__.insert(),
            [
                {
                    "catalog_id": catalog.id,
                    "row_number": n,
                    "raw": cells,
                    "data": {},
                    "errors": [],
                    "suggestion": {},
                    "notes": [],
                    "error_count": 0,
                    "dropped": False,
                    "change": "",
                }
                for n, cells in table.rows
            ],
        )
        return catalog
    jurisdiction = default_jurisdiction(session)
    ctx = load_context(session, jurisdiction, max_cell_chars)
    rows, _ = prepare(session, provider, jurisdiction, table, catalog.column_map, ctx, preview=True)
    raw = dict(table.rows)
    if rows:
        session.execute(
            CatalogRow.__table__.insert(),
            [_row_record(catalog.id, r, raw[r.row_number]) for r in rows],
        )
    return catalog


def _row_record(catalog_id: int, row: PreparedRow, cells: list[str]) -> dict:
    return {
        "catalog_id": catalog_id,
        "row_number": row.row_number,
        "raw": cells,
        "data": row.values,
        "errors": row.errors,
        "error_count": len(row.errors),
        "suggestion": row.suggestion,
        "notes": row.notes,
        "dropped": False,
        "change": row.change,
        "course_id": row.course_id,
    }


def needs_mapping(catalog: CatalogSubmission) -> bool:
    return bool(missing_required(catalog.column_map or {}))


def apply_column_map(
    session, catalog: CatalogSubmission, column_map: dict, max_cell_chars: int = 5000
) -> None:
    """Use the user's column choices and parse the stored raw rows (no new upload needed)."""
    missing = missing_required(column_map)
    if missing:
        raise Invalid(
            "Choose a column for: " + ", ".join(missing),
            [{"row": 1, "field": f, "message": "required"} for f in missing],
        )
    catalog.column_map = column_map
    refresh(session, catalog, max_cell_chars, resuggest=True)


def refresh(
    session, catalog: CatalogSubmission, max_cell_chars: int = 5000, *, resuggest: bool = False
) -> None:
    """Re-parse and re-check every row of a draft (after mapping, dropping or editing a row)."""
    jurisdiction = default_jurisdiction(session)
    ctx = load_context(session, jurisdiction, max_cell_chars)
    query = (
        select(CatalogRow)
        .where(CatalogRow.catalog_id == catalog.id)
        .order_by(CatalogRow.row_number)
        .execution_options(populate_existing=True)
    )
    if not resuggest:
        query = query.options(defer(CatalogRow.suggestion))
    stored = session.scalars(query).all()
    prepared = {}
    for s in stored:
        p = parse_row(
            s.row_number, s.raw, catalog.column_map, ctx, overrides=(s.data or {}).get("_overrides")
        )
        if s.data and s.data.get("_overrides"):
            p.values["_overrides"] = s.data["_overrides"]
        prepared[s.id] = p
    live = [prepared[s.id] for s in stored if not s.dropped]
    existing = load_existing(session, catalog.provider_id)
    check_rows(live, existing)
    if resuggest:
        suggest_rows(session, jurisdiction, list(prepared.values()))
        titles = dict(
            session.execute(
                select(Course.id, Course.title).where(Course.provider_id == catalog.provider_id)
            ).all()
        )
        near_duplicates(live, titles)
    for s in stored:
        p = prepared[s.id]
        changes = {
            "data": p.values,
            "errors": p.errors,
            "error_count": len(p.errors),
            "change": p.change,
            "course_id": p.course_id,
        }
        if resuggest:
            changes.update(suggestion=p.suggestion, notes=p.notes)
        for name, value in changes.items():
            if getattr(s, name) != value:
                setattr(s, name, value)
    session.flush()


def set_dropped(session, catalog: CatalogSubmission, row_ids: list[int], dropped: bool) -> int:
    """Drop (or restore) rows of a draft; returns how many changed."""
    result = session.execute(
        update(CatalogRow)
        .where(CatalogRow.catalog_id == catalog.id, CatalogRow.id.in_(row_ids))
        .values(dropped=dropped)
        .execution_options(synchronize_session="fetch")
    )
    refresh(session, catalog)
    return result.rowcount


def set_proposal(
    session,
    catalog: CatalogSubmission,
    row: CatalogRow,
    area_hours: str,
    topics: str,
    max_cell_chars: int = 5000,
) -> None:
    """Replace one row's proposed area hours and topics (kept beside the engine's suggestion)."""
    data = dict(row.data or {})
    data["_overrides"] = {"area_hours": area_hours.strip(), "topics": topics.strip()}
    row.data = data
    session.flush()
    refresh(session, catalog, max_cell_chars)


def error_rows_count(session, catalog_id: int) -> int:
    return (
        session.scalar(
            select(func.count(CatalogRow.id)).where(
                CatalogRow.catalog_id == catalog_id,
                CatalogRow.dropped.is_(False),
                CatalogRow.error_count > 0,
            )
        )
        or 0
    )


def confirm_submission(
    session,
    catalog: CatalogSubmission,
    user,
    max_cell_chars: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Import a draft's kept rows in the caller's transaction; refuse while any kept row has errors."""
    if catalog.status != "draft":
        return catalog.summary  # confirming twice changes nothing
    if needs_mapping(catalog):
        raise Invalid("Choose which columns hold the title and the hours first.")
    refresh(session, catalog, max_cell_chars)
    if error_rows_count(session, catalog.id):
        raise Invalid("Some rows still have errors: fix them in a new upload or drop them.")
    jurisdiction = default_jurisdiction(session)
    ctx = load_context(session, jurisdiction, max_cell_chars)
    stored = session.scalars(
        select(CatalogRow)
        .where(CatalogRow.catalog_id == catalog.id, CatalogRow.dropped.is_(False))
        .order_by(CatalogRow.row_number)
    ).all()
    rows = [
        PreparedRow(
            s.row_number,
            {k: v for k, v in s.data.items() if k != "_overrides"},
            [],
            s.suggestion,
            s.change,
            s.course_id,
        )
        for s in stored
    ]
    missing = missing_courses(load_existing(session, catalog.provider_id), rows)
    provider = catalog.provider
    counts = write_rows(
        session,
        provider,
        jurisdiction,
        rows,
        ctx,
        catalog_id=catalog.id,
        user=user,
        progress=progress,
    )
    for s, r in zip(stored, rows, strict=True):
        if s.course_id != r.course_id:
            s.course_id = r.course_id
    missing_titles = session.scalars(
        select(Course.title).where(Course.id.in_(missing[:MISSING_LISTED])).order_by(Course.title)
    ).all()
    catalog.summary = {
        **counts,
        "missing": len(missing),
        "missing_titles": list(missing_titles),
        "dropped": session.scalar(
            select(func.count(CatalogRow.id)).where(
                CatalogRow.catalog_id == catalog.id, CatalogRow.dropped.is_(True)
            )
        ),
    }
    catalog.status = "confirmed"
    catalog.confirmed_at = utcnow()
    audit.record(
        session,
        action="catalog-confirm",
        entity_type="catalog",
        entity_id=catalog.id,
        user=user,
        after=catalog.summary,
    )
    session.flush()
    return catalog.summary


def save_course(session, provider, course, raw: dict, user, max_cell_chars: int = 5000):
    """Create or edit one course from form texts with the same rules as a catalog row.

    Returns (course, change) with change new | changed | unchanged; a changed course goes back
    to review (pending) with a fresh suggestion. Raises Invalid with [{field, message}].
    """
    from catalog.services.courses import content_hash, normalise_title
    from catalog.services.imports.rows import course_fields, parse_fields

    jurisdiction = default_jurisdiction(session)
    ctx = load_context(session, jurisdiction, max_cell_chars)
    values, errors = parse_fields(raw, ctx)
    row = PreparedRow(0, values, [{"row": None, **e} for e in errors])
    if not errors:
        others = select(Course).where(Course.provider_id == provider.id)
        if course is not None:
            others = others.where(Course.id != course.id)
        key = normalise_title(values["title"])
        if session.scalar(others.where(Course.normalised_title == key).limit(1)):
            row.errors.append(
                {
                    "row": None,
                    "field": "title",
                    "message": "You already have a course with this title.",
                }
            )
        code = values.get("provider_code")
        if code and session.scalar(
            others.where(func.lower(Course.provider_code) == code.lower()).limit(1)
        ):
            row.errors.append(
                {
                    "row": None,
                    "field": "provider_code",
                    "message": "You already have a course with this code.",
                }
            )
    if row.errors:
        raise Invalid("Please correct the marked fields.", row.errors)
    if course is None:
        row.change = "new"
    else:
        row.course_id = course.id
        existing = {e.id: e for e in load_existing(session, provider.id)}[course.id]
        proposal_same = dict(values.get("area_hours") or {}) == existing.proposed.get(
            "areas", {}
        ) and sorted(values.get("topics") or []) == sorted(existing.proposed.get("topics", []))
        same = existing.content_hash == content_hash(course_fields(values)) and proposal_same
        row.change = "unchanged" if same else "changed"
    if row.change == "unchanged":
        return course, "unchanged"
    if course is not None and not (values.get("area_hours") or values.get("topics")):
        # the form shows every proposal, so an empty one means "withdraw my proposal"
        course.categories[:] = [c for c in course.categories if c.source != "proposed"]
        session.flush()
    suggest_rows(session, jurisdiction, [row])
    write_rows(session, provider, jurisdiction, [row], ctx, user=user)
    saved = session.get(Course, row.course_id)
    return saved, row.change
