"""`flask seed`: loads the taxonomy, requirement sets and demo data; a second run changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Category, Course, CourseCategory, Keyword, RequirementSet, User


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.execute(sa.select(func.count()).select_from(table)).scalar()
        for table in db.metadata.sorted_tables
    }


def test_seed_is_idempotent_and_prints_demo_logins(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output and "staff@post.example" in first.output
    after_first = _counts()
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "nothing to add" in second.output and "Demo logins" not in second.output
    assert _counts() == after_first


def test_seed_loads_missouri_taxonomy_and_requirements(runner):
    assert runner.invoke(args=["seed", "--no-demo"]).exit_code == 0
    slugs = {c.slug: c for c in db.session.scalars(select(Category))}
    assert {
        "legal-studies",
        "technical-studies",
        "interpersonal-perspectives",
        "skill-development",
    } <= {s for s, c in slugs.items() if c.kind == "area"}
    assert {"de-escalation", "implicit-bias", "racial-profiling", "firearms"} <= {
        s for s, c in slugs.items() if c.kind == "topic"
    }
    assert slugs["firearms"].live_only
    assert db.session.scalar(select(func.count(Keyword.id))) > 100
    sets = db.session.scalars(select(RequirementSet).order_by(RequirementSet.starts_on)).all()
    assert sets[0].name == "CLEE 2021" and sets[0].total_hours == 24
    mins = {r.category.slug: r.min_hours for r in sets[-1].requirements}
    assert mins["de-escalation"] == 1 and mins["legal-studies"] == 2
    assert db.session.scalar(select(func.count(Course.id))) == 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_data_mixes_approved_and_pending_with_suggestions(runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    statuses = dict(
        db.session.execute(select(Course.status, func.count()).group_by(Course.status)).all()
    )
    assert statuses["approved"] >= 20 and statuses["pending"] >= 10
    assert sum(statuses.values()) >= 60
    # Every course has the engine's suggestion with evidence; approved ones have decided areas
    # whose hours add up to the course hours.
    for course in db.session.scalars(select(Course)):
        assert course.suggestion["areas"], course.title
        if course.status == "approved":
            decided = [c for c in course.categories if c.source == "decided"]
            total = sum(c.hours for c in decided if c.category.kind == "area")
            assert total == course.hours, course.title
    suggested = db.session.scalar(
        select(func.count(CourseCategory.id)).where(CourseCategory.source == "suggested")
    )
    assert suggested >= 60
    titles = set(db.session.scalars(select(Course.title)))
    for title in (
        "Introduction to De-escalation (1 hour)",
        "Implicit Bias for Law Enforcement (1 hour)",
        "Introduction to Racial Profiling (1 hour)",
    ):
        assert title in titles
