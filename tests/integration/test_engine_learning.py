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


def _count_fits(monkeypatch) -> list[int]:
    """Counts the learned layer's fits from here on (each is several logistic regressions)."""
    from mapping.learn import Learner

    fits: list[int] = []
    real = Learner.fit.__func__

    def counted(cls, engine, examples, keys):
        fits.append(len(examples))
        return real(cls, engine, examples, keys)

    monkeypatch.setattr(Learner, "fit", classmethod(counted))
    return fits


def _decide_blue(staff, course) -> None:
    decisions.decide(
        db.session,
        course,
        "override",
        course.version,
        staff,
        areas={"interpersonal-perspectives": course.hours},
        topics=[],
    )


APPEARS = re.compile(
    r"appears in (\d+) decided Interpersonal Perspectives courses? \(learned from (\d+)"
)


def _learned_text(course) -> tuple[int, int] | None:
    texts = [e["text"] for a in course.suggestion["areas"] for e in a["evidence"]]
    found = [APPEARS.search(t) for t in texts]
    m = next((f for f in found if f), None)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_a_decision_refits_once_and_updates_the_pending_suggestions(
    client, login, users, make_pending_course, taxonomy, monkeypatch
):
    staff = users["staff"]
    a = users["providers"][0]
    for i in range(12):
        c = make_pending_course(a, f"Crash Investigation Unit {i}")
        decisions.decide(db.session, c, "approve", c.version, staff)
        _decide_blue(staff, make_pending_course(a, f"Blue Courage Cohort {i}"))
    db.session.commit()
    pending = make_pending_course(a, "Blue Courage for Sergeants")
    other = make_pending_course(a, "Blue Courage Refresher")
    crash = make_pending_course(a, "Crash Investigation Unit 50")
    assert _learned_text(pending)[1] == 24  # learned evidence from the 24 decisions
    fits = _count_fits(monkeypatch)
    login(staff)
    for _ in range(3):  # nothing changed: no fit, no rewrite, however often the queue is shown
        assert client.get("/review/").status_code == 200
        client.get(f"/review/{pending.id}")
    assert fits == []
    before, crash_version, other_before = pending.suggestion, crash.version, other.suggestion

    new = [make_pending_course(a, f"Blue Courage Academy Class {i}") for i in range(3)]
    for c in new:  # three more decisions, then the queue: one refit, suggestions current
        _decide_blue(staff, c)
    db.session.commit()
    fits.clear()  # make_pending_course suggested (and fitted) each new course
    assert client.get("/review/").status_code == 200
    assert fits == [27]
    db.session.expire_all()
    count, seen = _learned_text(pending)
    assert seen == 27 and pending.suggestion != before
    assert crash.version == crash_version  # same labels and headline: an open form stays valid
    assert other.suggestion != other_before  # its nearest decided course is a new one
    html = client.get(f"/review/{pending.id}").get_data(as_text=True)
    assert "learned from 27 staff decisions" in html
    for _ in range(3):
        client.get("/review/")
    assert fits == [27]  # once per decisions version, not per request

    c = db.session.get(type(pending), other.id)
    decisions.decide(db.session, c, "reject", c.version, staff, note="duplicate")
    db.session.commit()
    # a decision that does not change the decided courses: still the same learned layer
    client.get("/review/")
    client.get("/review/")
    assert fits == [27]


def test_a_decision_elsewhere_reaches_the_next_queue_load(
    client, login, users, make_pending_course, taxonomy, monkeypatch
):
    staff = users["staff"]
    a = users["providers"][0]
    for i in range(11):
        c = make_pending_course(a, f"Crash Investigation Unit {i}")
        decisions.decide(db.session, c, "approve", c.version, staff)
        _decide_blue(staff, make_pending_course(a, f"Blue Courage Cohort {i}"))
    db.session.commit()
    waiting = [make_pending_course(a, f"Blue Courage for {t}") for t in ("Sergeants", "Mentors")]
    before = [_learned_text(c) for c in waiting]
    fits = _count_fits(monkeypatch)
    # decided outside the queue (API, another worker): the engine only learns of it from the data
    for i in range(2):
        c = Course_for(a, f"Blue Courage Graduates {i}", taxonomy)
        _decide_blue(staff, c)
    db.session.commit()
    login(staff)
    client.get("/review/")
    assert len(fits) == 1 and fits[0] == 24  # refitted once, on all the decisions
    client.get("/review/")
    assert len(fits) == 1
    db.session.expire_all()
    after = [_learned_text(c) for c in waiting]
    assert all(b[1] == 22 and f[1] == 24 for b, f in zip(before, after, strict=True))
    assert all(f[0] > b[0] for b, f in zip(before, after, strict=True))  # N approved ... grew


def Course_for(provider, title, taxonomy):
    """A pending course stored without a suggestion (as an import that has not been matched)."""
    from decimal import Decimal

    from catalog.models import Course
    from catalog.services.courses import content_hash, normalise_title

    fields = {"title": title, "hours": Decimal(2), "delivery": "in-person"}
    course = Course(
        provider=provider,
        jurisdiction=taxonomy,
        normalised_title=normalise_title(title),
        content_hash=content_hash(fields),
        suggestion={"areas": [], "topics": []},
        **fields,
    )
    db.session.add(course)
    db.session.flush()
    return course


def test_big_decision_sets_refit_in_the_background(
    app, users, make_pending_course, taxonomy, monkeypatch
):
    from catalog.services import learning

    staff = users["staff"]
    a = users["providers"][0]
    for i in range(11):
        c = make_pending_course(a, f"Crash Investigation Unit {i}")
        decisions.decide(db.session, c, "approve", c.version, staff)
        _decide_blue(staff, make_pending_course(a, f"Blue Courage Cohort {i}"))
    db.session.commit()
    old = get_engine(db.session, taxonomy).learner
    assert old is not None and old.n == 22
    monkeypatch.setattr(learning, "SYNC_FIT_MAX", 0)  # as if fitting took many seconds
    _decide_blue(staff, Course_for(a, "Blue Courage Graduates", taxonomy))
    db.session.commit()
    engine = get_engine(db.session, taxonomy)
    assert len(engine.examples) == 23  # similar-course evidence current at once
    assert engine.learner is old  # served while the new one is fitted
    learning.wait_for_fits(60)
    again = get_engine(db.session, taxonomy)
    assert again is engine and again.learner is not old and again.learner.n == 23
