"""The published catalog: one query object, one data function, every format.

`CourseQuery.from_args()` validates request arguments; `search()` returns the page, total and facet
counts; `export_rows()` yields every matching course for CSV/XLSX/JSON/CLI. Only approved courses whose
`approved_until` is today or later are ever returned (`published_sql`).

Facets: OR within a facet, AND across facets. Each facet's counts apply every filter except its own,
so a visitor can see what adding a second value would bring. Filtering and counting run over the
`search_published` read table (kept by triggers; publishing_sql.py), the counts from one GROUP BY
summed in facets.py; the page's rows are read and highlighted in one more statement.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, text

from catalog.models import DELIVERY_MODES
from catalog.services.publishing import facets as facet_counts
from catalog.services.publishing import search as fulltext
from catalog.services.publishing import sql as psql
from catalog.services.publishing.facets import DELIVERY_LABELS, FACETS, FacetValue, format_hours
from catalog.services.publishing.sql import ORDER_BY, published_sql

__all__ = [
    "DELIVERY_LABELS",
    "FACETS",
    "ORDER_BY",
    "BadQuery",
    "CourseQuery",
    "FacetValue",
    "Result",
    "Taxonomy",
    "export_rows",
    "format_hours",
    "get_published",
    "newest",
    "published_sql",
    "search",
]

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
EXPORT_CHUNK = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadQuery(ValueError):
    """A request argument that cannot be honoured (answered with 400 and this message)."""


@dataclass(frozen=True)
class Taxonomy:
    """Categories as plain tuples: (id, slug, name, kind), in display order."""

    rows: tuple[tuple[int, str, str, str], ...]

    @classmethod
    def load(cls, session, jurisdiction_id: int | None = None) -> Taxonomy:
        """Categories of one jurisdiction (the served one), or of all when None."""
        where = "WHERE jurisdiction_id = :jid " if jurisdiction_id is not None else ""
        result = session.execute(
            text(
                "SELECT id, slug, name, kind FROM categories "
                + where
                + "ORDER BY jurisdiction_id, sort_order, id"
            ),
            {"jid": jurisdiction_id} if jurisdiction_id is not None else {},
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


def _known_providers(session, query: CourseQuery, notices: list[str]):
    """Drop unknown provider slugs (with a notice); the ids of the known ones."""
    if not query.providers:
        return query, []
    stmt = text("SELECT id, slug FROM providers WHERE slug IN :slugs").bindparams(
        bindparam("slugs", expanding=True)
    )
    known = {slug: pid for pid, slug in session.execute(stmt, {"slugs": list(query.providers)})}
    for slug in query.providers:
        if slug not in known:
            notices.append(f"Unknown provider '{slug[:60]}' was ignored.")
    query = replace(query, providers=tuple(s for s in query.providers if s in known))
    return query, [known[s] for s in query.providers]


def search(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    *,
    link: Callable[[dict], str] = lambda args: "",
    today: dt.date | None = None,
) -> Result:
    """One page of published courses with total and facet counts (a handful of queries: facet
    groups, the page, its categories, provider names; the close-match fallback only when the
    words match nothing)."""
    today = today or dt.date.today()
    notices = list(query.notices)
    query, provider_ids = _known_providers(session, query, notices)

    def build(fuzzy: bool):
        return psql.build(
            session, query, taxonomy, today=today, fuzzy=fuzzy, provider_ids=provider_ids
        )

    fuzzy = False
    sql = build(False)
    total, counts = facet_counts.count(session, sql, query, taxonomy, provider_ids)
    if total == 0 and sql.match is not None:
        loose = build(True)
        if loose is not None:
            loose_total, loose_counts = facet_counts.count(
                session, loose, query, taxonomy, provider_ids
            )
            if loose_total:
                sql, total, counts, fuzzy = loose, loose_total, loose_counts, True
                notices.append(
                    f"No course matches every word of “{query.q}”; showing close matches."
                )
    offset = (query.page - 1) * query.per_page
    courses: list[dict] = []
    if total and offset < total:
        courses = psql.page_rows(
            session,
            sql,
            sort=query.effective_sort,
            limit=query.per_page,
            offset=offset,
            marked=True,
        )
        psql.attach_categories(session, courses, taxonomy)
    elif total and query.page > 1:
        pages = -(-total // query.per_page)
        notices.append(f"Page {query.page} is past the end: there are {pages} page(s).")
    facets = facet_counts.build(session, query, counts, taxonomy, link)
    return Result(query, total, courses, facets, notices, fuzzy)


def export_rows(
    session, query: CourseQuery, taxonomy: Taxonomy, *, today: dt.date | None = None
) -> Iterator[dict]:
    """Every published course matching the query (no paging), in the query's order, in chunks."""
    today = today or dt.date.today()
    sql = psql.build(session, query, taxonomy, today=today, fuzzy=False)
    if sql is None:
        return
    ids = psql.ordered_ids(session, sql, query.effective_sort)
    for start in range(0, len(ids), EXPORT_CHUNK):
        courses = list(
            psql.rows_by_id(session, ids[start : start + EXPORT_CHUNK], sql.params["today"])
        )
        psql.attach_categories(session, courses, taxonomy)
        yield from courses


def newest(session, query: CourseQuery, taxonomy: Taxonomy, *, limit: int = 50, today=None):
    """The most recently approved published courses matching the query (for the Atom feed)."""
    today = today or dt.date.today()
    sql = psql.build(session, query, taxonomy, today=today, fuzzy=False)
    if sql is None:
        return []
    courses = psql.page_rows(session, sql, sort="newest", limit=limit, offset=0, marked=False)
    psql.attach_categories(session, courses, taxonomy)
    return courses


def get_published(session, course_id: int, taxonomy: Taxonomy, *, today=None) -> dict | None:
    """One published course, or None when it is unknown, unapproved or expired."""
    today = today or dt.date.today()
    dialect = session.get_bind().dialect.name
    stmt = text(
        f"SELECT {psql.COLUMNS}, c.objectives, c.decided_at FROM courses c "
        "JOIN providers p ON p.id = c.provider_id WHERE c.id = :id AND "
        + " AND ".join(published_sql())
    )
    row = session.execute(
        stmt, {"id": course_id, "today": psql.today_param(dialect, today)}
    ).first()
    if row is None:
        return None
    course = psql.course_dict(row, marked=False)
    course["objectives"] = row[psql.N_COLUMNS] or ""
    psql.attach_categories(session, [course], taxonomy)
    return course
