"""Engine behaviour: output shape, evidence, confidence, hours split, flags, examples, changes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mapping import CourseInput, Engine, Example, Suggestion, Taxonomy
from mapping.scoring import split_hours


def test_output_shape_and_evidence(engine: Engine) -> None:
    title = "Introduction to De-escalation (1 hour)"
    d = engine.suggest(CourseInput(title, hours=Decimal("1"))).to_dict()
    json.dumps(d)  # JSON-able
    assert d["title"] == title
    assert [a["slug"] for a in d["areas"]][0] == "skill-development"
    assert len(d["areas"]) == 4
    for a in d["areas"]:
        assert set(a) >= {
            "slug",
            "name",
            "score",
            "hours",
            "confident",
            "evidence",
            "runner_up",
            "gap",
        }
        assert 0 <= a["score"] <= 100
    topic = d["topics"][0]
    assert topic["slug"] == "de-escalation" and topic["confident"] and topic["score"] == 100
    ev = topic["evidence"][0]
    assert ev["kind"] == "phrase" and ev["field"] == "title"
    s, e = ev["span"]
    assert title[s:e] == "De-escalation"
    assert d["areas"][0]["gap"] == d["areas"][0]["score"] - d["areas"][1]["score"]
    assert d["areas"][0]["runner_up"] == d["areas"][1]["slug"]


def test_areas_are_ranked_and_topics_only_suggested(engine: Engine) -> None:
    s = engine.suggest(CourseInput("Report Writing"))
    scores = [a.score for a in s.areas]
    assert scores == sorted(scores, reverse=True)
    assert s.top_area == "technical-studies" and s.areas[0].confident
    assert s.topics == ()


def test_combined_title_gets_several_topics_and_split_hours(engine: Engine) -> None:
    s = engine.suggest(
        CourseInput(
            "Fair and Impartial Policing, Implicit Bias and Racial Profiling", hours=Decimal("2")
        )
    )
    assert set(s.topic_slugs) == {"implicit-bias", "racial-profiling"}
    assert sum(a.hours for a in s.areas) == Decimal("2")


def test_multi_area_course_splits_hours_in_quarter_steps(engine: Engine) -> None:
    s = engine.suggest(CourseInput("Legal Update and Firearms Qualification", hours=Decimal("3")))
    hours = {a.slug: a.hours for a in s.areas}
    assert hours["legal-studies"] > 0 and hours["skill-development"] > 0
    assert sum(hours.values()) == Decimal("3")
    assert all((h / Decimal("0.25")) == int(h / Decimal("0.25")) for h in hours.values())
    assert not s.areas[0].confident  # two strong areas: staff confirm the split


def test_no_hours_gives_none(engine: Engine) -> None:
    assert all(a.hours is None for a in engine.suggest(CourseInput("Ethics")).areas)


@pytest.mark.parametrize("hours", ["0", "0.25", "0.5", "1", "1.1", "7.75", "40"])
def test_split_hours_sums_exactly(hours: str) -> None:
    ranked = [("a", 100), ("b", 95), ("c", 90), ("d", 10)]
    out = split_hours(Decimal(hours), ranked, 90)
    assert sum(out.values()) == Decimal(hours)
    assert out["d"] == 0


def test_firearms_online_is_flagged_not_suggested(engine: Engine) -> None:
    s = engine.suggest(CourseInput("Handgun Qualification", delivery="online"))
    assert "firearms" not in s.topic_slugs
    assert [f.code for f in s.flags] == ["firearms-online-not-eligible"]
    assert any(e["kind"] == "not-eligible" for e in s.flags[0].evidence)
    live = engine.suggest(CourseInput("Handgun Qualification", delivery="in-person"))
    assert "firearms" in live.topic_slugs and live.flags == ()


def test_exclusion_is_shown_as_evidence(engine: Engine) -> None:
    s = engine.suggest(CourseInput("Firearms Law Update"))
    sd = next(a for a in s.areas if a.slug == "skill-development")
    assert "firearms" not in s.topic_slugs
    assert s.top_area == "legal-studies" and sd.score == 0


def test_identifier_decides(engine: Engine) -> None:
    s = engine.suggest(CourseInput("Course 1849"))
    s2 = engine.suggest(CourseInput("Officer Course - TCOLE #1849"))
    assert "de-escalation" not in s.topic_slugs
    assert s2.topic_slugs == ["de-escalation"]
    assert s2.topics[0].evidence[0]["kind"] == "identifier"


def test_description_is_a_weaker_signal(engine: Engine) -> None:
    bare = engine.suggest(CourseInput("Procedural Justice"))
    rich = engine.suggest(
        CourseInput("Procedural Justice", description="Covers implicit bias and its effects.")
    )
    assert "implicit-bias" not in bare.topic_slugs
    assert "implicit-bias" in rich.topic_slugs
    ib = next(t for t in rich.topics if t.slug == "implicit-bias")
    assert not ib.confident
    assert any(e["kind"] == "description" and e["field"] == "description" for e in ib.evidence)


def test_learns_from_an_approved_example(taxonomy: Taxonomy) -> None:
    course = CourseInput("Blue Courage Module Three")
    before = Engine(taxonomy).suggest(course)
    assert before.top_area == "technical-studies" and before.areas[0].score < 10  # rules miss it
    example = Example(
        title="Blue Courage",
        course_id=42,
        areas={"interpersonal-perspectives": Decimal("2")},
        topics=["implicit-bias"],
        decision="overridden",
    )
    after = Engine(taxonomy, examples=[example]).suggest(course)
    assert after.top_area == "interpersonal-perspectives"
    # a neighbour's topics are not carried over: a topic needs its own words in the title
    assert after.topic_slugs == []
    assert not after.areas[0].confident
    assert after.areas[0].reason == "only similar decided courses point here"
    ev = next(e for e in after.areas[0].evidence if e["kind"] == "example")
    assert ev["course_id"] == 42 and ev["decision"] == "overridden" and ev["similarity"] >= 75
    assert "Blue Courage" in ev["text"]


def test_unrelated_example_is_not_used(taxonomy: Taxonomy) -> None:
    example = Example(title="Benchmark Analytics", areas={"legal-studies": Decimal("1")})
    s = Engine(taxonomy, examples=[example]).suggest(CourseInput("Crash Reconstruction"))
    assert not any(e["kind"] == "example" for a in s.areas for e in a.evidence)


def test_explain_change(taxonomy: Taxonomy, engine: Engine) -> None:
    data = taxonomy.to_dict()
    for cat in data["categories"]:
        if cat["slug"] == "legal-studies":
            cat["strong"].append("wsin")
    other = Taxonomy.from_dict(data)
    courses = [CourseInput("WSIN Resources"), CourseInput("Report Writing")]
    rows = engine.explain_change(other, courses)
    assert rows[0]["changed"] and rows[0]["after"]["area"] == "legal-studies"
    assert not rows[1]["changed"]


def test_suggest_many_matches_suggest(engine: Engine) -> None:
    courses = [CourseInput(t) for t in ("Ethics", "Handgun", "Ethics", "Crash Investigation")]
    many = engine.suggest_many(courses)
    assert [s.to_dict() for s in many] == [engine.suggest(c).to_dict() for c in courses]
    assert all(isinstance(s, Suggestion) for s in many)


def test_empty_title_gets_the_fallback_area(engine: Engine) -> None:
    s = engine.suggest(CourseInput(""))
    assert s.top_area == "technical-studies" and not s.areas[0].confident and s.topics == ()


def test_taxonomy_round_trips(taxonomy: Taxonomy) -> None:
    again = Taxonomy.from_dict(taxonomy.to_dict())
    assert again.to_dict() == taxonomy.to_dict()
    assert json.loads(json.dumps(taxonomy.to_dict())) == taxonomy.to_dict()


@pytest.mark.parametrize(
    "change",
    [
        {"categories": [{"slug": "x", "kind": "tag", "name": "X"}]},
        {"categories": [{"slug": "a", "kind": "area"}, {"slug": "a", "kind": "area"}]},
        {
            "categories": [
                {"slug": "a", "kind": "area"},
                {"slug": "t", "kind": "topic", "parent": "z"},
            ]
        },
        {"categories": [{"slug": "a", "kind": "area", "strong": "not a list"}]},
        {"categories": [{"slug": "a", "kind": "area"}], "settings": {"no_such_knob": 1}},
    ],
)
def test_bad_taxonomy_is_rejected(change: dict) -> None:
    from mapping import TaxonomyError

    with pytest.raises(TaxonomyError):
        Taxonomy.from_dict({"settings": {"fallback_area": None}, **change})
