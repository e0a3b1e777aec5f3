"""Migrations: empty -> head on both databases, head matches the models, and back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from catalog.extensions import db


def _diff(conn) -> list:
    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name and ("_fts" in name or name.startswith("search_")))

    context = MigrationContext.configure(
        conn, opts={"include_object": include, "compare_type": False}
    )
    return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_to_head_matches_models_and_downgrades(empty_database_url, app_factory):
    app = app_factory(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert {"courses", "categories", "course_categories", "audit_log", "users"} <= tables
        with db.engine.connect() as conn:
            assert _diff(conn) == []
        downgrade(revision="base")
        assert "courses" not in set(sa.inspect(db.engine).get_table_names())
        upgrade()
        db.engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app, backend):
    if backend != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_postgresql_connections_plan_for_many_short_queries(app, backend):
    if backend != "postgresql":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW random_page_cost").scalar() == "1.1"
        assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
        conn.rollback()  # a rolled-back transaction keeps the session's settings
        assert conn.exec_driver_sql("SHOW random_page_cost").scalar() == "1.1"
