"""The published catalog: one query object, one data function, every format.

`CourseQuery.from_args()` (query.py) validates request arguments; `search()` returns the page, total and facet
counts; `export_rows()` yields every matching course for CSV/XLSX/JSON/CLI. Only approved courses whose
`approved_until` is today or later are ever returned (`published_sql`), and only those of the
jurisdiction asked for (the served one, passed in by the caller).

Facets: OR within a facet, AND across facets. Each facet's counts apply every filter except its own,
so a visitor can see what adding a second value would bring. Filtering, counting and ordering run
over the worker's in-memory copy of the published rows (snapshot.py, kept current by the
publish version; facets.py); the database answers the text match's ids and the page's rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import text

from catalog.services.publishing import facets as facet_counts
from catalog.services.publishing import search as fulltext
from catalog.services.publishing import snapshot as published_index
from catalog.services.publishing import sql as psql
from catalog.services.publishing.facets import DELIVERY_LABELS, FACETS, FacetValue, format_hours
from catalog.services.publishing.query import SORTS, BadQuery, CourseQuery, Taxonomy
from catalog.services.publishing.sql import ORDER_BY, published_sql

__all__ = [
    "DELIVERY_LABELS",
    "FACETS",
    "ORDER_BY",
    "SORTS",
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
    "requirement_counts",
    "search",
    "served",
    "taxonomy_of",
]

EXPORT_CHUNK = 500


@dataclass
class Result:
    query: CourseQuery
    total: int
    courses: list[dict]
    facets: dict[str, list[FacetValue]]
    notices: list[str]
    fuzzy: bool = False
    corrected: str | None = None  # the corrected query whose results are shown

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages and self.total > 0


def served(session, code: str | None) -> tuple[int, str] | None:
    """(id, course id label) of the jurisdiction with this code (the first one seeded when None),
    from the worker's copy; None before anything is seeded. An unknown code raises NotFound
    naming the codes there are. Under `read_optimistically()` from the worker's copy as it is
    (no query): the search, export or course page that follows verifies it."""
    snapshot = published_index.provisional(session)
    wanted = code or snapshot.first_jurisdiction
    if wanted is None:
        return None
    found = snapshot.jurisdictions.get(wanted)
    if found is None:
        from catalog.services.jurisdictions import served_jurisdiction

        served_jurisdiction(session, wanted)  # raises NotFound with the message
        return None
    return found[0], found[1] or "Control number"


def taxonomy_of(session, jurisdiction_id: int | None) -> Taxonomy:
    """The categories of a jurisdiction (of all when None), from the worker's copy (as
    `served()`, provisionally under `read_optimistically()`)."""
    snapshot = published_index.provisional(session)
    return Taxonomy(snapshot.categories.get(jurisdiction_id, ()))


def _known_providers(snapshot, query: CourseQuery, notices: list[str]):
    """Drop unknown provider slugs (with a notice); the ids of the known ones."""
    if not query.providers:
        return query, []
    known = snapshot.provider_by_slug
    for slug in query.providers:
        if slug not in known:
            notices.append(f"Unknown provider '{slug[:60]}' was ignored.")
    query = replace(query, providers=tuple(s for s in query.providers if s in known))
    return query, [known[s] for s in query.providers]


@dataclass
class _Found:
    selection: facet_counts.Selection
    match: fulltext.Match | None
    title_hits: np.ndarray | None


@dataclass
class _Matched:
    """A text match's result: the statement and the ids it found (all, and by title)."""

    match: fulltext.Match
    every: np.ndarray
    title_ids: np.ndarray


def _match(session, query, text_query, *, fuzzy=False, verify=False):
    """Run the text match; with `verify` (no snapshot verified in this transaction yet) the same
    statement reads the publish version: (verified snapshot or None, _Matched or None). None
    for the match when the close-match fallback has nothing to try."""
    match = fulltext.match(session.get_bind().dialect.name, text_query, fuzzy=fuzzy)
    if match is None:
        return None, None
    version, every, title_ids = psql.match_ids(
        session, match, titles=query.effective_sort == "relevance", version=verify
    )
    snapshot = published_index.verify(session, version) if version is not None else None
    return snapshot, _Matched(match, every, title_ids)


def _first(session, query, text_query):
    """The verified snapshot and the first text match (None without text): one statement for
    both when this transaction has not verified a snapshot yet (a public search's only one)."""
    snapshot = published_index.loaded(session)
    if text_query is None:
        return snapshot or published_index.current(session), None
    verified, matched = _match(session, query, text_query, verify=snapshot is None)
    return snapshot or verified, matched


def _find(
    session,
    snapshot,
    query,
    taxonomy,
    provider_ids,
    jurisdiction_id,
    today,
    text_query,
    *,
    fuzzy=False,
    matched: _Matched | None = None,
):
    """The selection for `query` with `text_query` as its words (None: no text), or for the
    text match already run (`matched`); None when the close-match fallback has nothing to try."""
    s = snapshot.slice(jurisdiction_id)
    rows = titles = None
    if matched is None and text_query is not None:
        _, matched = _match(session, query, text_query, fuzzy=fuzzy)
        if matched is None:
            return None
    if matched is not None:
        rows, titles = s.locate(matched.every), s.locate(matched.title_ids)
    selection = facet_counts.select(
        s, query, taxonomy, provider_ids, today_ordinal=today.toordinal(), rows=rows
    )
    return _Found(selection, matched.match if matched else None, titles)


def vocabulary(session, snapshot, jurisdiction_id: int | None) -> dict[str, int]:
    """Words of the published courses (titles, descriptions, category names) with the number of
    times each occurs, read once per publish version and worker, on the first search that needs it."""
    key = jurisdiction_id if jurisdiction_id is not None else -1
    found = snapshot.vocabulary.get(key)
    if found is None:
        where = "" if jurisdiction_id is None else " WHERE c.jurisdiction_id = :jid"
        counts: Counter = Counter()
        for title, description in session.execute(
            text(
                "SELECT c.title, c.description FROM search_published sp "
                "JOIN courses c ON c.id = sp.course_id" + where
            ),
            {"jid": jurisdiction_id},
        ):
            counts.update(fulltext.words(f"{title} {description or ''}"))
        for row in snapshot.categories.get(jurisdiction_id, ()):
            counts.update(fulltext.words(row[2]))
        found = snapshot.vocabulary[key] = dict(counts)
    return found


def search(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    *,
    jurisdiction_id: int | None = None,
    link: Callable[[str], str] = lambda args: "",
    today: dt.date | None = None,
    marked: bool = True,
) -> Result:
    """One page of the published courses of a jurisdiction, with total and facet counts. Reads
    the publish version, the text match's ids (one or two passes) and the page's rows; when the
    words as typed match nothing, the corrected query's results (then close matches) instead.
    `marked=False` leaves the matched words unmarked (formats that show no highlight)."""
    today = today or dt.date.today()
    notices = list(query.notices)
    parsed = fulltext.parse(query.q) if query.q else None
    snapshot, matched = _first(session, query, parsed)
    query, provider_ids = _known_providers(snapshot, query, notices)

    def find(text_query, fuzzy=False, matched=None):
        return _find(
            session,
            snapshot,
            query,
            taxonomy,
            provider_ids,
            jurisdiction_id,
            today,
            text_query,
            fuzzy=fuzzy,
            matched=matched,
        )

    found = find(parsed, matched=matched)
    fuzzy, corrected = False, None
    if found.selection.total == 0 and parsed is not None:
        fix = fulltext.correct(query.q, vocabulary(session, snapshot, jurisdiction_id))
        again = find(fulltext.parse(fix)) if fix else None
        if again is not None and again.selection.total:
            found, fuzzy, corrected = again, True, fix
            notices.append(f"No course matches “{query.q}”; showing results for “{fix}”.")
        else:
            loose = find(parsed, fuzzy=True)
            if loose is not None and loose.selection.total:
                found, fuzzy = loose, True
                notices.append(
                    f"No course matches every word of “{query.q}”; showing close matches."
                )
    selection = found.selection
    total = selection.total
    offset = (query.page - 1) * query.per_page
    courses: list[dict] = []
    if total and offset < total:
        ids = facet_counts.ordered(
            selection,
            query.effective_sort,
            title_hits=found.title_hits,
            limit=query.per_page,
            offset=offset,
        )
        courses = psql.page_rows(
            session,
            ids,
            today=today,
            match=found.match,
            marked=marked,
            taxonomy=taxonomy,
            memo=snapshot.memo.setdefault("rows", {}),
        )
    elif total and query.page > 1:
        pages = -(-total // query.per_page)
        notices.append(f"Page {query.page} is past the end: there are {pages} page(s).")
    facets = facet_counts.build(query, selection.counts, taxonomy, link, snapshot.providers)
    return Result(query, total, courses, facets, notices, fuzzy, corrected)


def _all(session, query, taxonomy, jurisdiction_id, today) -> tuple[_Found, list[str]]:
    parsed = fulltext.parse(query.q) if query.q else None
    snapshot, matched = _first(session, query, parsed)
    query, provider_ids = _known_providers(snapshot, query, [])
    found = _find(
        session,
        snapshot,
        query,
        taxonomy,
        provider_ids,
        jurisdiction_id,
        today,
        parsed,
        matched=matched,
    )
    return found, query


def export_rows(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    *,
    jurisdiction_id: int | None = None,
    today: dt.date | None = None,
) -> Iterator[dict]:
    """Every published course of the jurisdiction matching the query (no paging), in the
    query's order (the order of its pages), read in chunks. Which courses is decided now (the
    snapshot verified in the caller's request); their rows are read as the iterator is."""
    today = today or dt.date.today()
    found, query = _all(session, query, taxonomy, jurisdiction_id, today)
    ids = facet_counts.ordered(found.selection, query.effective_sort, title_hits=found.title_hits)
    return _chunks(session, ids, taxonomy, today)


def _chunks(session, ids, taxonomy, today) -> Iterator[dict]:
    for start in range(0, len(ids), EXPORT_CHUNK):
        courses = psql.page_rows(session, ids[start : start + EXPORT_CHUNK], today=today)
        psql.attach_categories(session, courses, taxonomy)
        yield from courses


def newest(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    *,
    jurisdiction_id: int | None = None,
    limit: int = 50,
    today=None,
):
    """The most recently approved published courses matching the query (for the Atom feed)."""
    today = today or dt.date.today()
    found, _ = _all(session, query, taxonomy, jurisdiction_id, today)
    ids = facet_counts.ordered(found.selection, "newest", limit=limit)
    courses = psql.page_rows(session, ids, today=today)
    psql.attach_categories(session, courses, taxonomy)
    return courses


def get_published(
    session, course_id: int, taxonomy: Taxonomy, *, jurisdiction_id: int | None = None, today=None
) -> dict | None:
    """One published course of the jurisdiction, or None when it is unknown, unapproved,
    expired or another jurisdiction's. One statement: the row, its decided categories and the
    publish version (which verifies the request's snapshot, see snapshot.verify)."""
    today = today or dt.date.today()
    dialect = session.get_bind().dialect.name
    mine = "" if jurisdiction_id is None else " AND c.jurisdiction_id = :jid"
    statement = (
        f"SELECT {psql.COLUMNS}, c.objectives, c.decided_at, {psql.categories_column(dialect)}, "
        f"{published_index.VERSION_COLUMNS} FROM courses c "
        "JOIN providers p ON p.id = c.provider_id WHERE c.id = :id AND "
        + " AND ".join(published_sql())
        + mine
    )
    rows = psql.run(
        session,
        statement,
        {"id": course_id, "today": psql.today_param(dialect, today), "jid": jurisdiction_id},
    )
    if not rows:
        published_index.current(session)
        return None
    row = rows[0]
    published_index.verify(session, published_index.version_of(row[-2], row[-1]))
    course = psql.course_dict(row, marked=False)
    course["objectives"] = row[psql.N_COLUMNS] or ""
    psql.attach_column([course], [row[psql.N_COLUMNS + 2]], taxonomy)
    return course


def requirement_counts(session, jurisdiction_id: int | None, today: dt.date) -> dict:
    """Per category: (delivery, is one hour, number of published courses), for the finder."""
    snapshot = published_index.current(session)
    return facet_counts.requirement_counts(snapshot.slice(jurisdiction_id), today.toordinal())
