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


# -- statistics after bulk writes --------------------------------------------------------------


def _insert_courses(provider_id: int, jurisdiction_id: int, first: int, n: int) -> None:
    db.session.execute(
        sa.text(
            "INSERT INTO courses (provider_id, jurisdiction_id, title, normalised_title, "
            "description, objectives, hours, delivery, url, status, version, content_hash, "
            "suggestion, suggestion_score, suggestion_confident, control_number, decision_note, "
            "created_at, updated_at) VALUES (:p, :j, :t, :t, 'Scenario work.', '', 1, "
            "'online', '', 'pending', 1, '', '{}', 0, false, '', '', now(), now())"
        ),
        [
            {"p": provider_id, "j": jurisdiction_id, "t": f"crisis intervention {i}"}
            for i in range(first, first + n)
        ],
    )


def _row_estimates() -> dict[str, float]:
    return dict(
        db.session.execute(
            sa.text(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                "('courses', 'search_courses', 'search_published')"
            )
        ).all()
    )


def test_a_bulk_write_commits_with_fresh_statistics(app, taxonomy, make_provider):
    """An import's worth of courses, then their approval in one statement: the planner's row
    counts follow at each commit (no ANALYZE by hand, autovacuum off or not yet awake); a
    handful of rows changes nothing."""
    provider = make_provider()
    provider_id, jurisdiction_id = provider.id, taxonomy.id
    db.session.execute(sa.text("ANALYZE courses, search_courses, search_published"))
    db.session.commit()
    _insert_courses(provider_id, jurisdiction_id, 0, 10)
    db.session.commit()
    assert _row_estimates()["courses"] == 0  # under the threshold: not analyzed again
    _insert_courses(provider_id, jurisdiction_id, 10, 600)
    db.session.commit()
    assert _row_estimates()["courses"] == 610
    assert _row_estimates()["search_published"] == 0
    db.session.execute(
        sa.text(
            "UPDATE courses SET status = 'approved', approved_at = now(), "
            "approved_until = current_date + 30"
        )
    )
    db.session.commit()
    estimates = _row_estimates()
    assert estimates["search_published"] == 610
    assert estimates["search_courses"] == 610
