"""Direct imports, without a draft: a whole table at once (CLI and API; all rows or none) and one
course from the provider's form, with the same rules as a catalog row. Functions flush, never
commit; the command or view commits once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from catalog.models import CatalogSubmission, Course
from catalog.models.types import utcnow
from catalog.services.errors import Invalid
from catalog.services.imports.columns import guess_column_map, missing_required
from catalog.services.imports.files import Table
from catalog.services.imports.matching import (
    check_rows,
    load_existing,
    missing_courses,
    near_duplicates,
)
from catalog.services.imports.rows import Context, PreparedRow, parse_row, suggest_rows
from catalog.services.imports.writer import write_rows

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
    rows = []
    for i, (n, cells) in enumerate(table.rows, start=1):
        ctx.deadline.every(i)
        rows.append(parse_row(n, cells, column_map, ctx))
    existing = load_existing(session, provider.id)
    check_rows(rows, existing)
    ctx.deadline.check()
    suggest_rows(
        session,
        jurisdiction,
        rows,
        only_needed=not preview,
        progress=progress,
        deadline=ctx.deadline,
        engine_max_stale=ctx.engine_max_stale,
    )
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
    ctx: Context,
    *,
    dry_run: bool = False,
    user=None,
    actor: str = "import",
    source: str = "cli",
    filename: str = "",
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """All-or-nothing import of a whole table (CLI and API). Raises Invalid listing every row
    error, after which the caller rolls back; with dry_run nothing is added to the session."""
    jurisdiction = ctx.jurisdiction
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


def save_course(session, provider, course, raw: dict, user, ctx: Context):
    """Create or edit one course from form texts with the same rules as a catalog row.

    Returns (course, change) with change new | changed | unchanged; a changed course goes back
    to review (pending) with a fresh suggestion. Raises Invalid with [{field, message}].
    """
    from catalog.services.courses import content_hash, normalise_title
    from catalog.services.imports.rows import course_fields, parse_fields

    jurisdiction = ctx.jurisdiction
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
