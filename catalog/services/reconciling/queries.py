"""Reconciliation queries: the size limits, the two types, the properties a query may carry,
and the `queries=` parameter parsed into Query objects (BadRequest or TooLarge otherwise)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from catalog.services.errors import ServiceError
from catalog.services.reconciling.index import HOURS

MATCH_THRESHOLD = 95
MATCH_TITLE_MIN = 90
MATCH_MARGIN = 5
DEFAULT_LIMIT = 5
MAX_LIMIT = 25
MAX_BATCH = 50  # queries per request (the manifest asks for 10)
MAX_QUERY_CHARS = 500  # per query string
MAX_PROPERTIES = 10  # per query
RETRIEVE = 25  # candidates per query from each retrieval signal
TYPES = {"course": "Approved course", "category": "Course category"}
QUERY_PROPERTIES = {
    "provider": "Provider (slug or name)",
    "hours": "Hours",
    "delivery": "Delivery (online, in-person, live-virtual, blended)",
    "control_number": "Control number",
}


class BadRequest(ServiceError):
    """A batch that is not what the 0.2 protocol describes (400)."""

    status = 400


class TooLarge(ServiceError):
    """A batch or query over the size limits (413)."""

    status = 413


@dataclass(frozen=True)
class Query:
    """One parsed query of a batch."""

    key: str
    text: str
    types: tuple[str, ...]
    limit: int
    properties: dict[str, list[str]]


def _values(v) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items[:20]:
        if isinstance(item, dict):
            item = item.get("id") or item.get("name")
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, str | int | float):
            out.append(str(item).strip()[:MAX_QUERY_CHARS])
    return [x for x in out if x]


def parse_batch(raw: str | None) -> list[Query]:
    """The `queries=` parameter as Query objects; BadRequest or TooLarge with a clear message."""
    if raw is None or not raw.strip():
        raise BadRequest("Send the queries as a JSON object in the `queries` parameter.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("`queries` is not valid JSON.", details=[str(exc)[:200]]) from None
    if not isinstance(data, dict):
        raise BadRequest('`queries` must be an object such as {"q0": {"query": "..."}}.')
    if len(data) > MAX_BATCH:
        raise TooLarge(
            f"Too many queries in one batch: {len(data)} (at most {MAX_BATCH}).",
            details=[f"Send at most {MAX_BATCH} queries per request."],
        )
    queries = []
    for key, q in data.items():
        if not isinstance(q, dict):
            raise BadRequest(f"Query '{key[:40]}' must be an object.")
        query = q.get("query", "")
        if not isinstance(query, str):
            raise BadRequest(f"Query '{key[:40]}': `query` must be a string.")
        if len(query) > MAX_QUERY_CHARS:
            raise TooLarge(
                f"Query '{key[:40]}' is {len(query)} characters long (at most {MAX_QUERY_CHARS})."
            )
        kind = q.get("type") or "course"
        types = tuple(kind) if isinstance(kind, list) else (kind,)
        if not all(isinstance(t, str) for t in types):
            raise BadRequest(f"Query '{key[:40]}': `type` must be a string or a list of strings.")
        limit = q.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
            raise BadRequest(f"Query '{key[:40]}': `limit` must be a positive number.")
        props = q.get("properties") or []
        if not isinstance(props, list) or len(props) > MAX_PROPERTIES:
            raise BadRequest(
                f"Query '{key[:40]}': `properties` must be a list of at most "
                f"{MAX_PROPERTIES} {{pid, v}} objects."
            )
        properties: dict[str, list[str]] = {}
        for p in props:
            if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
                raise BadRequest(f"Query '{key[:40]}': each property needs `pid` and `v`.")
            properties.setdefault(p["pid"], []).extend(_values(p["v"]))
        queries.append(
            Query(
                key,
                query.strip(),
                types[:5],
                min(int(limit) or DEFAULT_LIMIT, MAX_LIMIT),
                properties,
            )
        )
    return queries


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def query_hours(query: Query) -> Decimal | None:
    """The hours a query asks for: its `hours` property, else a "(1 hr)" in its text."""
    for value in query.properties.get("hours", []):
        number = _decimal(value)
        if number is not None:
            return number
    found = HOURS.search(query.text)
    return _decimal(found.group(1)) if found else None
