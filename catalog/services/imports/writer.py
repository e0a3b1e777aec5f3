"""Writing checked catalog rows: new courses in bulk, changed ones through the ORM.

Runs inside the caller's transaction and only flushes, so the caller's single commit (or its
rollback on any exception) makes the whole catalog appear at once or not at all. New courses go
in one statement per chunk for courses, categories and audit entries, because a 50,000-row
catalog through ORM unit-of-work would be many times slower: multi-row INSERT ... RETURNING on
SQLite, and on PostgreSQL ids drawn from the sequence in one query and then COPY, which is ~5x
faster there than psycopg's executemany or a 20,000-placeholder VALUES list (measured with
bench/import_catalog.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from catalog.models import AuditEntry, Course, CourseCategory
from catalog.models.types import format_hours, utcnow
from catalog.services import audit, revisions
from catalog.services.courses import (
    content_hash,
    course_categories,
    normalise_title,
    set_course_categories,
    snapshot,
)
from catalog.services.imports.rows import Context, PreparedRow, course_fields
from catalog.services.suggesting import apply_suggestion, headline, suggested_rows

WRITE_CHUNK = 1000


def _course_values(row: PreparedRow, provider, jurisdiction, catalog_id, now) -> dict:
    fields = course_fields(row.values)
    score, confident = headline(row.suggestion)
    return {
        **fields,
        "provider_id": provider.id,
        "jurisdiction_id": jurisdiction.id,
        "catalog_id": catalog_id,
        "normalised_title": normalise_title(fields["title"]),
        "status": "pending",
        "version": 1,
        "content_hash": content_hash(fields),
        "suggestion": row.suggestion,
        "suggestion_score": score,
        "suggestion_confident": confident,
        "suggested_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _copy(session, model, rows: list[dict]) -> None:
    """PostgreSQL COPY of `rows` (dicts with the same keys) into `model`'s table, in the session's
    transaction; each value goes through its column type's bind processing (JSON, hours ...)."""
    table = model.__table__
    defaults = {
        c.name: c.default
        for c in table.columns  # what INSERT would fill in Python
        if c.name not in rows[0] and c.default is not None and not c.default.is_sequence
    }
    names = [*rows[0], *defaults]
    if defaults:
        fixed = {name: d.arg if d.is_scalar else d.arg(None) for name, d in defaults.items()}
        rows = [{**row, **fixed} for row in rows]
    dialect = session.get_bind().dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    session.flush()  # rows written so far through the ORM come first (foreign keys)
    driver = session.connection().connection.driver_connection
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    with (
        driver.cursor() as cursor,
        cursor.copy(
            f"COPY {dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    proc(row[n]) if proc else row[n]
                    for n, proc in zip(names, processors, strict=True)
                ]
            )


def _insert_many(session, model, rows: list[dict]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, model, rows)
    else:
        session.execute(insert(model), rows)


def _insert_courses(session, values: list[dict]) -> list[int]:
    """Insert new course rows; their ids in the same order."""
    if session.get_bind().dialect.name != "postgresql":
        return session.scalars(
            insert(Course).returning(Course.id, sort_by_parameter_order=True), values
        ).all()
    sequence = func.pg_get_serial_sequence(Course.__tablename__, "id")
    ids = session.scalars(
        select(func.nextval(sequence)).select_from(func.generate_series(1, len(values)))
    ).all()
    _copy(
        session,
        Course,
        [{"id": course_id, **row} for course_id, row in zip(ids, values, strict=True)],
    )
    return ids


def _insert_new(
    session,
    rows: list[PreparedRow],
    ctx: Context,
    provider,
    jurisdiction,
    *,
    catalog_id,
    user,
    actor,
    now,
) -> None:
    values = [_course_values(r, provider, jurisdiction, catalog_id, now) for r in rows]
    ids = _insert_courses(session, values)
    categories, entries = [], []
    by_slug = ctx.categories
    for row, course_id in zip(rows, ids, strict=True):
        row.course_id = course_id
        for suggested in suggested_rows(row.suggestion, by_slug):
            categories.append(
                {
                    "course_id": course_id,
                    "category_id": by_slug[suggested.slug].id,
                    "source": "suggested",
                    "hours": suggested.hours,
                    "score": suggested.score,
                    "confident": suggested.confident,
                    "evidence": suggested.evidence,
                }
            )
        for slug, hours in row.values.get("area_hours", {}).items():
            categories.append(
                {
                    "course_id": course_id,
                    "category_id": ctx.areas[slug].id,
                    "source": "proposed",
                    "hours": Decimal(hours),
                    "score": None,
                    "confident": False,
                    "evidence": [],
                }
            )
        for slug in row.values.get("topics", []):
            categories.append(
                {
                    "course_id": course_id,
                    "category_id": ctx.topics[slug].id,
                    "source": "proposed",
                    "hours": None,
                    "score": None,
                    "confident": False,
                    "evidence": [],
                }
            )
        entries.append(
            {
                "at": now,
                "user_id": getattr(user, "id", None),
                "actor": actor,
                "action": "import-create",
                "entity_type": "course",
                "entity_id": course_id,
                "course_id": course_id,
                "before": {},
                "after": {
                    "title": row.values["title"],
                    "hours": row.values["hours"],
                    "status": "pending",
                    "catalog_id": catalog_id,
                },
                "note": f"Created from catalog row {row.row_number}",
            }
        )
    _insert_many(session, CourseCategory, categories)
    _insert_many(session, AuditEntry, entries)


def _proposal_same(course: Course, values: dict) -> bool:
    """No new proposal in the row (absent means keep), or the same as the course's."""
    if not (values.get("area_hours") or values.get("topics")):
        return True
    areas, topics = course_categories(course, "proposed")
    wanted = {s: Decimal(h) for s, h in values.get("area_hours", {}).items()}
    return wanted == areas and sorted(values.get("topics", [])) == topics


def _update_changed(
    session, rows: list[PreparedRow], ctx: Context, *, catalog_id, user, actor, now
) -> int:
    """Apply changed rows; returns how many approved courses keep their published version while
    the change waits for review (see services/revisions.py)."""
    courses = {
        c.id: c
        for c in session.scalars(
            select(Course)
            .where(Course.id.in_([r.course_id for r in rows]))
            .options(selectinload(Course.categories).selectinload(CourseCategory.category))
        )
    }
    categories = ctx.categories
    held = 0
    for row in rows:
        course = courses[row.course_id]
        fields = course_fields(row.values)
        if revisions.can_wait(course, fields, _proposal_same(course, row.values)):
            revisions.hold(
                session,
                course,
                fields,
                row.suggestion,
                user=user,
                actor=actor,
                catalog_id=catalog_id,
                now=now,
            )
            held += 1
            continue
        course.revision, course.revision_at = None, None  # the whole course goes to review
        before = {
            **snapshot(course),
            "title": course.title,
            "hours": format_hours(course.hours),
            "delivery": course.delivery,
        }
        for name, value in fields.items():
            setattr(course, name, value)
        course.normalised_title = normalise_title(fields["title"])
        course.content_hash = content_hash(fields)
        course.catalog_id = catalog_id
        course.status = "pending"
        if row.values.get("area_hours") or row.values.get("topics"):
            areas = {s: Decimal(h) for s, h in row.values.get("area_hours", {}).items()}
            set_course_categories(
                course, "proposed", areas, row.values.get("topics", []), categories
            )
        apply_suggestion(course, row.suggestion, categories)
        audit.record(
            session,
            action="import-update",
            entity_type="course",
            entity_id=course.id,
            course_id=course.id,
            user=user,
            actor=actor,
            before=before,
            after={
                "title": course.title,
                "hours": row.values["hours"],
                "delivery": course.delivery,
                "status": "pending",
                "catalog_id": catalog_id,
            },
            note=f"Changed by catalog row {row.row_number}; sent back to review",
        )
    session.flush()
    return held


def write_rows(
    session,
    provider,
    jurisdiction,
    rows: list[PreparedRow],
    ctx: Context,
    *,
    catalog_id: int | None = None,
    user=None,
    actor: str = "import",
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Create the new and update the changed courses of checked, error-free rows; counts back."""
    if any(r.errors for r in rows):
        raise ValueError("write_rows needs rows without errors")
    actor = getattr(user, "email", None) or actor
    now = utcnow()
    new = [r for r in rows if r.change == "new"]
    changed = [r for r in rows if r.change == "changed"]
    for start in range(0, len(new), WRITE_CHUNK):
        chunk = new[start : start + WRITE_CHUNK]
        _insert_new(
            session,
            chunk,
            ctx,
            provider,
            jurisdiction,
            catalog_id=catalog_id,
            user=user,
            actor=actor,
            now=now,
        )
        if progress:
            progress(len(chunk))
    held = 0
    for start in range(0, len(changed), WRITE_CHUNK):
        chunk = changed[start : start + WRITE_CHUNK]
        held += _update_changed(
            session, chunk, ctx, catalog_id=catalog_id, user=user, actor=actor, now=now
        )
        if progress:
            progress(len(chunk))
    session.flush()
    return {
        "rows": len(rows),
        "created": len(new),
        "updated": len(changed),
        "unchanged": sum(1 for r in rows if r.change == "unchanged"),
        "kept_published": held,
    }
