"""The rule of publication is written once (catalog/services/publishing/rule.py) and stated again in
the trigger SQL that keeps the read tables (migrations 0004, 0005, 0007): the same course states
go through both, on both databases, and every implementation must name the same courses.

Every state is reached both ways the triggers see it: inserted as it is (INSERT triggers) and
updated into it from every other state (UPDATE triggers and their WHEN conditions). The rows are
written with plain statements on purpose: the triggers, not the services, are under test.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import sqlalchemy as sa

from catalog.extensions import db
from catalog.models import Course, Provider
from catalog.services.planning.offers import load_offers
from catalog.services.publishing import rule
from catalog.services.publishing.sql import published_sql, today_param

TODAY = dt.date.today()
STATUSES = ("pending", "approved", "rejected", "withdrawn")
UNTILS = (None, TODAY - dt.timedelta(days=1), TODAY, TODAY + dt.timedelta(days=1))
STATES = list(itertools.product(STATUSES, UNTILS))


def _ids(sql: str, **params) -> set[int]:
    return {row[0] for row in db.session.execute(sa.text(sql), params)}


@pytest.fixture
def courses(app, taxonomy) -> dict[int, tuple[str, dt.date | None]]:
    """Every state, inserted as it is and reached by an UPDATE from every other state."""
    provider = Provider(slug="rule-academy", name="Rule Academy")
    db.session.add(provider)
    plan = [(state, state) for state in STATES]
    plan += [(start, end) for start in STATES for end in STATES if start != end]
    made = []
    for n, (start, end) in enumerate(plan):
        course = Course(
            provider=provider,
            jurisdiction=taxonomy,
            title=f"Agreement Course {n}",
            normalised_title=f"agreement course {n}",
            hours=Decimal("1"),
            status=start[0],
            approved_until=start[1],
        )
        made.append((course, end))
    db.session.add_all([c for c, _ in made])
    db.session.flush()
    table = Course.__table__
    for course, (status, until) in made:
        if (course.status, course.approved_until) != (status, until):
            db.session.execute(
                sa.update(table)
                .where(table.c.id == course.id)
                .values(status=status, approved_until=until)
            )
    db.session.commit()
    return {course.id: end for course, end in made}


def test_python_sql_triggers_and_every_reader_agree(app, client, taxonomy, courses):
    dialect = db.engine.dialect.name
    today = today_param(dialect, TODAY)
    published = {cid for cid, (s, until) in courses.items() if rule.is_published(s, until, TODAY)}
    stored = {cid for cid, (s, until) in courses.items() if rule.is_stored(s, until)}
    # The rule over these states: approved, dated today or later (4 paths into each of 2 states).
    assert len(published) == 2 * len(STATES) and published < stored

    # The SQL of the rule and its SQLAlchemy form.
    where = " AND ".join(published_sql())
    assert _ids(f"SELECT c.id FROM courses c WHERE {where}", today=today) == published
    clause = rule.published_clause(Course, TODAY)
    assert set(db.session.scalars(sa.select(Course.id).where(*clause))) == published

    # The triggers' read table holds the stored half; the dated half is applied when read.
    assert _ids("SELECT course_id FROM search_published") == stored
    found = _ids("SELECT course_id FROM search_published WHERE until >= :today", today=today)
    assert found == published
    if dialect == "postgresql":  # the text index holds approved courses only (0005)
        approved = {cid for cid, (s, _until) in courses.items() if s == rule.PUBLISHED_STATUS}
        assert _ids("SELECT course_id FROM search_courses") == approved

    # Every reader of the published list: the public list, its text search, the planner's offers.
    for params in ({}, {"q": "agreement"}):
        body = client.get("/courses.json", query_string={"per_page": 100, **params}).get_json()
        assert {c["id"] for c in body["courses"]} == published, params
        assert body["total"] == len(published)
    assert set(load_offers(db.session, taxonomy, TODAY).ids) == published


def test_the_installed_trigger_sql_states_the_rule(app):
    """The trigger SQL in the database says what rule.STORED_SQL says (a changed rule needs a
    migration that installs it)."""
    if db.engine.dialect.name == "postgresql":
        body = db.session.scalar(
            sa.text("SELECT pg_get_functiondef('search_published_refresh(integer)'::regprocedure)")
        )
        assert rule.STORED_SQL in body
        return
    triggers = db.session.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    ).all()
    filling = {name: sql for name, sql in triggers if "INSERT INTO search_published" in sql}
    assert len(filling) == 5  # courses insert/update, category rows insert/delete/update
    for name, sql in filling.items():
        assert rule.STORED_SQL in sql, name
