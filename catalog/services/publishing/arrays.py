"""The published rows as numpy arrays (snapshot.py keeps them current): one `Slice` per
jurisdiction, the `Snapshot` of everything the public pages read that only a publish changes, and
`load()`, which reads them (a handful of queries, run when the publish version moves)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from sqlalchemy import text

from catalog.models import DELIVERY_MODES

SORT_KEYS = ("title", "hours", "fit", "newest")
_CENT = Decimal("0.01")

# One query for every published row with its jurisdiction and its position in each sort order
# (the orders of sql.ORDER_BY, computed by the database so both paths agree).
LOAD_SQL = """
SELECT sp.course_id, c.jurisdiction_id, sp.until, sp.provider_id, sp.hours, sp.delivery, sp.cats,
  row_number() OVER (ORDER BY lower(c.title), c.id),
  row_number() OVER (ORDER BY c.hours, lower(c.title), c.id),
  row_number() OVER (ORDER BY CASE WHEN c.hours = 1 THEN 0 ELSE 1 END, c.hours, lower(c.title), c.id),
  row_number() OVER (ORDER BY c.approved_at DESC, c.id DESC),
  length(c.title)
FROM search_published sp JOIN courses c ON c.id = sp.course_id
ORDER BY sp.course_id
"""


@dataclass
class Slice:
    """One jurisdiction's published courses as parallel arrays, ordered by course id.

    `cats` is a boolean matrix (course x category column, columns in `cat_ids` order);
    `hours` and `delivery` are codes into `hours_values` and DELIVERY_MODES; `provider` is a code
    into `provider_ids`; `order[sort]` is each course's position in that sort order."""

    ids: np.ndarray
    until: np.ndarray
    provider: np.ndarray
    provider_ids: np.ndarray
    hours: np.ndarray
    hours_values: tuple[Decimal, ...]
    delivery: np.ndarray
    cats: np.ndarray
    cat_ids: tuple[int, ...]
    order: dict[str, np.ndarray]
    title_length: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ids)

    def locate(self, course_ids: np.ndarray) -> np.ndarray:
        """Positions (into this slice) of those of `course_ids` that are published here."""
        if not len(self.ids) or not len(course_ids):
            return np.empty(0, dtype=np.intp)
        where = np.searchsorted(self.ids, course_ids)
        where[where >= len(self.ids)] = 0
        return where[self.ids[where] == course_ids]

    def column(self, category_id: int) -> int | None:
        try:
            return self.cat_ids.index(category_id)
        except ValueError:
            return None


def empty_slice(cat_ids: tuple[int, ...] = ()) -> Slice:
    """A slice of the published rows that holds no course."""
    none = np.empty(0, dtype=np.int64)
    return Slice(
        ids=none,
        until=np.empty(0, dtype=np.int32),
        provider=np.empty(0, dtype=np.int32),
        provider_ids=none,
        hours=np.empty(0, dtype=np.int16),
        hours_values=(),
        delivery=np.empty(0, dtype=np.int8),
        cats=np.zeros((0, len(cat_ids)), dtype=bool),
        cat_ids=cat_ids,
        order={k: np.empty(0, dtype=np.int64) for k in SORT_KEYS},
        title_length=np.empty(0, dtype=np.int32),
    )


@dataclass
class Snapshot:
    """Everything the public pages read that only a publish changes, at one `version`."""

    version: tuple
    jurisdictions: dict[str, tuple[int, str | None]]  # code -> (id, course id label)
    first_jurisdiction: str | None
    categories: dict[int | None, tuple]  # jurisdiction id (None: all) -> taxonomy rows
    providers: dict[int, tuple[str, str, str]]  # id -> (slug, name, url)
    provider_by_slug: dict[str, int]
    slices: dict[int, Slice] = field(default_factory=dict)
    vocabulary: dict[int, dict[str, int]] = field(default_factory=dict)  # filled on demand
    # Anything else derived from the rows this version covers (the site's wording): filled on
    # demand, dropped with the snapshot when the version moves.
    memo: dict = field(default_factory=dict)

    def slice(self, jurisdiction_id: int | None) -> Slice:
        """The published courses of a jurisdiction (of all, merged, when None)."""
        if jurisdiction_id is not None:
            found = self.slices.get(jurisdiction_id)
            if found is None:
                ids = tuple(r[0] for r in self.categories.get(jurisdiction_id, ()))
                found = self.slices[jurisdiction_id] = empty_slice(ids)
            return found
        if None not in self.slices:
            self.slices[None] = _merge(
                list(self.slices.values()), tuple(r[0] for r in self.categories[None])
            )
        return self.slices[None]


def _date_ordinal(value, memo: dict) -> int:
    found = memo.get(value)
    if found is None:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        found = memo[value] = day.toordinal()
    return found


def _build_slice(rows: list, cat_ids: tuple[int, ...]) -> Slice:
    if not rows:
        return empty_slice(cat_ids)
    n = len(rows)
    columns = {cid: j for j, cid in enumerate(cat_ids)}
    date_memo: dict = {}
    hours_memo: dict = {}
    hours_values: list[Decimal] = []
    cats_memo: dict[str, list[int]] = {}
    delivery_code = {mode: i for i, mode in enumerate(DELIVERY_MODES)}
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    until = np.fromiter((_date_ordinal(r[2], date_memo) for r in rows), dtype=np.int32, count=n)
    provider_raw = np.fromiter((r[3] for r in rows), dtype=np.int64, count=n)
    provider_ids, provider = np.unique(provider_raw, return_inverse=True)

    def hours_code(value) -> int:
        code = hours_memo.get(value)
        if code is None:
            number = Decimal(str(value)).quantize(_CENT)
            if number not in hours_values:
                hours_values.append(number)
            code = hours_memo[value] = hours_values.index(number)
        return code

    hours = np.fromiter((hours_code(r[4]) for r in rows), dtype=np.int16, count=n)
    delivery = np.fromiter((delivery_code.get(r[5], 0) for r in rows), dtype=np.int8, count=n)
    cats = np.zeros((n, len(cat_ids)), dtype=bool)
    for i, r in enumerate(rows):
        found = cats_memo.get(r[6])
        if found is None:
            found = cats_memo[r[6]] = [
                columns[int(c)] for c in r[6].split(",") if c and int(c) in columns
            ]
        if found:
            cats[i, found] = True
    order = {
        key: np.fromiter((r[7 + k] for r in rows), dtype=np.int64, count=n)
        for k, key in enumerate(SORT_KEYS)
    }
    title_length = np.fromiter((r[11] or 0 for r in rows), dtype=np.int32, count=n)
    return Slice(
        ids=ids,
        until=until,
        provider=provider.astype(np.int32),
        provider_ids=provider_ids,
        hours=hours,
        hours_values=tuple(hours_values),
        delivery=delivery,
        cats=cats,
        cat_ids=cat_ids,
        order=order,
        title_length=title_length,
    )


def _merge(slices: list[Slice], cat_ids: tuple[int, ...]) -> Slice:
    """All jurisdictions as one slice (when the app serves no particular one)."""
    slices = [s for s in slices if s.size]
    if not slices:
        return empty_slice(cat_ids)
    hours_values = tuple(sorted({h for s in slices for h in s.hours_values}))
    provider_ids = np.unique(np.concatenate([s.provider_ids for s in slices]))
    parts = []
    for s in slices:
        cats = np.zeros((s.size, len(cat_ids)), dtype=bool)
        for j, cid in enumerate(s.cat_ids):
            if cid in cat_ids:
                cats[:, cat_ids.index(cid)] = s.cats[:, j]
        remap = np.array([hours_values.index(h) for h in s.hours_values], dtype=np.int16)
        parts.append(
            (
                s.ids,
                s.until,
                np.searchsorted(provider_ids, s.provider_ids[s.provider]).astype(np.int32),
                remap[s.hours],
                s.delivery,
                cats,
                s.order,
                s.title_length,
            )
        )
    ids = np.concatenate([p[0] for p in parts])
    by_id = np.argsort(ids, kind="stable")
    return Slice(
        ids=ids[by_id],
        until=np.concatenate([p[1] for p in parts])[by_id],
        provider=np.concatenate([p[2] for p in parts])[by_id],
        provider_ids=provider_ids,
        hours=np.concatenate([p[3] for p in parts])[by_id],
        hours_values=hours_values,
        delivery=np.concatenate([p[4] for p in parts])[by_id],
        cats=np.concatenate([p[5] for p in parts])[by_id],
        cat_ids=cat_ids,
        order={k: np.concatenate([p[6][k] for p in parts])[by_id] for k in SORT_KEYS},
        title_length=np.concatenate([p[7] for p in parts])[by_id],
    )


def load(session, version: tuple) -> Snapshot:
    """Read everything a Snapshot holds (a handful of queries; run when the version changes)."""
    jurisdictions = {
        code: (jid, label)
        for jid, code, label in session.execute(
            text("SELECT id, code, course_id_label FROM jurisdictions ORDER BY id")
        )
    }
    first = next(iter(jurisdictions), None)
    categories: dict[int | None, list] = {None: []}
    for cid, slug, name, kind, jid in session.execute(
        text(
            "SELECT id, slug, name, kind, jurisdiction_id FROM categories "
            "ORDER BY jurisdiction_id, sort_order, id"
        )
    ):
        row = (cid, slug, name, kind)
        categories[None].append(row)
        categories.setdefault(jid, []).append(row)
    providers = {
        pid: (slug, name, url or "")
        for pid, slug, name, url in session.execute(
            text("SELECT id, slug, name, url FROM providers")
        )
    }
    by_jurisdiction: dict[int, list] = {}
    for row in session.execute(text(LOAD_SQL)):
        by_jurisdiction.setdefault(row[1], []).append(row)
    snapshot = Snapshot(
        version=version,
        jurisdictions=jurisdictions,
        first_jurisdiction=first,
        categories={k: tuple(v) for k, v in categories.items()},
        providers=providers,
        provider_by_slug={slug: pid for pid, (slug, _, _) in providers.items()},
    )
    for jid, rows in by_jurisdiction.items():
        cat_ids = tuple(r[0] for r in snapshot.categories.get(jid, ()))
        snapshot.slices[jid] = _build_slice(rows, cat_ids)
    return snapshot
