"""Catalog submissions: the upload -> column choice -> preview -> confirm workflow of a draft
(CatalogSubmission with its CatalogRows). Functions flush and never commit; the view commits once,
so a confirm is all or nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import defer

from catalog.models import CatalogRow, CatalogSubmission, Course
from catalog.models.types import utcnow
from catalog.services import audit
from catalog.services.errors import Invalid
from catalog.services.imports.columns import guess_column_map, missing_required
from catalog.services.imports.direct import prepare
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


def create_submission(
    session,
    provider,
    user,
    table: Table,
    ctx: Context,
    *,
    filename: str,
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
        if not table.rows:  # a header only: nothing to keep (an empty insert is no insert)
            return catalog
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
    jurisdiction = ctx.jurisdiction
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
    """True while the draft's columns for a required field are unknown."""
    return bool(missing_required(catalog.column_map or {}))


def apply_column_map(session, catalog: CatalogSubmission, column_map: dict, ctx: Context) -> None:
    """Use the user's column choices and parse the stored raw rows (no new upload needed)."""
    missing = missing_required(column_map)
    if missing:
        raise Invalid(
            "Choose a column for: " + ", ".join(missing),
            [{"row": 1, "field": f, "message": "required"} for f in missing],
        )
    catalog.column_map = column_map
    refresh(session, catalog, ctx, resuggest=True)


def refresh(session, catalog: CatalogSubmission, ctx: Context, *, resuggest: bool = False) -> None:
    """Re-parse and re-check every row of a draft (after mapping, dropping or editing a row)."""
    jurisdiction = ctx.jurisdiction
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
        suggest_rows(
            session, jurisdiction, list(prepared.values()), engine_max_stale=ctx.engine_max_stale
        )
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


def set_dropped(
    session, catalog: CatalogSubmission, row_ids: list[int], dropped: bool, ctx: Context
) -> int:
    """Drop (or restore) rows of a draft; returns how many changed."""
    result = session.execute(
        update(CatalogRow)
        .where(CatalogRow.catalog_id == catalog.id, CatalogRow.id.in_(row_ids))
        .values(dropped=dropped)
        .execution_options(synchronize_session="fetch")
    )
    refresh(session, catalog, ctx)
    return result.rowcount


def set_proposal(
    session,
    catalog: CatalogSubmission,
    row: CatalogRow,
    area_hours: str,
    topics: str,
    ctx: Context,
) -> None:
    """Replace one row's proposed area hours and topics (kept beside the engine's suggestion)."""
    data = dict(row.data or {})
    data["_overrides"] = {"area_hours": area_hours.strip(), "topics": topics.strip()}
    row.data = data
    session.flush()
    refresh(session, catalog, ctx)


def error_rows_count(session, catalog_id: int) -> int:
    """How many kept rows of a draft still have errors."""
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
    ctx: Context,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Import a draft's kept rows in the caller's transaction; refuse while any kept row has errors."""
    if catalog.status != "draft":
        return catalog.summary  # confirming twice changes nothing
    if needs_mapping(catalog):
        raise Invalid("Choose which columns hold the title and the hours first.")
    refresh(session, catalog, ctx)
    if error_rows_count(session, catalog.id):
        raise Invalid("Some rows still have errors: fix them in a new upload or drop them.")
    jurisdiction = ctx.jurisdiction
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


# -- what the preview shows, and discarding ------------------------------------------------------

ROW_KINDS = ("all", "errors", "new", "changed", "unchanged", "dropped")


def row_counts(session, catalog_id: int) -> dict[str, int]:
    """How many rows of the draft are in each of ROW_KINDS (a dropped row counts as dropped only,
    a kept row with errors as errors only)."""
    counts = dict.fromkeys(ROW_KINDS, 0)
    grouped = session.execute(
        select(
            CatalogRow.change, CatalogRow.dropped, CatalogRow.error_count, func.count(CatalogRow.id)
        )
        .where(CatalogRow.catalog_id == catalog_id)
        .group_by(CatalogRow.change, CatalogRow.dropped, CatalogRow.error_count)
    ).all()
    for change, dropped, has_errors, n in grouped:
        counts["all"] += n
        if dropped:
            counts["dropped"] += n
        elif has_errors:
            counts["errors"] += n
        elif change in counts:
            counts[change] += n
    return counts


def rows_query(catalog_id: int, show: str):
    """The select of the draft's rows of one kind (ROW_KINDS), in the order the preview lists
    them: "all" puts errors first, so a long file shows its problems on page 1."""
    query = select(CatalogRow).where(CatalogRow.catalog_id == catalog_id)
    if show == "errors":
        query = query.where(CatalogRow.error_count > 0, CatalogRow.dropped.is_(False))
    elif show == "dropped":
        query = query.where(CatalogRow.dropped.is_(True))
    elif show in ("new", "changed", "unchanged"):
        query = query.where(
            CatalogRow.change == show, CatalogRow.dropped.is_(False), CatalogRow.error_count == 0
        )
    if show == "all":
        return query.order_by(
            CatalogRow.dropped, (CatalogRow.error_count > 0).desc(), CatalogRow.row_number
        )
    return query.order_by(CatalogRow.row_number)


def missing_from_file(
    session, catalog: CatalogSubmission, limit: int = MISSING_LISTED
) -> tuple[int, list[Course]]:
    """The provider's courses a draft's kept rows do not mention: how many, and the first `limit`
    by title. A confirmed submission keeps only the count, in its summary."""
    if catalog.status != "draft":
        return (catalog.summary or {}).get("missing", 0), []
    matched = select(CatalogRow.course_id).where(
        CatalogRow.catalog_id == catalog.id,
        CatalogRow.dropped.is_(False),
        CatalogRow.course_id.is_not(None),
    )
    missing = select(Course).where(
        Course.provider_id == catalog.provider_id, Course.id.not_in(matched)
    )
    count = session.scalar(select(func.count()).select_from(missing.subquery())) or 0
    return count, list(session.scalars(missing.order_by(Course.title).limit(limit)))


def discard(session, catalog: CatalogSubmission, user) -> None:
    """Discard a draft (nothing of it is imported), audited."""
    if catalog.status != "draft":
        raise Invalid("Only a draft can be discarded.")
    catalog.status = "discarded"
    audit.record(
        session,
        action="catalog-discard",
        entity_type="catalog",
        entity_id=catalog.id,
        user=user,
        before={"status": "draft"},
        after={"status": "discarded", "filename": catalog.filename},
    )
    session.flush()
