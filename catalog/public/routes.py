"""Public pages (no login): start page with the requirement finder, search, course page, exports.

Every list view calls the same data function (listing.search / export_rows) and only renders.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import orjson
from flask import (
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import text

from catalog.errors import error_response
from catalog.extensions import db
from catalog.public import bp, exports
from catalog.services import requirements
from catalog.services.cleaning import clean_text
from catalog.services.publishing import finder, listing
from catalog.services.publishing.listing import BadQuery, CourseQuery, Taxonomy
from catalog.services.publishing.query import query_string
from catalog.serving import jurisdiction_code


def safe_url(value: str | None) -> str:
    """Only http(s) links are rendered as links (never javascript: and friends)."""
    value = (value or "").strip()
    return value if urlsplit(value).scheme in ("http", "https") else ""


@bp.app_template_filter("safe_url")
def _safe_url_filter(value):
    return safe_url(value)


def served() -> tuple[int, str] | None:
    """(id, course id label) of the jurisdiction the app serves (CATALOG_JURISDICTION), None
    before anything is seeded; an unknown configured code is a 404 naming it."""
    return listing.served(db.session, jurisdiction_code())


def served_id() -> int | None:
    """Id of the served jurisdiction (None before anything is seeded)."""
    jurisdiction = served()
    return jurisdiction[0] if jurisdiction else None


def taxonomy() -> Taxonomy:
    """The served jurisdiction's categories."""
    return listing.taxonomy_of(db.session, served_id())


def course_query() -> CourseQuery:
    """The search from the query arguments; a bad argument is a 400 naming it."""
    try:
        return CourseQuery.from_args(request.args, taxonomy())
    except BadQuery as exc:
        abort(make_response(error_response(400, str(exc), details=[str(exc)])))


def chosen(available) -> list[str]:
    """The export columns `_col=`/`_nocol=` choose; an unknown name is a 400 naming it."""
    try:
        return exports.choose_columns(request.args, available)
    except BadQuery as exc:
        abort(make_response(error_response(400, str(exc), details=[str(exc)])))


def streams_all() -> bool:
    """`_stream=on` (Datasette's word): every matching course in one response, not a page."""
    return (request.args.get("_stream") or "").strip().lower() in ("1", "on", "true", "yes")


def page_url(course_id: int) -> str:
    """The absolute URL of a course's public page."""
    return url_for("public.course", course_id=course_id, _external=True)


def _route(endpoint: str, external: bool = False, **values) -> str:
    """url_for(endpoint, _external=external, **values), built once per worker for each request
    root (scheme, host, script root): the public pages build the same few routes on every
    request. The cache is dropped when full (Host headers are the visitor's to choose)."""
    cache = current_app.extensions.setdefault("public_routes", {})
    environ = request.environ  # the request root, from the environ (root_url parses it anew)
    key = (
        endpoint,
        external,
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME"),
        *values.items(),
    )
    found = cache.get(key)
    if found is None:
        if len(cache) >= 512:
            cache.clear()
        found = cache[key] = url_for(endpoint, _external=external, **values)
    return found


_ID_MARK = 987654321987  # a course id no route spells otherwise, cut out of one built URL


def course_links(external: bool = True):
    """`page_url` for many courses: the URL of a course page as url_for builds it, with the route
    built once (a search page links each of its courses, an export every matching one)."""
    head, _, tail = _route("public.course", external, course_id=_ID_MARK).partition(str(_ID_MARK))
    return lambda course_id: f"{head}{int(course_id)}{tail}"


def _link(endpoint: str):
    """Links to `endpoint` from a query string (CourseQuery.toggled_strings), as url_for builds
    them, but with the route built once: a search page has a toggle link per facet value, and
    url_for each time was a noticeable share of a search request."""
    base = _route(endpoint)
    return lambda args: f"{base}?{args}" if args else base


def _links_with(query: CourseQuery):
    """`url_with(endpoint, **changes)` for a template: url_for(endpoint, **query.to_args(**changes)),
    with each endpoint's route built once."""

    def url_with(endpoint: str, **changes) -> str:
        args = query_string(query.to_args(**changes))
        return f"{_route(endpoint)}?{args}" if args else _route(endpoint)

    return url_with


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_response(payload: dict) -> Response:
    """`jsonify(payload)` through orjson: the same JSON, in the payload's key order, encoded in a
    tenth of the time (the search answer's encoding was ~10 % of the request)."""
    return Response(orjson.dumps(payload, default=_json_default), mimetype="application/json")


def _attachment(name: str) -> dict:
    stamp = dt.date.today().isoformat()
    return {"Content-Disposition": f'attachment; filename="approved-courses-{stamp}.{name}"'}


@bp.get("/")
def index():
    """The start page: the current requirement and the finder."""
    today = dt.date.today()
    period = requirements.current_set(db.session, today, served_id())
    cards = finder.cards(db.session, period, taxonomy(), today, served_id()) if period else []
    return render_template(
        "public/index.html", period=period, cards=cards, chart=finder.hours_chart(period)
    )


@bp.get("/courses")
def courses():
    """The search page: one page of matching approved courses with facets."""
    query = course_query()
    result = listing.search(
        db.session, query, taxonomy(), jurisdiction_id=served_id(), link=_link("public.courses")
    )
    banner = finder.banner(db.session, query, taxonomy(), dt.date.today(), served_id())
    return render_template(
        "public/courses.html",
        result=result,
        query=query,
        banner=banner,
        sorts=listing.SORTS,
        export_columns=exports.CSV_HEADER,
        default_columns=exports.CSV_HEADER,
        url_with=_links_with(query),
        course_url=course_links(external=False),
    )


def _facets_json(facets: dict) -> dict:
    """The page's facets as JSON: per facet, each value with its label, count, selected flag and
    the URL that toggles it."""
    return {
        name: [
            {
                "value": v.value,
                "label": v.label,
                "count": v.count,
                "selected": v.selected,
                "url": v.url,
            }
            for v in values
        ]
        for name, values in facets.items()
    }


def _next_page_url(query) -> str:
    """The JSON's next page, keeping the columns the request chose."""
    picked = {k: request.args.getlist(k) for k in ("_col", "_nocol") if k in request.args}
    args = query_string({**query.to_args(page=query.page + 1), **picked})
    return f"{_route('public.courses_json', True)}?{args}"


@bp.get("/courses.json")
def courses_json():
    """One page of the search as JSON; with `_stream=on` every matching course at once."""
    query = course_query()
    keys = chosen(exports.JSON_KEYS)
    if tuple(keys) == exports.JSON_KEYS:
        keys = None  # every key in its order (no _col=/_nocol=): each item as course_json builds it
    if streams_all():
        rows = listing.export_rows(db.session, query, taxonomy(), jurisdiction_id=served_id())
        return Response(
            stream_with_context(exports.json_stream(rows, course_links(), keys)),
            mimetype="application/json",
            headers={"Cache-Control": "no-store"},
        )
    result = listing.search(
        db.session,
        query,
        taxonomy(),
        jurisdiction_id=served_id(),
        link=_link("public.courses_json"),
        marked=False,  # the JSON has no highlighted fields
    )
    links = course_links()
    return _json_response(
        {
            "total": result.total,
            "page": query.page,
            "per_page": query.per_page,
            "pages": result.pages,
            "next": _next_page_url(query) if result.has_next else None,
            "courses": [exports.course_json(c, links(c["id"]), keys) for c in result.courses],
            "facets": _facets_json(result.facets),
            "notices": result.notices,
            "close_matches": result.fuzzy,
            "corrected_query": result.corrected,
        }
    )


@bp.get("/courses.csv")
def courses_csv():
    """Every matching course as CSV (never paged), contract columns first; `_col=` chooses."""
    query = course_query()
    columns = chosen(exports.CSV_HEADER)
    rows = listing.export_rows(db.session, query, taxonomy(), jurisdiction_id=served_id())
    body = stream_with_context(exports.csv_lines(rows, course_links(), columns))
    return Response(
        body,
        mimetype="text/csv",
        headers={**_attachment("csv"), "Cache-Control": "no-store"},
    )


@bp.get("/courses.xlsx")
def courses_xlsx():
    """Every matching course as an XLSX sheet with typed cells; `_col=` chooses columns."""
    query = course_query()
    columns = chosen(exports.CSV_HEADER)
    rows = listing.export_rows(db.session, query, taxonomy(), jurisdiction_id=served_id())
    data = exports.xlsx_bytes(rows, course_links(), columns)
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment("xlsx"),
    )


@bp.get("/courses.atom")
def courses_atom():
    """The newest matching courses as an Atom feed."""
    query = course_query()
    items = listing.newest(db.session, query, taxonomy(), jurisdiction_id=served_id())
    updated = max(
        (c["approved_at"] for c in items if c["approved_at"]),
        default=dt.datetime(2000, 1, 1),
    )
    body = render_template(
        "public/feed.atom.xml",
        items=items,
        updated=updated,
        query=query,
        self_url=url_for("public.courses_atom", **query.to_args(page=1), _external=True),
        html_url=url_for("public.courses", **query.to_args(page=1), _external=True),
        page_url=course_links(),
    )
    # XML 1.0 has no place for control characters, whatever older rows hold
    return Response(clean_text(body), mimetype="application/atom+xml")


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    """One published course's page (404 when it is not published)."""
    found = listing.get_published(db.session, course_id, taxonomy(), jurisdiction_id=served_id())
    if found is None:
        abort(404, description="There is no approved, current course with that number.")
    jurisdiction = served()
    label = (jurisdiction[1] if jurisdiction else None) or "Control number"
    url = page_url(course_id)
    return render_template(
        "public/course.html",
        course=found,
        id_label=label,
        json_ld=Markup(exports.json_ld(found, url, label)),  # escaped by exports.json_ld
        page_url=url,
    )


@bp.get("/healthz")
def healthz():
    """200 when the app can reach its database."""
    db.session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
