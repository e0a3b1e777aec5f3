"""Declarative base, naming convention and the SQLite connection settings.

SQLite needs foreign keys switched on per connection, WAL for readers beside a writer, a busy timeout,
and `BEGIN IMMEDIATE` for write transactions so that concurrent writers wait instead of failing with
"database is locked" at the read-to-write upgrade (reliability.md section 5).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterator

from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15000

# Set for the duration of a request or command that writes; the SQLite `begin` hook then starts
# the transaction with BEGIN IMMEDIATE (take the write lock up front, wait on busy_timeout).
_write_intent: contextvars.ContextVar[bool | str] = contextvars.ContextVar(
    "write_intent", default=False
)
# Write intent that takes the lock only at the first write (reads before it hold no lock): for
# requests with a long read phase, such as an import that runs the engine over 5,000 rows before
# writing, which would otherwise keep every other writer waiting (and failing after busy_timeout).
LATE = "late"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def set_write_intent(value: bool | str) -> contextvars.Token:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    """Run the enclosed database work in IMMEDIATE transactions on SQLite."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def private_file(path: os.PathLike | str) -> None:
    """Make `path` readable by its owner only (0600), creating it empty if it is missing; its
    folder is created 0700. For the SQLite file and backups, which hold password hashes."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        os.chmod(path, 0o600)


def _private_sqlite_files(dbapi_connection) -> None:
    # SQLite creates a new file with the process umask (often 0644: world-readable); its -wal
    # and -shm files take the database file's mode, so fixing the main file covers them.
    for _, name, path in dbapi_connection.execute("PRAGMA database_list").fetchall():
        if name == "main" and path and os.path.exists(path):
            if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    _private_sqlite_files(dbapi_connection)
    # Let SQLAlchemy's begin hook below emit BEGIN itself (pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # 64 MB of page cache per connection instead of 2 MB: the search's index pages stay in memory
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
    if mode != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The app's PostgreSQL queries are many short ones running at once (search, review, exports):
# plan for an index on SSD or in cache rather than a sequential scan, and keep each query on one
# core instead of parallel workers that the next request then waits for. Measured with
# bench/search.py on 100,000 courses: ~20 -> ~34 requests/s, p99 486 -> 311 ms.
POSTGRESQL_SESSION_SETTINGS = {"random_page_cost": "1.1", "max_parallel_workers_per_gather": "0"}


@event.listens_for(Engine, "connect")
def _postgresql_on_connect(dbapi_connection, connection_record) -> None:
    if not _is_psycopg(dbapi_connection):
        return
    with dbapi_connection.cursor() as cursor:
        for name, value in POSTGRESQL_SESSION_SETTINGS.items():
            cursor.execute(f"SET {name} = {value}")
    dbapi_connection.commit()


# Instead of pool_pre_ping (one extra round trip, `;`, on every checkout: a sixth of a public
# search's), a PostgreSQL connection is pinged at checkout only when it sat idle in the pool for
# IDLE_PING_SECONDS or more: the case of a database restarted or a connection cut by a firewall
# while the app was quiet. A busy worker's connections are seconds old at most; pool_recycle
# (config.py) retires old ones. A failed ping makes the pool replace the connection (it retries
# the checkout on DisconnectionError), so the request still gets a working one.
IDLE_PING_SECONDS = 10.0
_IDLE_SINCE = "catalog_idle_since"


def _is_psycopg(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("psycopg")


@event.listens_for(Pool, "checkin")
def _note_idle(dbapi_connection, connection_record) -> None:
    if connection_record is not None:
        connection_record.info[_IDLE_SINCE] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
    since = connection_record.info.get(_IDLE_SINCE)
    if since is None or not _is_psycopg(dbapi_connection):
        return
    if time.monotonic() - since < IDLE_PING_SECONDS:
        return
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # the ping must not open a transaction
        dbapi_connection.execute(";")
        dbapi_connection.autocommit = autocommit
    except Exception as error:  # noqa: BLE001 - any failure: hand out another connection
        raise exc.DisconnectionError(f"connection idle {time.monotonic() - since:.0f} s") from error


def autocommit_reads(session) -> bool:
    """For a request that only reads (public GET pages): run its statements on PostgreSQL
    without a transaction, as the minimal search endpoint does. psycopg sends BEGIN as a round
    trip of its own and the pool a ROLLBACK at return: two of a search's five. Each statement
    still sees committed data only (READ COMMITTED gives every statement its own snapshot
    anyway). Only when the session has no transaction yet; True when switched. The caller ends
    it with `session.rollback()` (it releases the connection, whose isolation level the pool
    resets without a round trip)."""
    if hasattr(session, "registry"):  # a scoped_session: the request's own Session
        session = session.registry()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return False
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


# Fresh statistics after bulk writes (PostgreSQL). An import or a bulk approval writes thousands
# of rows in one transaction; until ANALYZE the planner plans with the old row counts (or none:
# this server runs without autovacuum, and autovacuum waits up to a minute anyway). So a
# transaction that wrote ANALYZE_MIN_ROWS rows or more to a table, and at least ANALYZE_FRACTION
# of its rows (autovacuum's own rule, 10 %), analyzes it just before it commits: the statistics
# become visible with the rows. The tables that triggers fill from a table's rows (search index,
# published rows) are analyzed with it.
ANALYZE_MIN_ROWS = 500
ANALYZE_FRACTION = 0.1
ANALYZED_WITH = {
    "courses": ("courses", "search_courses", "search_published"),
    "course_categories": ("course_categories", "search_courses", "search_published"),
}
_WRITTEN = "catalog_rows_written"
_WRITE_TARGET = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


@event.listens_for(Engine, "after_cursor_execute")
def _count_rows_written(conn, cursor, statement, parameters, context, executemany) -> None:
    if conn.dialect.name != "postgresql":
        return
    target = _WRITE_TARGET.match(statement)
    if target is None or target.group(1).lower() not in ANALYZED_WITH:
        return
    rows = cursor.rowcount
    if rows and rows > 0:
        written = conn.info.setdefault(_WRITTEN, {})
        table = target.group(1).lower()
        written[table] = written.get(table, 0) + rows


@event.listens_for(Engine, "commit")
def _analyze_bulk_writes(conn) -> None:
    written = conn.info.pop(_WRITTEN, None)
    if not written or max(written.values()) < ANALYZE_MIN_ROWS:
        return
    with conn.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s) "
            "AND relnamespace = current_schema()::regnamespace",
            [sorted({t for table in written for t in ANALYZED_WITH[table]})],
        )
        sizes = dict(cursor.fetchall())  # reltuples is -1 for a table never analyzed
        tables: set[str] = set()
        for table, rows in written.items():
            if rows >= ANALYZE_MIN_ROWS and rows >= ANALYZE_FRACTION * sizes.get(table, 0):
                tables.update(t for t in ANALYZED_WITH[table] if t in sizes)
        if not tables:
            return
        # In a savepoint, waiting 2 s at most for a concurrent ANALYZE or VACUUM of the same
        # table: statistics are worth a moment, never the writes that commit next.
        cursor.execute("SELECT current_setting('lock_timeout')")
        lock_timeout = cursor.fetchone()[0]
        cursor.execute("SAVEPOINT catalog_analyze")
        try:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute("ANALYZE " + ", ".join(sorted(tables)))
            cursor.execute("RELEASE SAVEPOINT catalog_analyze")
            # the commit's own lock waits (the deferred publish-version bump) as before
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        except Exception:  # noqa: BLE001 - the statistics wait for the next bulk write
            log.warning("ANALYZE %s after a bulk write failed", sorted(tables), exc_info=True)
            cursor.execute("ROLLBACK TO SAVEPOINT catalog_analyze")


@event.listens_for(Engine, "rollback")
def _forget_rows_written(conn) -> None:
    conn.info.pop(_WRITTEN, None)


_TXN_KIND = "catalog_sqlite_txn"  # connection.info key: "deferred", "immediate" or "writing"
_WRITE_SQL = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    immediate = _write_intent.get() is True
    # Straight on the driver's connection: through exec_driver_sql, BEGIN went through the whole
    # statement machinery, a measurable share of a public search request.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    conn.info[_TXN_KIND] = "immediate" if immediate else "deferred"


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_before_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """A write under write intent in a transaction that began as a deferred read (e.g. a CLI
    command that looked something up before entering `write_intent()`, then ran the engine for a
    while): SQLite cannot upgrade a read snapshot that another writer has committed past
    ("database is locked" at once, busy_timeout or not). Nothing has been written yet, so end the
    read and start the write with BEGIN IMMEDIATE, which waits for the lock. The writes then see
    the latest committed data, as under PostgreSQL's READ COMMITTED, which the services are
    built for (version checks in the UPDATE, unique indexes)."""
    if conn.dialect.name != "sqlite" or conn.info.get(_TXN_KIND) != "deferred":
        return
    if not _WRITE_SQL.match(statement):
        return
    if not _write_intent.get() or conn.in_nested_transaction():
        conn.info[_TXN_KIND] = "writing"  # it holds the write lock from here on
        return
    dbapi_connection = conn.connection.dbapi_connection
    dbapi_connection.execute("COMMIT")  # a read-only transaction: nothing is lost
    dbapi_connection.execute("BEGIN IMMEDIATE")
    conn.info[_TXN_KIND] = "immediate"
