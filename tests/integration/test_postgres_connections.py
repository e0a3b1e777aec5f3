"""PostgreSQL connection handling of the request path (catalog/db.py): public GET pages read
without a transaction (no BEGIN/ROLLBACK round trips), writes keep theirs, and a connection cut
while it sat idle in the pool is replaced at checkout (instead of pool_pre_ping on every one)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from catalog import db as catalog_db
from catalog.extensions import db


@pytest.fixture
def backend():
    return "postgresql"


def _transaction_states(app):
    """The driver's transaction status after each SQLAlchemy statement of the app's engine
    (INTRANS: the statement ran in a transaction, which psycopg opened with a BEGIN)."""
    states: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        states.append(conn.connection.dbapi_connection.info.transaction_status.name)

    event.listen(db.engine, "after_cursor_execute", record)
    return states, lambda: event.remove(db.engine, "after_cursor_execute", record)


def test_public_get_pages_read_without_a_transaction(app, client, make_course):
    make_course("Verbal De-escalation")
    states, done = _transaction_states(app)
    try:
        assert client.get("/healthz").status_code == 200
        assert client.get("/courses?q=escalation").status_code == 200
    finally:
        done()
    assert states and set(states) == {"IDLE"}  # each committed by itself: no BEGIN, no ROLLBACK


def test_other_requests_keep_their_transaction(app, client, make_course):
    from catalog.models import Course

    course = make_course("Verbal De-escalation")
    states, done = _transaction_states(app)
    try:
        db.session.get(Course, course.id)  # outside a public GET: a transaction as before
    finally:
        done()
    assert states == ["INTRANS"], states
    db.session.rollback()
    # the public request's autocommit does not leak into the session's next transaction
    client.get("/courses.json?q=escalation")
    states, done = _transaction_states(app)
    try:
        db.session.get(Course, course.id)
    finally:
        done()
    assert states == ["INTRANS"]


def test_a_connection_cut_while_idle_is_replaced_at_checkout(
    app, client, make_course, monkeypatch, postgres_url
):
    make_course("Verbal De-escalation")
    assert client.get("/courses.json?q=escalation").status_code == 200
    db.session.remove()
    monkeypatch.setattr(catalog_db, "IDLE_PING_SECONDS", 0.0)
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert cut >= 1
    response = client.get("/courses.json?q=escalation")
    assert response.status_code == 200
    assert response.get_json()["total"] == 1
