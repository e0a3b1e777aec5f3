"""The app side of the matcher's round 2: the one-line reason instead of a bare "?", honest
similar approved courses, qualifiers as taxonomy data from the database, and the learned layer
kept current from staff decisions (rebuilt when the decisions change, cached otherwise)."""

from __future__ import annotations

import re

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Category
from catalog.services.reviewing import decisions
from catalog.services.suggesting import get_engine, load_examples, taxonomy_dict
from catalog.services.taxonomy_edits import resuggest_pending
from mapping import CourseInput


def test_queue_and_review_page_say_why_not_sure(client, login, users, make_pending_course):
    course = make_pending_course(users["providers"][0], "Officer Safety Safe Streets")
    assert not course.suggestion_confident and course.suggestion["reason"]
    login(users["staff"])
    queue = client.get("/review/").get_data(as_text=True)
    assert "not sure: " in queue and "?</span>" not in queue
    page = client.get(f"/review/{course.id}").get_data(as_text=True)
    assert "not sure: " in page


def test_similar_courses_ignore_one_shared_short_word(client, login, users, make_pending_course):
    staff = users["staff"]
    a = users["providers"][0]
    approved = make_pending_course(a, "DUI Crash Reconstruction")
    decisions.decide(db.session, approved, "approve", approved.version, staff)
    db.session.commit()
    login(staff)
    other = make_pending_course(a, "DUI Legal Update")
    html = client.get(f"/review/{other.id}").get_data(as_text=True)
    similar = html[html.index("Similar approved courses") :][:2000]
    assert "DUI Crash Reconstruction" not in similar
    near = make_pending_course(a, "DUI Crash Reconstruction Part 2")
    html = client.get(f"/review/{near.id}").get_data(as_text=True)
    assert "DUI Crash Reconstruction" in html[html.index("Similar approved courses") :][:2000]


def test_qualifiers_come_from_the_database(app, taxonomy):
    tax = taxonomy_dict(db.session, taxonomy)
    firearms = next(c for c in tax["categories"] if c["slug"] == "firearms")
    assert "evidence" in firearms["qualifiers"]
    course = CourseInput("Evidence Recovery from Firearms")
    before = get_engine(db.session, taxonomy)
    assert "firearms" not in before.suggest(course).topic_slugs
    category = db.session.scalars(
        select(Category).where(Category.jurisdiction_id == taxonomy.id, Category.slug == "firearms")
    ).one()
    for kw in [k for k in category.keywords if k.weight == "qualifier"]:
        category.keywords.remove(kw)
    db.session.flush()
    after = get_engine(db.session, taxonomy)
    assert after is not before  # staff edits take effect without a restart
    assert "firearms" in after.suggest(course).topic_slugs


def test_learned_layer_follows_the_decisions(app, users, make_pending_course, taxonomy):
    staff = users["staff"]
    a = users["providers"][0]
    for i in range(12):
        c = make_pending_course(a, f"Crash Investigation Unit {i}")
        decisions.decide(db.session, c, "approve", c.version, staff)
        c = make_pending_course(a, f"Blue Courage Cohort {i}")
        decisions.decide(
            db.session,
            c,
            "override",
            c.version,
            staff,
            areas={"interpersonal-perspectives": c.hours},
            topics=[],
        )
    db.session.commit()
    assert len(load_examples(db.session, taxonomy)) == 24
    engine = get_engine(db.session, taxonomy)
    assert engine.learner is not None
    assert get_engine(db.session, taxonomy) is engine  # cached: no retraining per request
    course = make_pending_course(a, "Blue Courage for Sergeants")
    assert course.suggestion["areas"][0]["slug"] == "interpersonal-perspectives"
    c = make_pending_course(a, "Blue Courage Cohort 99")
    decisions.decide(db.session, c, "approve", c.version, staff)
    db.session.commit()
    assert get_engine(db.session, taxonomy) is not engine  # a new decision: a new version


def test_teach_me_order_decides_what_improves_the_rest(client, login, users, make_pending_course):
    staff = users["staff"]
    a = users["providers"][0]
    for title in ("Zebra Seminar Alpha", "Quokka Lecture", "Report Writing", "Crash Investigation"):
        make_pending_course(a, title)
    blue = [make_pending_course(a, f"Blue Courage Module {i}") for i in range(1, 6)]
    login(staff)

    def order(sort: str) -> list[str]:
        html = client.get(f"/review/?sort={sort}").get_data(as_text=True)
        return re.findall(r'<a href="/review/\d+">([^<]+)</a>', html)

    assert order("unsure")[0] == "Zebra Seminar Alpha"  # unsure first: a lone title
    useful = order("useful")
    assert useful[0].startswith("Blue Courage")  # unsure, and four more titles like it
    # once one Blue Courage course is decided the others are covered: the next pick is elsewhere
    assert not useful[1].startswith("Blue Courage")
    assert "Most useful to decide next" in client.get("/review/").get_data(as_text=True)
    fixed_before = sum(
        c.suggestion["areas"][0]["slug"] == "interpersonal-perspectives" for c in blue
    )
    assert fixed_before == 0  # the rules know nothing of Blue Courage
    by_title = {c.title: c for c in blue}
    decided = [by_title[useful[0]]]
    for c in decided:
        decisions.decide(
            db.session,
            c,
            "override",
            c.version,
            staff,
            areas={"interpersonal-perspectives": c.hours},
            topics=[],
        )
    resuggest_pending(db.session, blue[0].jurisdiction)
    db.session.commit()
    rest = [c for c in blue if c not in decided]
    for c in rest:
        db.session.refresh(c)
    # deciding the most useful course fixed the four others like it
    assert all(c.suggestion["areas"][0]["slug"] == "interpersonal-perspectives" for c in rest)
