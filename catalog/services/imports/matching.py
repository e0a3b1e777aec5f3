"""Import stage 2: the rows of a file checked against each other and against the provider's
courses in the database: duplicates, a title already used by another course, near-duplicate
titles, and per row whether it is new, changed or unchanged (and which courses the file misses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from catalog.models import (
    Category,
    Course,
    CourseCategory,
)
from catalog.models.types import format_hours
from catalog.services.courses import content_hash, normalise_title
from catalog.services.imports.rows import PreparedRow, course_fields


@dataclass
class Existing:
    id: int
    code: str | None
    key: str
    content_hash: str
    proposed: dict = field(default_factory=dict)  # {"areas": {slug: hours}, "topics": [...]}


def load_existing(session, provider_id: int) -> list[Existing]:
    """The provider's courses, light: identity, content hash and proposed categories (2 queries)."""
    rows = session.execute(
        select(Course.id, Course.provider_code, Course.normalised_title, Course.content_hash).where(
            Course.provider_id == provider_id
        )
    ).all()
    existing = {
        r.id: Existing(r.id, r.provider_code, r.normalised_title, r.content_hash) for r in rows
    }
    props = session.execute(
        select(CourseCategory.course_id, Category.slug, Category.kind, CourseCategory.hours)
        .join(Category, Category.id == CourseCategory.category_id)
        .join(Course, Course.id == CourseCategory.course_id)
        .where(Course.provider_id == provider_id, CourseCategory.source == "proposed")
    ).all()
    for course_id, slug, kind, hours in props:
        p = existing[course_id].proposed
        if kind == "area":
            p.setdefault("areas", {})[slug] = format_hours(hours or 0)
        else:
            p.setdefault("topics", []).append(slug)
    return list(existing.values())


def _proposal(values: dict) -> dict:
    out = {}
    if values.get("area_hours"):
        out["areas"] = dict(values["area_hours"])
    if values.get("topics"):
        out["topics"] = sorted(values["topics"])
    return out


def check_rows(rows: list[PreparedRow], existing: list[Existing]) -> None:
    """Duplicates within the file, conflicts with other courses, and new/changed/unchanged."""
    seen_code: dict[str, int] = {}
    seen_key: dict[str, int] = {}
    by_code = {e.code.casefold(): e for e in existing if e.code}
    by_key = {e.key: e for e in existing}
    for row in rows:
        v = row.values
        code = (v.get("provider_code") or "").casefold()
        key = normalise_title(v.get("title") or "")
        if code and code in seen_code:
            row.errors.append(
                {
                    "row": row.row_number,
                    "field": "provider_code",
                    "message": f"Duplicate of row {seen_code[code]}: same course code",
                }
            )
        elif key and key in seen_key:
            row.errors.append(
                {
                    "row": row.row_number,
                    "field": "title",
                    "message": f"Duplicate of row {seen_key[key]}: same title",
                }
            )
        if code:
            seen_code.setdefault(code, row.row_number)
        if key:
            seen_key.setdefault(key, row.row_number)
        row.change, row.course_id = "", None
        if not key or not v.get("hours"):
            continue
        match = by_code.get(code) if code else None
        same_title = by_key.get(key)
        if match is None and same_title is not None:
            if same_title.code and code and same_title.code.casefold() != code:
                row.errors.append(
                    {
                        "row": row.row_number,
                        "field": "title",
                        "message": f"Another of your courses (code {same_title.code}) "
                        "already has this title; use that code or another title",
                    }
                )
                continue
            match = same_title
        elif match is not None and same_title is not None and same_title.id != match.id:
            row.errors.append(
                {
                    "row": row.row_number,
                    "field": "title",
                    "message": "Another of your courses already has this title",
                }
            )
            continue
        if row.errors:
            continue
        if match is None:
            row.change = "new"
            continue
        row.course_id = match.id
        unchanged = match.content_hash == content_hash(course_fields(v)) and (
            not _proposal(v)
            or _proposal(v)
            == {k: (sorted(x) if k == "topics" else x) for k, x in match.proposed.items()}
        )
        row.change = "unchanged" if unchanged else "changed"


def missing_courses(existing: list[Existing], rows: list[PreparedRow]) -> list[int]:
    """Ids of the provider's courses that no row of this file matches."""
    matched = {r.course_id for r in rows if r.course_id}
    return [e.id for e in existing if e.id not in matched]


def near_duplicates(
    rows: list[PreparedRow],
    existing_titles: dict[int, str],
    *,
    cutoff: int = 90,
    max_pairs: int = 30_000_000,
) -> None:
    """Point out near-identical titles within the file and against the provider's other courses,
    with one rapidfuzz cdist call over normalised titles (skipped when too large to be quick)."""
    from rapidfuzz import fuzz, process

    queries = [normalise_title(r.values.get("title") or "") for r in rows]
    ids = list(existing_titles)
    choices = [normalise_title(existing_titles[i]) for i in ids]
    within = len(rows) * (len(rows) + len(choices)) <= max_pairs
    if within:
        choices = choices + queries
    if not queries or not choices or len(queries) * len(choices) > max_pairs:
        return
    scores = process.cdist(
        queries,
        choices,
        scorer=fuzz.token_sort_ratio,
        score_cutoff=cutoff,
        workers=-1,
        dtype="uint8",
    )
    for qi, row in enumerate(rows):
        hits = scores[qi].nonzero()[0]
        for ci in hits[:5].tolist() if len(hits) else []:
            target = choices[ci]
            if target == queries[qi] or not queries[qi]:
                continue
            if ci < len(ids):
                if ids[ci] == row.course_id:
                    continue
                row.notes.append(
                    {
                        "kind": "near-duplicate",
                        "course_id": ids[ci],
                        "score": int(scores[qi][ci]),
                        "message": f"Very similar to your course '{existing_titles[ids[ci]]}'",
                    }
                )
            else:
                other = rows[ci - len(ids)]
                row.notes.append(
                    {
                        "kind": "near-duplicate",
                        "row": other.row_number,
                        "score": int(scores[qi][ci]),
                        "message": f"Very similar to row {other.row_number} "
                        f"('{other.values.get('title')}')",
                    }
                )
