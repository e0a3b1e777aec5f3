"""Declarative base, naming convention and the SQLite connection settings.

SQLite needs foreign keys switched on per connection, WAL for readers beside a writer, a busy timeout,
and `BEGIN IMMEDIATE` for write transactions so that concurrent writers wait instead of failing with
"database is locked" at the read-to-write upgrade (reliability.md section 5).
"""

from __future__ import annotations

import contextlib
import contextvars
import sqlite3
from collections.abc import Iterator

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15000

# Set for the duration of a request or command that writes; the SQLite `begin` hook then starts
# the transaction with BEGIN IMMEDIATE (take the write lock up front, wait on busy_timeout).
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def set_write_intent(value: bool) -> contextvars.Token:
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


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's begin hook below emit BEGIN itself (pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
    if mode != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
