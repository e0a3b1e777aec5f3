"""The published catalog in memory, per worker: what every public search filters, counts and sorts.

The published list changes only when staff decide (or a course expires), and is read far more often.
So each worker keeps the narrow columns of every published course (`search_published` plus the sort
keys) in numpy arrays, one `Slice` per jurisdiction, with the taxonomy, providers and jurisdictions
beside them (arrays.py), and a request answers filters, facet counts, totals and the order of a page
from them. Only the full-text match (ids from FTS5 / tsvector) is read per request; the rows of the
pages shown are kept in the snapshot's memo (sql.page_rows).

The database stays the source of truth: `search_version` (migrations 0007 and 0010) holds one row
whose value triggers change in the same transaction as any change to a published row, a column a
page shows, a sort key, a category, a provider or a jurisdiction. Every request reads it and
reloads the arrays when it differs from the loaded one, so a committed decision is in the very next
search of every worker and every app server on the same database. A search reads it in the
statement of its text match (VERSION_COLUMNS, `verify()`), so the ids and the version are of one
view of the database and a public search is one round trip. What a view needs before that
statement (the served jurisdiction, its categories) comes from the worker's snapshot unverified
(`provisional()`); if the verified one differs there, the request runs again (SnapshotMoved).
Expiry needs no version: the arrays keep `approved_until` and every request compares it with today.
"""

from __future__ import annotations

import threading
import weakref

from catalog.services.publishing.arrays import (  # noqa: F401 - this module's names since 0007
    LOAD_SQL,
    SORT_KEYS,
    Slice,
    Snapshot,
    empty_slice,
    load,
)

# The publish version as two columns of another statement (the text match's: sql.match_ids), so
# that one round trip gives the version and what that statement saw at it.
VERSION_COLUMNS = (
    "(SELECT n FROM search_version WHERE id = 1), (SELECT token FROM search_version WHERE id = 1)"
)


def version_of(n, token) -> tuple:
    """The version from VERSION_COLUMNS' values (no row: version 0, as `read_version()`)."""
    return (0, "") if n is None else (n, token)


def read_version(session) -> tuple:
    """The current publish version (one primary-key row)."""
    from catalog.services.publishing.sql import run

    rows = run(session, "SELECT n, token FROM search_version WHERE id = 1", {})
    return tuple(rows[0]) if rows else (0, "")


class _Holder:
    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.lock = threading.Lock()


_HOLDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_HOLDERS_LOCK = threading.Lock()


class SnapshotMoved(Exception):
    """The publish version moved between the provisional snapshot a request started from and the
    statement that verified it, and what the request already took from the provisional one (the
    jurisdictions, the categories) differs in the current one: the request runs again (the
    public blueprint's handler), now on the verified snapshot."""


_SEEN = "published_snapshot"  # session.info: (transaction, snapshot) verified in that transaction
_OPTIMISTIC = "published_optimistic"  # session.info: this request may start provisionally
_PROVISIONAL = "published_provisional"  # session.info: the unverified snapshot handed out


def current(session) -> Snapshot:
    """This worker's snapshot of the published catalog, reloaded when the version moved. The
    version is read once per transaction of `session` (a request asks several times)."""
    session = _plain(session)
    snapshot = loaded(session)
    if snapshot is not None:
        return snapshot
    return verify(session, read_version(session))


def verify(session, version: tuple) -> Snapshot:
    """The snapshot at `version`, a version read in the session's current transaction (alone, by
    `current()`, or in the statement of a text match, whose ids are then of the same statement's
    view): the worker's, reloaded when it is older. Once per transaction, as `current()`: when
    this transaction already verified one, that one. Raises SnapshotMoved when the request
    already used a provisional snapshot (`provisional()`) whose jurisdictions or categories
    differ from the verified one's."""
    session = _plain(session)
    snapshot = loaded(session)
    if snapshot is not None:
        return snapshot
    snapshot = _at(session, version)
    session.info[_SEEN] = (session.get_transaction(), snapshot)
    handed = session.info.pop(_PROVISIONAL, None)
    if handed is not None and handed is not snapshot and not _same_site(handed, snapshot):
        raise SnapshotMoved(f"publish version {handed.version} -> {snapshot.version}")
    return snapshot


def read_optimistically(session, on: bool = True) -> None:
    """Let this request start from the worker's snapshot without reading the version first
    (`provisional()`), for views whose services then verify it (`verify()`: every public search,
    export, feed and course page) before anything is shown. `on=False` ends it (the request's
    teardown)."""
    session = _plain(session)
    if on:
        session.info[_OPTIMISTIC] = True
    else:
        session.info.pop(_OPTIMISTIC, None)
        session.info.pop(_PROVISIONAL, None)


def provisional(session) -> Snapshot:
    """For what a request needs before its first statement (the served jurisdiction, its
    categories): the snapshot verified in this transaction; under `read_optimistically()` the
    worker's own, unverified (no query: the search's own statement verifies it, see `verify()`);
    otherwise `current()`."""
    session = _plain(session)
    snapshot = loaded(session)
    if snapshot is not None:
        return snapshot
    if not session.info.get(_OPTIMISTIC):
        return current(session)
    handed = session.info.get(_PROVISIONAL)
    if handed is None:
        holder = _HOLDERS.get(session.get_bind())
        handed = holder.snapshot if holder is not None else None
        if handed is None:  # the worker's first request: nothing to start from
            return current(session)
        session.info[_PROVISIONAL] = handed
    return handed


def loaded(session) -> Snapshot | None:
    """The snapshot verified in the session's current transaction (no query), None when this
    transaction has not verified one (a provisional one does not count)."""
    session = _plain(session)
    seen = session.info.get(_SEEN)
    transaction = session.get_transaction()
    if seen is not None and transaction is not None and seen[0] is transaction:
        return seen[1]
    return None


def _plain(session):
    if hasattr(session, "registry"):  # a scoped_session: the request's own Session
        return session.registry()
    return session


def _same_site(a: Snapshot, b: Snapshot) -> bool:
    """Whether two snapshots agree on what `provisional()` hands out."""
    return a.jurisdictions == b.jurisdictions and a.categories == b.categories


def _at(session, version: tuple) -> Snapshot:
    engine = session.get_bind()
    holder = _HOLDERS.get(engine)
    if holder is None:
        with _HOLDERS_LOCK:
            holder = _HOLDERS.setdefault(engine, _Holder())
    snapshot = holder.snapshot
    if snapshot is not None and snapshot.version == version:
        return snapshot
    with holder.lock:
        snapshot = holder.snapshot
        if snapshot is None or snapshot.version != version:
            snapshot = load(session, version)
            holder.snapshot = snapshot
    return snapshot
