"""SQL of the published catalog: filters over the `search_published` read table, the page's rows.

`search_published sp` (migration 0004_published_read_table, kept by triggers) has one narrow row per approved
course with its provider, hours, delivery and decided category ids (",3,7,"), so every filter is a
test on that row, never a join per matching course. A page is one statement: the ids of the page
(filtered, ordered, LIMIT/OFFSET) chosen in a subquery, and only those rows joined to courses and
providers and highlighted (looked up by id, not by running the text match again). The one rule of
publication (`published_sql`) is applied both through `sp.until >= :today` and again on the
courses rows that are returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, text

from catalog.services.publishing import search as fulltext


def published_sql() -> tuple[str, ...]:
    """The one rule of publication, as SQL over `courses c` (needs the :today parameter)."""
    return ("c.status = 'approved'", "c.approved_until IS NOT NULL", "c.approved_until >= :today")


def today_param(dialect: str, today: dt.date):
    return today if dialect == "postgresql" else today.isoformat()


def hours_param(dialect: str, value: Decimal):
    return value if dialect == "postgresql" else float(value)


@dataclass
class Sql:
    """The pieces of one search: FROM (over `sp`), WHERE per filter, parameters, text match."""

    dialect: str
    source: str
    base_where: list[str]
    filters: dict[str, str]
    params: dict
    expanding: set[str]
    match: fulltext.Match | None

    def statement(self, sql: str):
        stmt = text(sql)
        names = [n for n in self.expanding if f":{n}" in sql]
        if names:
            stmt = stmt.bindparams(*(bindparam(n, expanding=True) for n in names))
        return stmt

    @property
    def where(self) -> str:
        return " AND ".join([*self.base_where, *self.filters.values()])


def contains_any(dialect: str, category_ids) -> str:
    """SQL: the course has at least one of these decided categories (ids are ints, inlined)."""
    find = "strpos(sp.cats, '{}') > 0" if dialect == "postgresql" else "instr(sp.cats, '{}') > 0"
    return "(" + " OR ".join(find.format(f",{int(i)},") for i in category_ids) + ")"


def build(
    session,
    query,
    taxonomy,
    *,
    today: dt.date,
    fuzzy: bool,
    provider_ids: list[int] | None = None,
) -> Sql | None:
    """The filters of `query` as SQL over `search_published sp`. None when the close-match
    fallback has nothing to try. `provider_ids` are the ids of query.providers (looked up once by
    the caller); without them the providers are looked up in a subquery."""
    dialect = session.get_bind().dialect.name
    params: dict = {"today": today_param(dialect, today)}
    expanding: set[str] = set()
    base_where = ["sp.until >= :today"]
    match = None
    if query.q:
        parsed = fulltext.parse(query.q)
        if parsed is not None:
            match = fulltext.match(dialect, parsed, fuzzy=fuzzy)
            if match is None:
                return None
    if match is not None:
        source = match.from_sql
        base_where.append(match.where_sql)
        params.update(match.params)
    else:
        source = "search_published sp"
    if query.max_hours is not None:
        base_where.append("sp.hours <= :max_hours")
        params["max_hours"] = hours_param(dialect, query.max_hours)

    filters: dict[str, str] = {}
    for name, slugs, kind in (("area", query.areas, "area"), ("topic", query.topics, "topic")):
        if slugs:
            known = taxonomy.by_slug(kind)
            filters[name] = contains_any(dialect, [known[s][0] for s in slugs])
    if query.hours:
        params["hours_values"] = [hours_param(dialect, h) for h in query.hours]
        expanding.add("hours_values")
        filters["hours"] = "sp.hours IN :hours_values"
    if query.deliveries:
        params["deliveries"] = list(query.deliveries)
        expanding.add("deliveries")
        filters["delivery"] = "sp.delivery IN :deliveries"
    if query.providers:
        if provider_ids is not None:
            params["provider_ids"] = list(provider_ids) or [0]
            expanding.add("provider_ids")
            filters["provider"] = "sp.provider_id IN :provider_ids"
        else:
            params["provider_slugs"] = list(query.providers)
            expanding.add("provider_slugs")
            filters["provider"] = (
                "sp.provider_id IN (SELECT id FROM providers WHERE slug IN :provider_slugs)"
            )
    return Sql(dialect, source, base_where, filters, params, expanding, match)


# Orders over `courses c` (and `sp` in the id subquery, where c is joined when needed).
ORDER_BY = {
    "title": "lower(c.title), c.id",
    "hours": "c.hours, lower(c.title), c.id",
    "fit": "CASE WHEN c.hours = 1 THEN 0 ELSE 1 END, c.hours, lower(c.title), c.id",
    "newest": "c.approved_at DESC, c.id DESC",
}


def order_sql(sql: Sql, sort: str) -> str:
    if sort == "relevance" and sql.match is not None:
        return f"{sql.match.rank_sql}, c.id"
    return ORDER_BY.get(sort, ORDER_BY["title"])


def _ids_sql(sql: Sql, order: str, *, paged: bool, ranked: bool = False) -> str:
    """Ids of the matching published courses in `order`; courses is joined only when the order
    needs its columns (relevance does not). `ranked` (best match first) selects the relevance
    too, as `page_rank`, so that the page can be put in order without computing it again."""
    order = order.replace("c.id", "sp.course_id")
    columns = "sp.course_id"
    if ranked:
        columns += f", {sql.match.rank_sql} AS page_rank"
        order = "page_rank, sp.course_id"
    join = ""
    if "c." in order:
        kind = "CROSS JOIN" if sql.dialect == "sqlite" else "JOIN"
        join = f" {kind} courses c ON c.id = sp.course_id"
    limit = " LIMIT :limit OFFSET :offset" if paged else ""
    return f"SELECT {columns} FROM {sql.source}{join} WHERE {sql.where} ORDER BY {order}{limit}"


COLUMNS = (
    "c.id, c.title, c.description, c.hours, c.delivery, c.url, c.approved_until, c.approved_at, "
    "c.control_number, p.slug, p.name, p.url, c.provider_code"
)
N_COLUMNS = COLUMNS.count(",") + 1  # extra columns a statement adds come after these


def page_rows(session, sql: Sql, *, sort: str, limit: int, offset: int, marked: bool) -> list[dict]:
    """One page of courses (dicts, categories not attached yet), in one statement: the subquery
    chooses the page's ids (and, by relevance, their rank); only those rows are then read in
    full and highlighted."""
    order = order_sql(sql, sort)
    match = sql.match
    ranked = match is not None and sort == "relevance"
    extra, join, where = "", "JOIN courses c ON c.id = page.course_id", "TRUE"
    if match is not None:
        join, where = match.detail_join, match.detail_where
        if marked:
            extra = f", {match.title_sql}, {match.snippet_sql}"
    statement = (
        f"SELECT {COLUMNS}{extra} FROM ({_ids_sql(sql, order, paged=True, ranked=ranked)}) page "
        f"{join} JOIN providers p ON p.id = c.provider_id "
        f"WHERE {where} AND {' AND '.join(published_sql())} "
        f"ORDER BY {'page.page_rank, c.id' if ranked else order}"
    )
    result = session.execute(
        sql.statement(statement), {**sql.params, "limit": limit, "offset": offset}
    )
    return [course_dict(row, marked=bool(extra)) for row in result]


def ordered_ids(session, sql: Sql, sort: str) -> list[int]:
    """Every matching published course id, in the query's order (for exports)."""
    statement = _ids_sql(sql, order_sql(sql, sort), paged=False)
    return [row[0] for row in session.execute(sql.statement(statement), sql.params)]


def rows_by_id(session, ids: list[int], today_value) -> Iterator[dict]:
    """Courses by id (published ones only), in the order given."""
    stmt = text(
        f"SELECT {COLUMNS} FROM courses c JOIN providers p ON p.id = c.provider_id "
        "WHERE c.id IN :ids AND " + " AND ".join(published_sql())
    ).bindparams(bindparam("ids", expanding=True))
    found = {
        row[0]: course_dict(row, marked=False)
        for row in session.execute(stmt, {"ids": ids, "today": today_value})
    }
    return (found[i] for i in ids if i in found)


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def course_dict(row, *, marked: bool) -> dict:
    hours = Decimal(str(row[3])).quantize(Decimal("0.01"))
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
        course["title_html"] = fulltext.marked(row[1])
        course["snippet_html"] = None
    return course


def attach_categories(session, courses: list[dict], taxonomy) -> None:
    """Decided areas (with hours) and topics for a list of courses: one query, no N+1."""
    if not courses:
        return
    by_id = {c["id"]: c for c in courses}
    cats = taxonomy.by_id
    stmt = text(
        "SELECT course_id, category_id, hours FROM course_categories "
        "WHERE source = 'decided' AND course_id IN :ids ORDER BY course_id, id"
    ).bindparams(bindparam("ids", expanding=True))
    order = {r[0]: i for i, r in enumerate(taxonomy.rows)}
    for course_id, category_id, hours in session.execute(stmt, {"ids": list(by_id)}):
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
