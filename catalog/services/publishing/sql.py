"""SQL of the published catalog: the text match's ids, the page's rows, their categories.

Filtering, counting and ordering run in memory (facets.py over snapshot.py); the database
is asked for what only it has: the ids of a text match (one aggregated row per pass, search.py)
and the full rows of the one page shown (or of an export chunk), looked up by id. The one rule of
publication (`published_sql`) is applied again to every row returned, so a course unpublished
after the worker's copy was read is never shown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

import numpy as np
from markupsafe import escape

from catalog.services.publishing import rule
from catalog.services.publishing import search as fulltext
from catalog.services.publishing.snapshot import VERSION_COLUMNS, version_of


def published_sql() -> tuple[str, ...]:
    """The one rule of publication (rule.py), as SQL over `courses c` (needs :today)."""
    return rule.published_sql("c")


def today_param(dialect: str, today: dt.date):
    """The :today parameter as the dialect compares dates."""
    return today if dialect == "postgresql" else today.isoformat()


# The orders of the published list (snapshot.LOAD_SQL computes each course's position).
ORDER_BY = {
    "title": "lower(c.title), c.id",
    "hours": "c.hours, lower(c.title), c.id",
    "fit": "CASE WHEN c.hours = 1 THEN 0 ELSE 1 END, c.hours, lower(c.title), c.id",
    "newest": "c.approved_at DESC, c.id DESC",
}

COLUMNS = (
    "c.id, c.title, c.description, c.hours, c.delivery, c.url, c.approved_until, c.approved_at, "
    "c.control_number, p.slug, p.name, p.url, c.provider_code"
)
N_COLUMNS = COLUMNS.count(",") + 1  # extra columns a statement adds come after these


_PG_NAME = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    """`:name` parameters as psycopg's `%(name)s` (casts like `::text` left alone)."""
    return _PG_NAME.sub(r"%(\1)s", sql.replace("%", "%%"))


def run(session, sql: str, params: dict) -> list[tuple]:
    """A read statement on the session's own connection and transaction, through the driver's
    cursor: the search's few statements per request skip SQLAlchemy's statement and result
    layers (a measurable share of a request). Parameters are `:name` (bound, never inlined)."""
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_pyformat(sql) if postgresql else sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _join(dialect: str) -> str:
    """SQLite's CROSS JOIN keeps the ids as the outer loop (its planner would rather scan the
    table and probe the ids); PostgreSQL plans a JOIN well."""
    return "CROSS JOIN" if dialect == "sqlite" else "JOIN"


def ids_param(dialect: str, ids: list[int]):
    """A list of ids as one bound parameter: an array (PostgreSQL) or JSON text (SQLite)."""
    return list(ids) if dialect == "postgresql" else json.dumps(list(ids))


def ids_source(dialect: str, name: str, alias: str) -> str:
    """SQL rows `alias(course_id)` from the ids parameter `:name` (see ids_param)."""
    if dialect == "postgresql":
        return f"unnest(CAST(:{name} AS integer[])) AS {alias}(course_id)"
    return f"(SELECT CAST(value AS INTEGER) AS course_id FROM json_each(:{name})) {alias}"


def _ids(value) -> np.ndarray:
    if not value:
        return np.empty(0, dtype=np.int64)
    # numpy's own text parser: ~8x faster than a list of str (10,000 ids at the bench's sizes)
    return np.fromstring(str(value), dtype=np.int64, sep=",")


def match_ids(
    session, match: fulltext.Match, *, titles: bool, version: bool = False
) -> tuple[tuple | None, np.ndarray, np.ndarray]:
    """Ids of every course the text matches, and (when `titles`) of those whose title does, in
    one statement; with `version`, also the publish version that statement saw (else None), so
    that the ids and the version are of one view of the database (snapshot.verify)."""
    head = f"{VERSION_COLUMNS}, " if version else ""
    if match.tsquery is not None and match.title_tsquery is not None:
        row = _match_ids_postgresql(session, match, titles, head)
    elif titles:  # both passes in one statement: one round trip to the database
        row = run(
            session, f"SELECT {head}({match.ids_sql}), ({match.title_ids_sql})", match.params
        )[0]
    else:
        row = run(session, f"SELECT {head}({match.ids_sql}), NULL", match.params)[0]
    seen = version_of(row[0], row[1]) if version else None
    return seen, _ids(row[-2]), _ids(row[-1])


def _match_ids_postgresql(session, match: fulltext.Match, titles: bool, head: str):
    """One index scan, the title condition tested on its rows (a title match is a match: the
    title query is the same query with every word restricted to weight A). 'advanced' at 10,000
    courses (loaded machine): two scans 15-20 ms, one 4-8 ms. Each tsquery is a scalar subquery,
    computed once per statement even in the generic plan of a prepared statement (psycopg
    prepares from the 5th execution), which would otherwise build it again for every row the
    recheck and the FILTER test. `head`: columns before the ids (the version)."""
    title = "NULL"
    if titles:
        title = (
            "string_agg(s.course_id::text, ',') "
            f"FILTER (WHERE s.doc @@ (SELECT {match.title_tsquery}))"
        )
    statement = (
        f"SELECT {head}string_agg(s.course_id::text, ','), {title} "
        f"FROM search_courses s WHERE s.doc @@ (SELECT {match.tsquery})"
    )
    return run(session, statement, match.params)[0]


# Courses a per-version memo (`page_rows(memo=...)`) holds at most (~1.5 KB each); emptied when full.
MEMO_ROWS = 5_000


def page_rows(
    session,
    ids: list[int],
    *,
    today: dt.date,
    match: fulltext.Match | None = None,
    marked: bool = False,
    taxonomy=None,
    memo: dict | None = None,
) -> list[dict]:
    """The courses with these ids (published ones only), in the order given, in one statement;
    with a text `match` and `marked`, their title and snippet highlighted; with `taxonomy`,
    their decided areas and topics attached (read in the same statement).

    `memo` (unmarked courses only): the courses already read at the current publish version
    (snapshot.Snapshot.memo), shared by the requests of that version, so read-only to callers;
    only the ids it lacks are read, and added to it. Every column a course's dict holds changes
    the publish version (migrations 0007 and 0010), which drops the memo with the snapshot, so
    a memo entry is the course as the database holds it at that version."""
    if not ids:
        return []
    marked = match is not None and marked
    if memo is not None and not marked:
        known = memo.setdefault(taxonomy.rows if taxonomy is not None else None, {})
        # Each entry is taken once (another thread may empty the memo meanwhile).
        page = {i: known.get(i) for i in ids}
        missing = [i for i, course in page.items() if course is None]
        if missing:
            if len(known) + len(missing) > MEMO_ROWS:
                known.clear()
            for course in _courses(session, missing, today, None, taxonomy):
                page[course["id"]] = known[course["id"]] = course
        return [course for course in page.values() if course is not None]
    found = {c["id"]: c for c in _courses(session, ids, today, match if marked else None, taxonomy)}
    return [found[i] for i in ids if i in found]


def _courses(session, ids, today, match, taxonomy) -> list[dict]:
    """`page_rows` without the memo, in no particular order."""
    rows = _rows(session, ids, today, match, categories=taxonomy is not None)
    courses = [course_dict(row, marked=match is not None) for row in rows]
    if taxonomy is not None:
        attach_column(courses, [row[-1] for row in rows], taxonomy)
    return courses


def categories_column(dialect: str) -> str:
    """A column of a statement over `courses c`: the course's decided categories as
    'category id:hours' pairs, comma-separated (read with `attach_column`)."""
    pair = (
        "cc.category_id::text || ':' || coalesce(cc.hours::text, '')"
        if dialect == "postgresql"
        else "cc.category_id || ':' || coalesce(cc.hours, '')"
    )
    glue = "string_agg" if dialect == "postgresql" else "group_concat"
    return (
        f"(SELECT {glue}({pair}, ',') FROM course_categories cc "
        "WHERE cc.course_id = c.id AND cc.source = 'decided')"
    )


def attach_column(courses: list[dict], values: list, taxonomy) -> None:
    """Areas and topics from each course's `categories_column` value (in the same order)."""
    pairs = []
    for course, value in zip(courses, values, strict=True):
        for item in (value or "").split(","):
            if item:
                category_id, _, hours = item.partition(":")
                pairs.append((course["id"], int(category_id), hours or None))
    _attach(courses, pairs, taxonomy)


def _rows(session, ids, today, match: fulltext.Match | None, *, categories: bool) -> list[tuple]:
    """The statement of `page_rows`: COLUMNS, with `match` its highlighted title and snippet,
    with `categories` the decided (category id:hours) pairs as the last column."""
    dialect = session.get_bind().dialect.name
    join = (
        fulltext.Match.detail_join
        if dialect == "postgresql"
        else f"{_join(dialect)} courses c ON c.id = page.course_id"
    )
    extra, where, params = "", "TRUE", {}
    if match is not None:
        join, where, params = match.detail_join, match.detail_where, dict(match.params)
        extra = f", {match.title_sql}, {match.snippet_sql}"
    pairs = f", {categories_column(dialect)}" if categories else ""
    params["page_ids"] = ids_param(dialect, ids)
    params["today"] = today_param(dialect, today)
    statement = (
        f"SELECT {COLUMNS}{extra}{pairs} FROM {ids_source(dialect, 'page_ids', 'page')} "
        f"{join} JOIN providers p ON p.id = c.provider_id "
        f"WHERE {where} AND {' AND '.join(published_sql())}"
    )
    return run(session, statement, params)


def rows_by_id(session, ids: list[int], today: dt.date) -> Iterator[dict]:
    """Courses by id (published ones only), in the order given."""
    return iter(page_rows(session, ids, today=today))


@lru_cache(maxsize=4096)
def _hours(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return _iso_date(value)


@lru_cache(maxsize=4096)  # a page's courses share a few expiry dates
def _iso_date(value) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def course_dict(row, *, marked: bool) -> dict:
    """A published course as a dict from its row (hours exact, areas and topics named)."""
    hours = _hours(row[3])
    course = {
        "id": row[0],
        "title": row[1],
        "description": row[2] or "",
        "hours": hours,
        "delivery": row[4],
        "url": row[5] or "",
        "approved_until": _as_date(row[6]),
        "approved_at": _as_datetime(row[7]),
        "control_number": row[8] or "",
        "provider": row[9],
        "provider_name": row[10],
        "provider_url": row[11] or "",
        "provider_code": row[12] or "",
        "areas": [],
        "topics": [],
    }
    if marked:
        course["title_html"] = fulltext.marked(row[N_COLUMNS])
        course["snippet_html"] = fulltext.marked(row[N_COLUMNS + 1])
    else:
        course["title_html"] = escape(row[1] or "")  # no highlight markers to turn into <mark>
        course["snippet_html"] = None
    return course


def attach_categories(session, courses: list[dict], taxonomy) -> None:
    """Decided areas (with hours) and topics for a list of courses: one query, no N+1."""
    if not courses:
        return
    by_id = {c["id"]: c for c in courses}
    dialect = session.get_bind().dialect.name
    statement = (
        "SELECT cc.course_id, cc.category_id, cc.hours "
        f"FROM {ids_source(dialect, 'ids', 'page')} {_join(dialect)} course_categories cc "
        "ON cc.course_id = page.course_id WHERE cc.source = 'decided' ORDER BY cc.course_id, cc.id"
    )
    _attach(courses, run(session, statement, {"ids": ids_param(dialect, list(by_id))}), taxonomy)


def _attach(courses: list[dict], pairs, taxonomy) -> None:
    """(course id, category id, hours) rows as the courses' areas and topics, in taxonomy order."""
    by_id = {c["id"]: c for c in courses}
    cats = taxonomy.by_id
    order = {r[0]: i for i, r in enumerate(taxonomy.rows)}
    for course_id, category_id, hours in pairs:
        category = cats.get(category_id)
        if category is None:
            continue
        course = by_id[course_id]
        if category[3] == "area":
            value = Decimal(str(hours if hours is not None else 0)).quantize(Decimal("0.01"))
            course["areas"].append(
                {"slug": category[1], "name": category[2], "hours": value, "_o": order[category_id]}
            )
        else:
            course["topics"].append(
                {"slug": category[1], "name": category[2], "_o": order[category_id]}
            )
    for course in courses:
        course["areas"].sort(key=lambda a: a.pop("_o"))
        course["topics"].sort(key=lambda t: t.pop("_o"))
