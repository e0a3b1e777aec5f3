"""Filters, facet counts and order of the published catalog, over the in-memory arrays.

Facets: OR within a facet, AND across facets; each facet's counts apply every filter except its own,
so a visitor sees what adding a value would bring. Every filter is a function of a course's
provider, hours, delivery and decided categories, which the worker's `Slice` holds as arrays
(snapshot.py), so each filter is one boolean mask, each facet's counts one mask and one
bincount, and the page is the top of the matching rows by a precomputed sort position: no
database round trip, whatever the number of matches.

`remote` is a delivery choice of its own: online or live virtual (both taken without travelling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from catalog.models import DELIVERY_MODES
from catalog.models.types import format_hours
from catalog.services.publishing.rule import still_current
from catalog.services.publishing.snapshot import Slice

FACETS = ("area", "topic", "hours", "delivery", "provider")
REMOTE = "remote"
REMOTE_MODES = ("online", "live-virtual")
DELIVERY_CHOICES = (*DELIVERY_MODES, REMOTE)
DELIVERY_LABELS = {
    "in-person": "In person",
    "online": "Online",
    "live-virtual": "Live virtual",
    "blended": "Blended",
    REMOTE: "Remote (online or live virtual)",
}
TOP_PROVIDERS = 15
_RANK_TITLE_BITS = 40  # relevance key: tier << 52 | title length << 40 | course id


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str = ""


def delivery_modes(choices) -> set[str]:
    """The delivery modes a set of choices stands for (`remote` = online or live virtual)."""
    modes = set(choices)
    if REMOTE in modes:
        modes.discard(REMOTE)
        modes.update(REMOTE_MODES)
    return modes


@dataclass
class Selection:
    """The matching rows of one search: positions into the slice (in no particular order),
    with the total and every facet's counts."""

    slice: Slice
    positions: np.ndarray
    total: int
    counts: dict[str, dict]


def select(
    s: Slice,
    query,
    taxonomy,
    provider_ids: list[int],
    *,
    today_ordinal: int,
    rows: np.ndarray | None = None,
) -> Selection:
    """Apply the query's filters to the slice (to `rows` of it, the text matches, when given)."""
    rows_all = rows is None

    def col(values: np.ndarray) -> np.ndarray:
        return values if rows_all else values[rows]

    hours_c, delivery_c, provider_c = col(s.hours), col(s.delivery), col(s.provider)
    cats_c = s.cats if rows_all else s.cats[rows]
    base = still_current(col(s.until), today_ordinal)
    if query.max_hours is not None:
        fits = np.array([h <= query.max_hours for h in s.hours_values] or [False])
        base &= fits[hours_c]
    filters: dict[str, np.ndarray] = {}
    for name, slugs, kind in (("area", query.areas, "area"), ("topic", query.topics, "topic")):
        if slugs:
            known = taxonomy.by_slug(kind)
            cols = [s.column(known[slug][0]) for slug in slugs if slug in known]
            cols = [c for c in cols if c is not None]
            filters[name] = cats_c[:, cols].any(axis=1) if cols else np.zeros(len(base), dtype=bool)
    if query.hours:
        wanted = set(query.hours)
        filters["hours"] = np.array([h in wanted for h in s.hours_values] or [False])[hours_c]
    if query.deliveries:
        modes = delivery_modes(query.deliveries)
        filters["delivery"] = np.array([m in modes for m in DELIVERY_MODES])[delivery_c]
    if query.providers:
        wanted_providers = np.isin(s.provider_ids, np.array(provider_ids, dtype=np.int64))
        filters["provider"] = (
            wanted_providers[provider_c] if len(s.provider_ids) else np.zeros(0, dtype=bool)
        )

    def combined(leave_out: str | None) -> np.ndarray:
        mask = base
        for name, values in filters.items():
            if name != leave_out:
                mask = mask & values
        return mask

    every = combined(None)
    counts: dict[str, dict] = {}
    area_kind = {r[0]: r[3] for r in taxonomy.rows}
    category_sums: dict[str | None, np.ndarray] = {}  # by the filter left out (None: none)
    for facet in FACETS:
        mask = combined(facet) if facet in filters else every
        if facet in ("area", "topic"):
            left_out = facet if facet in filters else None
            sums = category_sums.get(left_out)
            if sums is None:  # area and topic share one count when neither is filtered
                sums = category_sums[left_out] = (
                    np.count_nonzero(cats_c[mask], axis=0) if len(s.cat_ids) else []
                )
            counts[facet] = {
                cid: int(n)
                for cid, n in zip(s.cat_ids, sums, strict=False)
                if n and area_kind.get(cid) == facet
            }
        elif facet == "hours":
            sums = np.bincount(hours_c[mask], minlength=len(s.hours_values))
            counts[facet] = {h: int(n) for h, n in zip(s.hours_values, sums, strict=False) if n}
        elif facet == "delivery":
            sums = np.bincount(delivery_c[mask], minlength=len(DELIVERY_MODES))
            by_mode = {m: int(n) for m, n in zip(DELIVERY_MODES, sums, strict=False) if n}
            remote = sum(by_mode.get(m, 0) for m in REMOTE_MODES)
            counts[facet] = {**by_mode, **({REMOTE: remote} if remote else {})}
        else:
            sums = np.bincount(provider_c[mask], minlength=len(s.provider_ids))
            counts[facet] = {
                int(pid): int(n) for pid, n in zip(s.provider_ids, sums, strict=False) if n
            }
    matched = np.flatnonzero(every)
    positions = matched if rows_all else rows[matched]
    return Selection(s, positions, len(matched), counts)


def ordered(
    selection: Selection,
    sort: str,
    *,
    title_hits: np.ndarray | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[int]:
    """Course ids of the selection in `sort` order ("relevance": title matches first (the slice
    positions in `title_hits`), shorter titles first, then by id), from `offset`, at most `limit`."""
    s, positions = selection.slice, selection.positions
    if not len(positions):
        return []
    if sort == "relevance":
        tier = np.ones(len(positions), dtype=np.int64)
        if title_hits is not None and len(title_hits):
            hit = np.zeros(s.size, dtype=bool)  # a mask over the slice: no sort, unlike np.isin
            hit[title_hits] = True
            tier[hit[positions]] = 0
        length = np.minimum(s.title_length[positions], 4095).astype(np.int64)
        key = (tier << 52) | (length << _RANK_TITLE_BITS) | s.ids[positions]
    else:
        key = s.order.get(sort, s.order["title"])[positions]
    wanted = len(key) if limit is None else min(len(key), offset + limit)
    if wanted <= 0:
        return []
    if wanted < len(key) // 4:
        top = np.argpartition(key, wanted - 1)[:wanted]
        top = top[np.argsort(key[top], kind="stable")]
    else:
        top = np.argsort(key, kind="stable")[:wanted]
    return s.ids[positions[top[offset:]]].tolist()


def build(
    query, counts: dict, taxonomy, link: Callable[[dict], str], providers: dict
) -> dict[str, list[FacetValue]]:
    """FacetValue lists (count, selected flag, toggle URL) from the counts; `providers` maps
    provider ids to (slug, name, url); `link` makes a URL of a query string."""
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
        for mode in DELIVERY_CHOICES
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
    wanted_ids = {pid for pid, _ in top}
    shown = [
        (pid, slug, name)
        for pid, (slug, name, _) in providers.items()
        if pid in wanted_ids or slug in query.providers
    ]
    shown.sort(key=lambda p: (-counts["provider"].get(p[0], 0), p[2].lower(), p[0]))
    facets["provider"] = [
        FacetValue(slug, name, counts["provider"].get(pid, 0), slug in query.providers)
        for pid, slug, name in shown
    ]
    for facet, values in facets.items():
        raws = [Decimal(v.value) if facet == "hours" else v.value for v in values]
        for value, args in zip(values, query.toggled_strings(facet, raws), strict=True):
            value.url = link(args)
    return facets


def requirement_counts(s: Slice, today_ordinal: int) -> dict[int, list[tuple[str, bool, int]]]:
    """Per category: (delivery, is one hour, number of published courses), for the finder."""
    live = still_current(s.until, today_ordinal)
    one_hour = np.array([h == 1 for h in s.hours_values] or [False])[s.hours] if s.size else live
    out: dict[int, list[tuple[str, bool, int]]] = {}
    for j, cid in enumerate(s.cat_ids):
        mask = live & s.cats[:, j]
        if not mask.any():
            continue
        code = s.delivery[mask].astype(np.int64) * 2 + one_hour[mask]
        sums = np.bincount(code, minlength=2 * len(DELIVERY_MODES))
        out[cid] = [(DELIVERY_MODES[k // 2], bool(k % 2), int(n)) for k, n in enumerate(sums) if n]
    return out
