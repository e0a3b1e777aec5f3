"""The query of the published list: request arguments validated into a CourseQuery (contracts.md).

`CourseQuery.from_args()` keeps what it can: unknown filter values are dropped with a notice,
unusable paging is a BadQuery (answered with 400), per_page above 100 is clamped. `to_args()` and
`toggled()` give the URL arguments of a state, for links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from urllib.parse import quote_plus

from sqlalchemy import text

from catalog.services.publishing import search as fulltext
from catalog.services.publishing.facets import DELIVERY_CHOICES, format_hours

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
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
URL_SAFE = "!$'()*,/:;?@"  # characters werkzeug's url_for leaves unquoted in a query string


@lru_cache(maxsize=8192)
def _pair(name: str, value: str) -> str:
    return f"{quote_plus(name, safe=URL_SAFE)}={quote_plus(value, safe=URL_SAFE)}"


def query_string(args: dict) -> str:
    """urlencode(args, doseq=True, safe=URL_SAFE), as url_for encodes query arguments, with each
    name=value pair encoded once per worker: the same few pairs recur in every facet link."""
    return "&".join(
        _pair(name, str(v))
        for name, values in args.items()
        for v in (values if isinstance(values, list | tuple) else (values,))
    )


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
        deliveries = known("delivery", values("delivery"), DELIVERY_CHOICES, "delivery mode")
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
        get = changes.get
        args: dict[str, list[str] | str] = {}
        q = get("q", self.q)
        if q:
            args["q"] = q
        for name, attr in _LIST_ARGS:
            vals = get(attr, getattr(self, attr))
            if vals:
                args[name] = [format_hours(h) for h in vals] if name == "hours" else list(vals)
        max_hours = get("max_hours", self.max_hours)
        if max_hours is not None:
            args["max_hours"] = format_hours(max_hours)
        sort = get("sort", self.sort)
        if sort:
            args["sort"] = sort
        per_page = get("per_page", self.per_page)
        if per_page != DEFAULT_PER_PAGE:
            args["per_page"] = str(per_page)
        page = get("page", self.page)
        if page != 1:
            args["page"] = str(page)
        return args

    @cached_property
    def _page_one_parts(self) -> list[tuple[str, str]]:
        """(argument name, its encoded name=value pairs) of `to_args(page=1)`, encoded once."""
        return [(key, query_string({key: value})) for key, value in self.to_args(page=1).items()]

    def toggled_strings(self, facet: str, values) -> list[str]:
        """The query strings of `toggled(facet, v)` for each of `values`, encoded as
        `query_string` would, with the arguments of the other facets encoded once."""
        name, attr = facet, _FACET_ATTRS[facet]
        rank = _ARG_RANK[name]
        parts = self._page_one_parts
        head = "&".join(p for key, p in parts if _ARG_RANK[key] < rank)
        tail = "&".join(p for key, p in parts if _ARG_RANK[key] > rank)
        current = getattr(self, attr)
        shown = format_hours if facet == "hours" else str
        out = []
        for value in values:
            new = tuple(v for v in current if v != value) if value in current else (*current, value)
            middle = "&".join(_pair(name, shown(v)) for v in new)
            out.append("&".join(p for p in (head, middle, tail) if p))
        return out

    def toggled(self, facet: str, value) -> dict:
        """Arguments with one facet value added or removed (back to page 1)."""
        attr = _FACET_ATTRS[facet]
        current = getattr(self, attr)
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        return self.to_args(**{attr: new, "page": 1})


# URL argument -> CourseQuery field, in the order the arguments appear in links
_LIST_ARGS = (
    ("area", "areas"),
    ("topic", "topics"),
    ("hours", "hours"),
    ("delivery", "deliveries"),
    ("provider", "providers"),
)
_FACET_ATTRS = dict(_LIST_ARGS)
_ARG_RANK = {
    name: i for i, name in enumerate(("q", *_FACET_ATTRS, "max_hours", "sort", "per_page", "page"))
}
