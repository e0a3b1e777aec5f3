"""`confident` means safe to approve unread: one test per class of trap, and the one-line reasons."""

from __future__ import annotations

import pytest

from mapping import CourseInput, Engine, Taxonomy


def _s(engine: Engine, title: str):
    return engine.suggest(CourseInput(title))


@pytest.mark.parametrize(
    "title",
    [
        "Evidence Recovery from Firearms",  # forensics / evidence
        "Firearms Examiner Training",
        "Policy on Carrying Firearms Off Duty",  # a document about firearms
        "Handgun Threat Defense",  # defence against someone else's gun
        "CEW Range Qualification",  # a less-lethal tool's range
        "Pepperball Launcher Range Day",
    ],
)
def test_firearms_word_qualifying_another_subject_is_not_the_topic(
    engine: Engine, title: str
) -> None:
    s = _s(engine, title)
    assert "firearms" not in s.topic_slugs
    # the evidence says why: the firearms word qualifies another subject here
    assert any(e.get("qualified_by") for a in s.areas for e in a.evidence)


def test_qualifier_reason_is_one_line(engine: Engine) -> None:
    s = _s(engine, "Defense Against the Handgun")
    area = s.areas[0]
    assert not area.confident
    assert area.reason and "qualifies" in area.reason and "\n" not in area.reason
    assert s.reason and s.reason.startswith(area.name)


def test_firearms_in_its_own_part_of_the_title_still_counts(engine: Engine) -> None:
    s = _s(engine, "Firearms Qualification and Policy Review")
    assert "firearms" in s.topic_slugs


@pytest.mark.parametrize(
    "title", ["Geographic Profiling", "Profiling Serial Offenders", "Criminal Profiling Basics"]
)
def test_offender_profiling_is_not_racial_profiling(engine: Engine, title: str) -> None:
    assert "racial-profiling" not in _s(engine, title).topic_slugs


def test_bias_based_policing_is_racial_profiling_not_implicit_bias(engine: Engine) -> None:
    s = _s(engine, "Bias-Based Policing")
    assert s.topic_slugs == ["racial-profiling"]


@pytest.mark.parametrize(
    "title",
    ["Responding to Bias Incidents", "Directive on Bias Events", "An Unbiased Approach to Victims"],
)
def test_bias_as_a_modifier_is_not_implicit_bias(engine: Engine, title: str) -> None:
    s = _s(engine, title)
    assert not any(t.slug == "implicit-bias" and t.confident for t in s.topics)


@pytest.mark.parametrize(
    ("title", "area"),
    [
        ("Aggressive Driving Enforcement", "technical-studies"),
        ("Distracted Driving Enforcement Strategies", "technical-studies"),
        ("Hazard Communication", "technical-studies"),
        ("Written Communication for Officers", "technical-studies"),
    ],
)
def test_word_of_another_area_in_a_technical_phrase(engine: Engine, title: str, area: str) -> None:
    assert _s(engine, title).top_area == area


def test_competing_strong_evidence_is_not_confident(engine: Engine) -> None:
    s = _s(engine, "Engaging Violent Extremists Ethically")
    assert not s.areas[0].confident
    assert "two areas have strong evidence" in (s.areas[0].reason or "")


def test_fuzzy_only_is_not_confident(engine: Engine) -> None:
    s = _s(engine, "Firarms Qualificaton")
    assert not any(t.confident for t in s.topics)


def test_crisis_communication_for_the_media_is_not_deescalation(engine: Engine) -> None:
    assert "de-escalation" not in _s(engine, "Crisis Communication for Media Relations").topic_slugs


@pytest.mark.parametrize(
    "title",
    [
        "Crisis Communication and Media Relations",
        "Strategic Communications and Public Affairs for Supervisors",
        "Crisis Communications & the Press",
    ],
)
def test_sense_qualifier_sees_both_subjects_joined_by_and(engine: Engine, title: str) -> None:
    # class: two subjects joined by "and" share one sense ("~~" qualifiers look across "and")
    s = _s(engine, title)
    assert not any(t.slug == "de-escalation" and t.confident for t in s.topics)
    assert any(e.get("qualified_by") for t in s.topics for e in t.evidence) or (
        "de-escalation" not in s.topic_slugs
    )


def test_sense_qualifier_stops_at_punctuation(engine: Engine) -> None:
    # a new part of the title (":", "/", ",") is another subject: the keyword keeps its sense
    s = _s(engine, "Crisis Communication / Media Day")
    assert "de-escalation" in s.topic_slugs


def test_plain_qualifier_still_stops_at_and(engine: Engine) -> None:
    # only sense qualifiers cross "and": "Firearms Qualification and Policy Review" keeps firearms
    assert "firearms" in _s(engine, "Firearms Qualification and Policy Review").topic_slugs
    s = _s(engine, "Tactical Communication and Policy")
    assert "de-escalation" in s.topic_slugs


@pytest.mark.parametrize(
    "title",
    ["Patrol Rifle Qualification", "Racial Profiling", "Implicit Bias", "Report Writing"],
)
def test_clear_titles_stay_confident(engine: Engine, title: str) -> None:
    s = _s(engine, title)
    assert s.areas[0].confident or s.topics and all(t.confident for t in s.topics)
    assert all(t.confident for t in s.topics)


def test_json_carries_reason_and_confident(engine: Engine) -> None:
    d = _s(engine, "Officer Safety Safe Streets").to_dict()
    assert d["confident"] is False and isinstance(d["reason"], str)
    assert all("reason" in a and "probability" in a for a in d["areas"])
    sure = _s(engine, "Report Writing").to_dict()
    assert sure["confident"] is True and sure["reason"] is None


def test_qualifiers_are_data(taxonomy: Taxonomy) -> None:
    data = taxonomy.to_dict()
    for cat in data["categories"]:
        if cat["slug"] == "firearms":
            cat["qualifiers"] = []
    plain = Engine(Taxonomy.from_dict(data))
    assert "firearms" in plain.suggest(CourseInput("Firearms Examiner Training")).topic_slugs
    with pytest.raises(ValueError):
        Taxonomy.from_dict({**data, "categories": [{**data["categories"][0], "qualifiers": ["~"]}]})
    with pytest.raises(ValueError):
        bad = {**data["categories"][0], "qualifiers": ["a ~~ b ~ c"]}
        Taxonomy.from_dict({**data, "categories": [bad]})


@pytest.mark.parametrize(
    "title", ["Handgun Qualification", "Defense Against the Handgun", "Verbal De-escalation"]
)
def test_scoring_leaves_the_rule_evidence_as_it_found_it(engine: Engine, title: str) -> None:
    """The learned layer's fit scores the same rule evidence twice (plain, then cross-validated):
    implied-area or qualifier evidence added by the first pass must not count again in the second."""
    import copy

    from mapping.scoring import build_suggestion

    course = CourseInput(title)
    [_], [evidence], _ = engine.rule_pass([course])
    before = copy.deepcopy(evidence)
    first = build_suggestion(engine.taxonomy, course, evidence)
    assert evidence == before
    again = build_suggestion(engine.taxonomy, course, evidence)
    assert [(a.slug, a.score, a.confident) for a in again.areas] == [
        (a.slug, a.score, a.confident) for a in first.areas
    ]
