"""Facet counts of the published catalog: one GROUP BY over the matching rows, the rest in Python.

Facets: OR within a facet, AND across facets; each facet's counts apply every filter except its own,
so a visitor sees what adding a value would bring. Every filter is a function of a course's
(provider, hours, delivery, decided categories), and `search_published.facets` holds the last three
as one key ("1|online|,3,7,"). So one statement groups the matching rows by (provider_id, facets) -
a few hundred groups even for tens of thousands of matches - and the total and every facet's counts
are summed here from those groups, exactly, with no join and no ORM objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import bindparam, text

from catalog.models import DELIVERY_MODES

FACETS = ("area", "topic", "hours", "delivery", "provider")
DELIVERY_LABELS = {
    "in-person": "In person",
    "online": "Online",
    "live-virtual": "Live virtual",
    "blended": "Blended",
}
TOP_PROVIDERS = 15
_CENT = Decimal("0.01")


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str = ""


@lru_cache(maxsize=4096)
def parse_key(key: str) -> tuple[Decimal, str, frozenset[int]]:
    """'1.50|online|,3,7,' -> (Decimal('1.50'), 'online', {3, 7})."""
    hours, delivery, cats = key.split("|", 2)
    ids = frozenset(int(c) for c in cats.split(",") if c)
    return Decimal(hours).quantize(_CENT), delivery, ids


def format_hours(value: Decimal) -> str:
    return format(value.normalize(), "f")


def count(session, sql, query, taxonomy, provider_ids: list[int]) -> tuple[int, dict[str, dict]]:
    """Total and every facet's counts for the search `sql` (publishing_sql.Sql)."""
    statement = (
        f"SELECT sp.provider_id, sp.facets, count(*) FROM {sql.source} "
        f"WHERE {' AND '.join(sql.base_where)} GROUP BY sp.provider_id, sp.facets"
    )
    groups = session.execute(sql.statement(statement), sql.params).all()
    return tally(groups, query, taxonomy, provider_ids)


def tally(groups, query, taxonomy, provider_ids: list[int]) -> tuple[int, dict[str, dict]]:
    """Sum (provider_id, facets key, n) groups into the total and per-facet counts.

    A group that passes every filter counts everywhere; one that fails a single filter counts
    only in that facet (whose own filter is left out); one that fails two counts nowhere. The
    groups are first summed per key (a few dozen), and only those sums are split into areas,
    topics, hours and delivery."""
    areas = taxonomy.by_slug("area")
    topics = taxonomy.by_slug("topic")
    area_ids = {r[0] for r in areas.values()}
    topic_ids = {r[0] for r in topics.values()}
    want_areas = {areas[s][0] for s in query.areas}
    want_topics = {topics[s][0] for s in query.topics}
    want_hours = set(query.hours)
    want_delivery = set(query.deliveries)
    want_providers = set(provider_ids) if query.providers else set()

    failed_by_key: dict[str, tuple[str, ...]] = {}

    def failed(key: str) -> tuple[str, ...]:
        """The filters other than provider that courses with this key fail."""
        hours, delivery, cats = parse_key(key)
        return tuple(
            facet
            for facet, ok in (
                ("area", not want_areas or cats & want_areas),
                ("topic", not want_topics or cats & want_topics),
                ("hours", not want_hours or hours in want_hours),
                ("delivery", not want_delivery or delivery in want_delivery),
            )
            if not ok
        )

    total = 0
    providers: dict[int, int] = {}
    passing: dict[str, int] = {}  # key -> courses passing every filter
    failing_one: dict[str, int] = {}  # key -> courses failing only the key's one failed filter
    for provider_id, key, n in groups:
        fails = failed_by_key.get(key)
        if fails is None:
            fails = failed_by_key[key] = failed(key)
        provider_ok = not want_providers or provider_id in want_providers
        if fails:
            if provider_ok and len(fails) == 1:
                failing_one[key] = failing_one.get(key, 0) + n
            continue
        providers[provider_id] = providers.get(provider_id, 0) + n
        if provider_ok:
            total += n
            passing[key] = passing.get(key, 0) + n

    counts: dict[str, dict] = {f: {} for f in FACETS}
    counts["provider"] = providers

    def add(facet: str, value, n: int) -> None:
        bucket = counts[facet]
        bucket[value] = bucket.get(value, 0) + n

    for sums, only_failed in ((passing, False), (failing_one, True)):
        for key, n in sums.items():
            hours, delivery, cats = parse_key(key)
            wanted = failed_by_key[key] if only_failed else FACETS
            if "area" in wanted:
                for cid in cats & area_ids:
                    add("area", cid, n)
            if "topic" in wanted:
                for cid in cats & topic_ids:
                    add("topic", cid, n)
            if "hours" in wanted:
                add("hours", hours, n)
            if "delivery" in wanted:
                add("delivery", delivery, n)
    return total, counts


def build(
    session, query, counts: dict, taxonomy, link: Callable[[dict], str]
) -> dict[str, list[FacetValue]]:
    """FacetValue lists (count, selected flag, toggle URL) from the counts; provider names are
    read for the top providers and the selected ones only."""
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
    top = sorted(counts["provider"].items(), key=lambda kv: -kv[1])[:TOP_PROVIDERS]
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
