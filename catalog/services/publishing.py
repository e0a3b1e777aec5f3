"""The published catalog: one query object, one data function, every format.

`CourseQuery.from_args()` validates request arguments; `search()` returns the page, total and facet
counts; `export_rows()` yields every matching course for CSV/XLSX/JSON/CLI. Only approved courses whose
`approved_until` is today or later are ever returned (`published_sql`).

Facets: OR within a facet, AND across facets. Each facet's counts apply every filter except its own,
so a visitor can see what adding a second value would bring. All counts come from one statement: the
matching set is materialised once with a yes/no column per facet filter, then grouped per facet.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, text

from catalog.models import DELIVERY_MODES
from catalog.services import search as fulltext

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_VALUES = 20  # per repeated parameter
SORTS = {
    "relevance": "Best match",
    "fit": "One-hour courses first",
    "title": "Title A-Z",
    "hours": "Shortest first",
    "newest": "Newest approvals",
}
DELIVERY_LABELS = {
    "in-person": "In person",
    "online": "Online",
    "live-virtual": "Live virtual",
    "blended": "Blended",
}
FACETS = ("area", "topic", "hours", "delivery", "provider")
EXPORT_CHUNK = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadQuery(ValueError):
    """A request argument that cannot be honoured (answered with 400 and this message)."""


@dataclass(frozen=True)
class Taxonomy:
    """Categories as plain tuples: (id, slug, name, kind), in display order."""

    rows: tuple[tuple[int, str, str, str], ...]

    @classmethod
    def load(cls, session) -> Taxonomy:
        result = session.execute(
            text(
                "SELECT id, slug, name, kind FROM categories "
                "ORDER BY jurisdiction_id, sort_order, id"
            )
        )
        return cls(tuple((r[0], r[1], r[2], r[3]) for r in result))

    def by_slug(self, kind: str) -> dict[str, tuple[int, str, str, str]]:
        return {r[1]: r for r in self.rows if r[3] == kind}

    @property
    def by_id(self) -> dict[int, tuple[int, str, str, str]]:
        return {r[0]: r for r in self.rows}


def _parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number <= 0 or number > 10_000:
        return None
    return number.quantize(Decimal("0.01"))


def _parse_int(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise BadQuery(f"'{name}' must be a whole number, got {value[:30]!r}.") from None
    if number < 1:
        raise BadQuery(f"'{name}' must be 1 or more, got {number}.")
    return number


def format_hours(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class CourseQuery:
    """Validated filters, sorting and paging of the published list (see contracts.md)."""

    q: str = ""
    areas: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    hours: tuple[Decimal, ...] = ()
    max_hours: Decimal | None = None
    deliveries: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    sort: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    notices: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args, taxonomy: Taxonomy) -> CourseQuery:
        """Parse request arguments (a MultiDict). Unknown filter values are dropped with a notice;
        unusable paging raises BadQuery; per_page above 100 is clamped."""
        notices: list[str] = []

        def clean(value: str | None) -> str:
            return _CONTROL.sub("", value or "").strip()

        def values(name: str) -> list[str]:
            seen = [clean(v) for v in args.getlist(name) if clean(v)]
            if len(seen) > MAX_VALUES:
                notices.append(f"Only the first {MAX_VALUES} values of '{name}' were used.")
            return list(dict.fromkeys(seen[:MAX_VALUES]))

        def known(name: str, wanted: list[str], allowed, label: str) -> tuple[str, ...]:
            good = [v for v in wanted if v in allowed]
            for bad in (v for v in wanted if v not in allowed):
                notices.append(f"Unknown {label} '{bad[:60]}' was ignored.")
            return tuple(good)

        q = clean(args.get("q"))
        if len(q) > fulltext.MAX_QUERY_CHARS:
            q = q[: fulltext.MAX_QUERY_CHARS]
            notices.append(f"The search text was cut to {fulltext.MAX_QUERY_CHARS} characters.")
        areas = known("area", values("area"), taxonomy.by_slug("area"), "area")
        topics = known("topic", values("topic"), taxonomy.by_slug("topic"), "topic")
        deliveries = known("delivery", values("delivery"), DELIVERY_MODES, "delivery mode")
        hours: list[Decimal] = []
        for raw in values("hours"):
            number = _parse_decimal(raw)
            if number is None:
                notices.append(f"'{raw[:30]}' is not a number of hours and was ignored.")
            elif number not in hours:
                hours.append(number)
        max_hours = None
        raw_max = clean(args.get("max_hours"))
        if raw_max:
            max_hours = _parse_decimal(raw_max)
            if max_hours is None:
                notices.append(
                    f"'{raw_max[:30]}' is not a number of hours; 'max_hours' was ignored."
                )
        sort = clean(args.get("sort"))
        if sort and sort not in SORTS:
            notices.append(f"Unknown sort order '{sort[:30]}'; the default order is used.")
            sort = ""
        page = _parse_int("page", args.get("page"), 1)
        if page > MAX_PAGE:
            raise BadQuery(f"'page' must be at most {MAX_PAGE}.")
        per_page = _parse_int("per_page", args.get("per_page"), DEFAULT_PER_PAGE)
        per_page = min(per_page, MAX_PER_PAGE)
        return cls(
            q=q,
            areas=areas,
            topics=topics,
            hours=tuple(hours),
            max_hours=max_hours,
            deliveries=deliveries,
            providers=tuple(values("provider")),
            sort=sort,
            page=page,
            per_page=per_page,
            notices=tuple(notices),
        )

    @property
    def effective_sort(self) -> str:
        if self.sort == "relevance" and not self.q:
            return "title"
        return self.sort or ("relevance" if self.q else "title")

    @property
    def filtered(self) -> bool:
        return bool(
            self.q
            or self.areas
            or self.topics
            or self.hours
            or self.max_hours
            or self.deliveries
            or self.providers
        )

    def to_args(self, **changes) -> dict[str, list[str] | str]:
        """URL arguments of this state (defaults left out), with `changes` applied."""
        state = replace(self, **changes) if changes else self
        args: dict[str, list[str] | str] = {}
        if state.q:
            args["q"] = state.q
        for name, vals in (
            ("area", state.areas),
            ("topic", state.topics),
            ("hours", [format_hours(h) for h in state.hours]),
            ("delivery", state.deliveries),
            ("provider", state.providers),
        ):
            if vals:
                args[name] = list(vals)
        if state.max_hours is not None:
            args["max_hours"] = format_hours(state.max_hours)
        if state.sort:
            args["sort"] = state.sort
        if state.per_page != DEFAULT_PER_PAGE:
            args["per_page"] = str(state.per_page)
        if state.page != 1:
            args["page"] = str(state.page)
        return args

    def toggled(self, facet: str, value) -> dict:
        """Arguments with one facet value added or removed (back to page 1)."""
        attr = {
            "area": "areas",
            "topic": "topics",
            "hours": "hours",
            "delivery": "deliveries",
            "provider": "providers",
        }[facet]
        current = getattr(self, attr)
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        return self.to_args(**{attr: new, "page": 1})


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str = ""


@dataclass
class Result:
    query: CourseQuery
    total: int
    courses: list[dict]
    facets: dict[str, list[FacetValue]]
    notices: list[str]
    fuzzy: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages and self.total > 0


# ---------------------------------------------------------------------------------------------
# SQL


@dataclass
class _Sql:
    """The pieces of one search: FROM, WHERE per filter, parameters, optional text match."""

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


def _hours_param(dialect: str, value: Decimal):
    return value if dialect == "postgresql" else float(value)


def _build(session, query: CourseQuery, taxonomy: Taxonomy, *, today: dt.date, fuzzy: bool):
    dialect = session.get_bind().dialect.name
    params: dict = {"today": today if dialect == "postgresql" else today.isoformat()}
    expanding: set[str] = set()
    base_where = list(published_sql())
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
        source = "courses c"
    if query.max_hours is not None:
        base_where.append("c.hours <= :max_hours")
        params["max_hours"] = _hours_param(dialect, query.max_hours)

    filters: dict[str, str] = {}

    def category_filter(name: str, slugs, kind: str) -> None:
        if not slugs:
            return
        known = taxonomy.by_slug(kind)
        params[f"{name}_ids"] = [known[s][0] for s in slugs]
        expanding.add(f"{name}_ids")
        filters[name] = (
            "EXISTS (SELECT 1 FROM course_categories fcc WHERE fcc.course_id = c.id "
            f"AND fcc.source = 'decided' AND fcc.category_id IN :{name}_ids)"
        )

    category_filter("area", query.areas, "area")
    category_filter("topic", query.topics, "topic")
    if query.hours:
        params["hours_values"] = [_hours_param(dialect, h) for h in query.hours]
        expanding.add("hours_values")
        filters["hours"] = "c.hours IN :hours_values"
    if query.deliveries:
        params["deliveries"] = list(query.deliveries)
        expanding.add("deliveries")
        filters["delivery"] = "c.delivery IN :deliveries"
    if query.providers:
        params["provider_slugs"] = list(query.providers)
        expanding.add("provider_slugs")
        filters["provider"] = (
            "c.provider_id IN (SELECT id FROM providers WHERE slug IN :provider_slugs)"
        )
    return _Sql(dialect, source, base_where, filters, params, expanding, match)


def published_sql() -> tuple[str, ...]:
    """The one rule of publication, as SQL over `courses c` (needs the :today parameter)."""
    return ("c.status = 'approved'", "c.approved_until IS NOT NULL", "c.approved_until >= :today")


def _facet_counts(session, sql: _Sql, taxonomy: Taxonomy) -> tuple[int, dict[str, dict]]:
    """Total and every facet's counts, in one statement over the materialised matching set."""
    flags = ", ".join(
        f"({sql.filters[f]}) AS {f}_ok" if f in sql.filters else f"TRUE AS {f}_ok" for f in FACETS
    )
    base = (
        f"SELECT c.id AS id, c.hours AS hours, c.delivery AS delivery, "
        f"c.provider_id AS provider_id, {flags} FROM {sql.source} "
        f"WHERE {' AND '.join(sql.base_where)}"
    )

    def others(facet: str) -> str:
        return " AND ".join(f"b.{f}_ok" for f in FACETS if f != facet) or "TRUE"

    areas = [r[0] for r in taxonomy.rows if r[3] == "area"] or [0]
    topics = [r[0] for r in taxonomy.rows if r[3] == "topic"] or [0]
    key = "VARCHAR(40)"
    # SQLite: CROSS JOIN keeps the (small) matching set as the outer loop.
    join = "CROSS JOIN" if sql.dialect == "sqlite" else "JOIN"
    statement = f"""
        WITH b AS MATERIALIZED ({base})
        SELECT 'total' AS facet, '' AS k, count(*) AS n FROM b
          WHERE {" AND ".join(f"b.{f}_ok" for f in FACETS)}
        UNION ALL
        SELECT 'delivery', CAST(b.delivery AS {key}), count(*) FROM b
          WHERE {others("delivery")} GROUP BY b.delivery
        UNION ALL
        SELECT 'hours', CAST(b.hours AS {key}), count(*) FROM b
          WHERE {others("hours")} GROUP BY b.hours
        UNION ALL
        SELECT 'provider', CAST(b.provider_id AS {key}), count(*) FROM b
          WHERE {others("provider")} GROUP BY b.provider_id
        UNION ALL
        SELECT 'area', CAST(cc.category_id AS {key}), count(*) FROM b
          {join} course_categories cc ON cc.course_id = b.id AND cc.source = 'decided'
          WHERE {others("area")} AND cc.category_id IN :facet_areas GROUP BY cc.category_id
        UNION ALL
        SELECT 'topic', CAST(cc.category_id AS {key}), count(*) FROM b
          {join} course_categories cc ON cc.course_id = b.id AND cc.source = 'decided'
          WHERE {others("topic")} AND cc.category_id IN :facet_topics GROUP BY cc.category_id
    """
    params = {**sql.params, "facet_areas": areas, "facet_topics": topics}
    stmt = text(statement).bindparams(
        bindparam("facet_areas", expanding=True),
        bindparam("facet_topics", expanding=True),
        *(bindparam(n, expanding=True) for n in sql.expanding if f":{n}" in statement),
    )
    total = 0
    counts: dict[str, dict] = {f: {} for f in FACETS}
    for facet, k, n in session.execute(stmt, params):
        if facet == "total":
            total = n
        elif facet == "hours":
            counts["hours"][Decimal(k).quantize(Decimal("0.01"))] = n
        elif facet in ("provider", "area", "topic"):
            counts[facet][int(k)] = n
        else:
            counts[facet][k] = n
    return total, counts


ORDER_BY = {
    "title": "lower(c.title), c.id",
    "hours": "c.hours, lower(c.title), c.id",
    "fit": "CASE WHEN c.hours = 1 THEN 0 ELSE 1 END, c.hours, lower(c.title), c.id",
    "newest": "c.approved_at DESC, c.id DESC",
}


def _order(sql: _Sql, sort: str) -> str:
    if sort == "relevance" and sql.match is not None:
        return f"{sql.match.rank_sql}, c.id"
    return ORDER_BY.get(sort, ORDER_BY["title"])


def _where(sql: _Sql) -> str:
    return " AND ".join([*sql.base_where, *sql.filters.values()])


_COLUMNS = (
    "c.id, c.title, c.description, c.hours, c.delivery, c.url, c.approved_until, c.approved_at, "
    "c.control_number, p.slug, p.name, p.url"
)


def _rows(session, sql: _Sql, *, order: str, limit: int, offset: int, marked: bool) -> list[dict]:
    extra = ""
    if marked and sql.match is not None:
        extra = f", {sql.match.title_sql}, {sql.match.snippet_sql}"
    statement = (
        f"SELECT {_COLUMNS}{extra} FROM {sql.source} JOIN providers p ON p.id = c.provider_id "
        f"WHERE {_where(sql)} ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    result = session.execute(
        sql.statement(statement), {**sql.params, "limit": limit, "offset": offset}
    )
    return [_course_dict(row, marked=bool(extra)) for row in result]


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _course_dict(row, *, marked: bool) -> dict:
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
        "areas": [],
        "topics": [],
    }
    if marked:
        course["title_html"] = fulltext.marked(row[12])
        course["snippet_html"] = fulltext.marked(row[13])
    else:
        course["title_html"] = fulltext.marked(row[1])
        course["snippet_html"] = None
    return course


def _attach_categories(session, courses: list[dict], taxonomy: Taxonomy) -> None:
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


def _facets(
    session, query: CourseQuery, counts: dict, taxonomy: Taxonomy, link: Callable[[dict], str]
) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for kind, selected in (("area", query.areas), ("topic", query.topics)):
        values = []
        for cid, slug, name, k in taxonomy.rows:
            if k != kind:
                continue
            n = counts[kind].get(cid, 0)
            if n or slug in selected:
                values.append(FacetValue(slug, name, n, slug in selected))
        facets[kind] = values
    facets["delivery"] = [
        FacetValue(
            mode, DELIVERY_LABELS[mode], counts["delivery"].get(mode, 0), mode in query.deliveries
        )
        for mode in DELIVERY_MODES
        if counts["delivery"].get(mode) or mode in query.deliveries
    ]
    hours = sorted(set(counts["hours"]) | set(query.hours))
    facets["hours"] = [
        FacetValue(
            format_hours(h), f"{format_hours(h)} h", counts["hours"].get(h, 0), h in query.hours
        )
        for h in hours
    ]
    top = sorted(counts["provider"].items(), key=lambda kv: -kv[1])[:15]
    wanted_ids = [pid for pid, _ in top]
    providers: list[tuple[int, str, str]] = []
    if wanted_ids or query.providers:
        stmt = text(
            "SELECT id, slug, name FROM providers WHERE id IN :ids OR slug IN :slugs"
        ).bindparams(bindparam("ids", expanding=True), bindparam("slugs", expanding=True))
        providers = list(
            session.execute(
                stmt, {"ids": wanted_ids or [0], "slugs": list(query.providers) or [""]}
            )
        )
    shown = [
        (pid, slug, name)
        for pid, slug, name in providers
        if pid in wanted_ids or slug in query.providers
    ]
    shown.sort(key=lambda p: (-counts["provider"].get(p[0], 0), p[2].lower()))
    facets["provider"] = [
        FacetValue(slug, name, counts["provider"].get(pid, 0), slug in query.providers)
        for pid, slug, name in shown
    ]
    for facet, values in facets.items():
        for value in values:
            raw = Decimal(value.value) if facet == "hours" else value.value
            value.url = link(query.toggled(facet, raw))
    return facets


def search(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    *,
    link: Callable[[dict], str] = lambda args: "",
    today: dt.date | None = None,
) -> Result:
    """One page of published courses with total and facet counts (a handful of queries)."""
    today = today or dt.date.today()
    notices = list(query.notices)
    if query.providers:
        known = set(
            session.scalars(
                text("SELECT slug FROM providers WHERE slug IN :slugs").bindparams(
                    bindparam("slugs", expanding=True)
                ),
                {"slugs": list(query.providers)},
            )
        )
        for slug in query.providers:
            if slug not in known:
                notices.append(f"Unknown provider '{slug[:60]}' was ignored.")
        query = replace(query, providers=tuple(s for s in query.providers if s in known))
    fuzzy = False
    sql = _build(session, query, taxonomy, today=today, fuzzy=False)
    total, counts = _facet_counts(session, sql, taxonomy)
    if total == 0 and sql.match is not None:
        loose = _build(session, query, taxonomy, today=today, fuzzy=True)
        if loose is not None:
            loose_total, loose_counts = _facet_counts(session, loose, taxonomy)
            if loose_total:
                sql, total, counts, fuzzy = loose, loose_total, loose_counts, True
                notices.append(
                    f"No course matches every word of “{query.q}”; showing close matches."
                )
    offset = (query.page - 1) * query.per_page
    courses: list[dict] = []
    if total and offset < total:
        courses = _rows(
            session,
            sql,
            order=_order(sql, query.effective_sort),
            limit=query.per_page,
            offset=offset,
            marked=True,
        )
        _attach_categories(session, courses, taxonomy)
    elif total and query.page > 1:
        pages = -(-total // query.per_page)
        notices.append(f"Page {query.page} is past the end: there are {pages} page(s).")
    facets = _facets(session, query, counts, taxonomy, link)
    return Result(query, total, courses, facets, notices, fuzzy)


def export_rows(
    session, query: CourseQuery, taxonomy: Taxonomy, *, today: dt.date | None = None
) -> Iterator[dict]:
    """Every published course matching the query (no paging), in the query's order, in chunks."""
    today = today or dt.date.today()
    sql = _build(session, query, taxonomy, today=today, fuzzy=False)
    if sql is None:
        return
    order = _order(sql, query.effective_sort)
    ids = [
        row[0]
        for row in session.execute(
            sql.statement(f"SELECT c.id FROM {sql.source} WHERE {_where(sql)} ORDER BY {order}"),
            sql.params,
        )
    ]
    for start in range(0, len(ids), EXPORT_CHUNK):
        chunk = ids[start : start + EXPORT_CHUNK]
        stmt = text(
            f"SELECT {_COLUMNS} FROM courses c JOIN providers p ON p.id = c.provider_id "
            "WHERE c.id IN :ids AND " + " AND ".join(published_sql())
        ).bindparams(bindparam("ids", expanding=True))
        found = {
            row[0]: _course_dict(row, marked=False)
            for row in session.execute(stmt, {"ids": chunk, "today": sql.params["today"]})
        }
        courses = [found[i] for i in chunk if i in found]
        _attach_categories(session, courses, taxonomy)
        yield from courses


def newest(session, query: CourseQuery, taxonomy: Taxonomy, *, limit: int = 50, today=None):
    """The most recently approved published courses matching the query (for the Atom feed)."""
    today = today or dt.date.today()
    sql = _build(session, query, taxonomy, today=today, fuzzy=False)
    if sql is None:
        return []
    courses = _rows(session, sql, order=ORDER_BY["newest"], limit=limit, offset=0, marked=False)
    _attach_categories(session, courses, taxonomy)
    return courses


def get_published(session, course_id: int, taxonomy: Taxonomy, *, today=None) -> dict | None:
    """One published course, or None when it is unknown, unapproved or expired."""
    today = today or dt.date.today()
    dialect = session.get_bind().dialect.name
    stmt = text(
        f"SELECT {_COLUMNS}, c.objectives, c.decided_at FROM courses c "
        "JOIN providers p ON p.id = c.provider_id WHERE c.id = :id AND "
        + " AND ".join(published_sql())
    )
    row = session.execute(
        stmt, {"id": course_id, "today": today if dialect == "postgresql" else today.isoformat()}
    ).first()
    if row is None:
        return None
    course = _course_dict(row, marked=False)
    course["objectives"] = row[12] or ""
    _attach_categories(session, [course], taxonomy)
    return course
