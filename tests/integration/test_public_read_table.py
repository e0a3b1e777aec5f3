"""The `search_published` read table (kept by triggers) on both databases: every change to a course
or its decided categories shows in the public search at once; facet counts agree with the totals
their links give; the facet tally itself (no database)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, text

from catalog.extensions import db
from catalog.models import CourseCategory
from catalog.services.courses import set_course_categories
from catalog.services.publishing import arrays, facets
from catalog.services.publishing.listing import Taxonomy
from catalog.services.suggesting import categories_by_slug


def get_json(client, **params):
    response = client.get("/courses.json", query_string={"per_page": 100, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def facet_counts(body, name) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"][name]}


def read_row(course_id):
    return db.session.execute(
        text(
            "SELECT until, provider_id, hours, delivery, cats, facets FROM search_published "
            "WHERE course_id = :i"
        ),
        {"i": course_id},
    ).first()


def test_status_expiry_and_deletion_follow_the_course(client, make_course):
    course = make_course("Verbal De-escalation", topics=["de-escalation"])
    assert read_row(course.id) is not None
    assert get_json(client, q="de-escalation")["total"] == 1

    for status in ("rejected", "withdrawn", "pending"):
        course.status = status
        db.session.commit()
        assert read_row(course.id) is None
        body = get_json(client, q="de-escalation", topic="de-escalation")
        assert body["total"] == 0 and body["courses"] == []
        assert all(v["count"] == 0 for f in body["facets"].values() for v in f)

    course.status = "approved"
    db.session.commit()
    assert get_json(client, topic="de-escalation")["total"] == 1

    course.approved_until = dt.date.today() - dt.timedelta(days=1)  # expired: row kept, not shown
    db.session.commit()
    assert get_json(client)["total"] == 0
    topic = get_json(client, topic="de-escalation")["facets"]["topic"]
    assert [(v["value"], v["count"], v["selected"]) for v in topic] == [("de-escalation", 0, True)]

    course.approved_until = None
    db.session.commit()
    assert read_row(course.id) is None

    course.approved_until = dt.date.today()  # last day of approval is still published
    db.session.commit()
    assert get_json(client)["total"] == 1

    db.session.delete(course)
    db.session.commit()
    assert read_row(course.id) is None
    assert get_json(client)["total"] == 0


def test_decided_categories_hours_delivery_provider_follow(client, make_course, taxonomy):
    course = make_course("Street Skills", areas={"skill-development": 1})
    body = get_json(client)
    assert facet_counts(body, "topic") == {}
    assert facet_counts(body, "area") == {"skill-development": 1}

    categories = categories_by_slug(db.session, taxonomy)
    set_course_categories(
        course,
        "decided",
        {"interpersonal-perspectives": Decimal("1")},
        ["de-escalation", "implicit-bias"],
        categories,
    )
    db.session.commit()
    body = get_json(client, topic="implicit-bias")
    assert body["total"] == 1
    assert facet_counts(body, "topic") == {"de-escalation": 1, "implicit-bias": 1}
    assert facet_counts(body, "area") == {"interpersonal-perspectives": 1}
    assert get_json(client, area="skill-development")["total"] == 0

    # Suggested and proposed categories are never published.
    set_course_categories(
        course, "suggested", {"legal-studies": Decimal("1")}, ["firearms"], categories
    )
    db.session.commit()
    assert get_json(client, topic="firearms")["total"] == 0
    assert get_json(client, area="legal-studies")["total"] == 0

    db.session.execute(
        delete(CourseCategory).where(
            CourseCategory.course_id == course.id, CourseCategory.source == "decided"
        )
    )
    db.session.commit()
    assert read_row(course.id).cats == ","
    assert get_json(client, topic="de-escalation")["total"] == 0
    assert get_json(client)["total"] == 1

    course.hours = Decimal("2.5")
    course.delivery = "online"
    db.session.commit()
    body = get_json(client, delivery="online", hours="2.5")
    assert body["total"] == 1
    assert facet_counts(body, "hours") == {"2.5": 1}
    assert get_json(client, hours="1")["total"] == 0

    other = make_course("Other", provider="second-provider")
    course.provider_id = other.provider_id
    db.session.commit()
    assert facet_counts(get_json(client), "provider") == {"second-provider": 2}


@pytest.fixture
def mixed(make_course):
    made = []
    spec = [
        (
            "De-escalation Basics",
            "a-prov",
            "1",
            "online",
            {"skill-development": 1},
            ["de-escalation"],
        ),
        (
            "De-escalation Advanced",
            "b-prov",
            "4",
            "in-person",
            {"skill-development": 2, "interpersonal-perspectives": 2},
            ["de-escalation", "implicit-bias"],
        ),
        (
            "Bias Awareness",
            "a-prov",
            "2",
            "blended",
            {"interpersonal-perspectives": 2},
            ["implicit-bias"],
        ),
        ("Legal Update", "c-prov", "1", "live-virtual", {"legal-studies": 1}, []),
        (
            "Handgun Qualification",
            "b-prov",
            "0.5",
            "in-person",
            {"skill-development": Decimal("0.5")},
            ["firearms"],
        ),
        (
            "Racial Profiling Data",
            "c-prov",
            "1",
            "online",
            {"technical-studies": 1},
            ["racial-profiling", "implicit-bias"],
        ),
    ]
    for title, provider, hours, delivery, areas, topics in spec:
        made.append(
            make_course(
                title, provider=provider, hours=hours, delivery=delivery, areas=areas, topics=topics
            )
        )
    make_course(
        "Hidden Pending De-escalation",
        provider="a-prov",
        status="pending",
        topics=["de-escalation"],
        areas={"skill-development": 1},
    )
    return made


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "de-escalation"},
        {"topic": "implicit-bias"},
        {"topic": ["implicit-bias", "firearms"], "delivery": "in-person"},
        {"area": "skill-development", "provider": "b-prov"},
        {"hours": ["1", "0.5"], "area": ["legal-studies", "technical-studies"]},
        {"max_hours": "2", "topic": "implicit-bias", "delivery": ["online", "blended"]},
    ],
)
def test_every_facet_count_is_the_total_its_link_gives(client, mixed, params):
    """The count beside an unselected value is the total after selecting it (OR within a facet,
    AND across); a selected value's count is the total with only that facet's other values."""
    body = get_json(client, **params)
    assert body["total"] == len(body["courses"])
    for name, values in body["facets"].items():
        for value in values:
            if value["selected"]:
                continue
            toggled = client.get(value["url"])
            assert toggled.status_code == 200
            after = toggled.get_json()
            chosen = [v for v in after["facets"][name] if v["selected"]]
            if len(chosen) == 1:  # the facet had no value selected: count == new total
                assert after["total"] == value["count"], (name, value)
            else:  # OR: new total == old total + courses only this value adds
                assert after["total"] >= body["total"]


# -- the counts over the in-memory arrays (no database) --------------------------------------------


TAXONOMY = Taxonomy(
    (
        (1, "legal-studies", "Legal", "area"),
        (2, "skill-development", "Skill", "area"),
        (7, "de-escalation", "De-escalation", "topic"),
        (8, "firearms", "Firearms", "topic"),
    )
)
TODAY = dt.date(2026, 12, 1)


def query(**kw):
    base = dict(areas=(), topics=(), hours=(), deliveries=(), providers=(), max_hours=None)
    return SimpleNamespace(**{**base, **kw})


def make_slice(groups):
    """A Slice from (provider_id, 'hours|delivery|,cats,', n) groups: n courses each, as
    arrays.LOAD_SQL returns them (PostgreSQL spells hours 1.00, SQLite 1)."""
    rows, course_id = [], 0
    for provider_id, key, n in groups:
        hours, delivery, cats = key.split("|", 2)
        for _ in range(n):
            course_id += 1
            rows.append(
                (course_id, 1, "2099-12-31", provider_id, hours, delivery, cats)
                + (course_id,) * 4
                + (10,)
            )
    return arrays._build_slice(rows, tuple(r[0] for r in TAXONOMY.rows))


def tally(groups, q, provider_ids):
    selection = facets.select(
        make_slice(groups), q, TAXONOMY, provider_ids, today_ordinal=TODAY.toordinal()
    )
    return selection.total, selection.counts


def test_each_facet_is_counted_without_its_own_filter():
    groups = [
        (10, "1|online|,2,7,", 3),
        (10, "1.00|in-person|,1,", 2),
        (11, "4|online|,2,8,", 5),
        (11, "0.5|blended|,", 1),
        (12, "2|live-virtual|,2,", 4),
    ]
    total, counts = tally(groups, query(topics=("de-escalation",)), [])
    assert total == 3
    assert counts["topic"] == {7: 3, 8: 5}  # its own filter left out
    assert counts["area"] == {2: 3}
    assert counts["hours"] == {Decimal("1.00"): 3}
    assert counts["provider"] == {10: 3}
    assert counts["delivery"] == {"online": 3, "remote": 3}

    total, counts = tally(groups, query(topics=("de-escalation",), deliveries=("in-person",)), [])
    assert total == 0
    assert counts["delivery"] == {"online": 3, "remote": 3}
    assert counts["topic"] == {}
    total, counts = tally(groups, query(providers=("p",)), [11])
    assert total == 6
    assert counts["provider"] == {10: 5, 11: 6, 12: 4}
    assert counts["hours"] == {Decimal("4.00"): 5, Decimal("0.50"): 1}
    # remote = online or live virtual
    total, counts = tally(groups, query(deliveries=("remote",)), [])
    assert total == 3 + 5 + 4
    assert counts["delivery"]["remote"] == 12 and counts["delivery"]["blended"] == 1


def naive_tally(groups, q, taxonomy, provider_ids):
    """The rule spelled out group by group: a facet's counts apply every filter but its own."""
    areas, topics = taxonomy.by_slug("area"), taxonomy.by_slug("topic")
    total, counts = 0, {f: {} for f in facets.FACETS}
    for provider_id, key, n in groups:
        hours, delivery, cats = key.split("|", 2)
        hours = Decimal(hours).quantize(Decimal("0.01"))
        cats = {int(c) for c in cats.split(",") if c}
        modes = facets.delivery_modes(q.deliveries)
        passes = {
            "area": not q.areas or bool(cats & {areas[s][0] for s in q.areas}),
            "topic": not q.topics or bool(cats & {topics[s][0] for s in q.topics}),
            "hours": not q.hours or hours in q.hours,
            "delivery": not q.deliveries or delivery in modes,
            "provider": not q.providers or provider_id in provider_ids,
        }
        if q.max_hours is not None and hours > q.max_hours:
            continue
        total += n if all(passes.values()) else 0
        remote = ["remote"] if delivery in facets.REMOTE_MODES else []
        values = {
            "area": [c for c in cats if taxonomy.by_id[c][3] == "area"],
            "topic": [c for c in cats if taxonomy.by_id[c][3] == "topic"],
            "hours": [hours],
            "delivery": [delivery, *remote],
            "provider": [provider_id],
        }
        for facet in facets.FACETS:
            if all(ok for other, ok in passes.items() if other != facet):
                for value in values[facet]:
                    counts[facet][value] = counts[facet].get(value, 0) + n
    return total, counts


def test_counts_agree_with_the_rule_spelled_out_on_random_catalogs():
    rng = random.Random(7)
    keys = [
        f"{h}|{d}|,{','.join(map(str, cats))},"
        for h in ("0.5", "1", "1.00", "4")
        for d in ("online", "in-person", "blended", "live-virtual")
        for cats in ((), (1,), (2, 7), (1, 8), (1, 2, 7, 8))
    ]
    for _ in range(300):
        groups = [
            (rng.randint(10, 14), rng.choice(keys), rng.randint(1, 5))
            for _ in range(rng.randint(0, 40))
        ]
        providers = rng.sample([10, 11, 12, 99], rng.randint(0, 2))
        q = query(
            areas=tuple(rng.sample(["legal-studies", "skill-development"], rng.randint(0, 2))),
            topics=tuple(rng.sample(["de-escalation", "firearms"], rng.randint(0, 2))),
            hours=tuple(
                rng.sample([Decimal("0.50"), Decimal("1.00"), Decimal("2.00")], rng.randint(0, 2))
            ),
            deliveries=tuple(
                rng.sample(["online", "blended", "live-virtual", "remote"], rng.randint(0, 2))
            ),
            providers=tuple(f"p{p}" for p in providers),
            max_hours=rng.choice([None, Decimal("1.00"), Decimal("4.00")]),
        )
        expected = naive_tally(groups, q, TAXONOMY, providers)
        assert tally(groups, q, providers) == expected, (groups, q, providers)


def test_expired_courses_are_neither_counted_nor_listed():
    rows = [
        (1, 1, "2026-11-30", 10, "1", "online", ",2,", 1, 1, 1, 1, 5),
        (2, 1, "2026-12-01", 10, "1", "online", ",2,", 2, 2, 2, 2, 5),
    ]
    s = arrays._build_slice(rows, tuple(r[0] for r in TAXONOMY.rows))
    selection = facets.select(s, query(), TAXONOMY, [], today_ordinal=TODAY.toordinal())
    assert selection.total == 1 and facets.ordered(selection, "title") == [2]
