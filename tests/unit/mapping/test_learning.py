"""The learned layer, honest similarity and the teach-me order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mapping import CourseInput, Engine, Example, Taxonomy
from mapping.similarity import SimilarityIndex
from mapping.teach import teach_order, uncertainty


def _ex(title: str, area: str, topics: tuple[str, ...] = ()) -> Example:
    return Example(title, {area: Decimal(1)}, topics)


def _decisions() -> list[Example]:
    out = []
    for i in range(12):
        out.append(_ex(f"Blue Courage Cohort {i}", "interpersonal-perspectives"))
        out.append(_ex(f"Handgun Qualification Group {i}", "skill-development", ("firearms",)))
        out.append(_ex(f"Crash Investigation Unit {i}", "technical-studies"))
        out.append(_ex(f"Legal Update Region {i}", "legal-studies"))
    return out


def test_learned_layer_decides_where_rules_are_weak(taxonomy: Taxonomy) -> None:
    course = CourseInput("Blue Courage for Sergeants")
    assert Engine(taxonomy).suggest(course).top_area == "technical-studies"  # fallback
    engine = Engine(taxonomy, _decisions())
    assert engine.learner is not None
    s = engine.suggest(course)
    assert s.top_area == "interpersonal-perspectives"
    learned = [e for e in s.areas[0].evidence if e["kind"] == "learned"]
    assert (
        learned and "appears in 12 decided Interpersonal Perspectives courses" in learned[0]["text"]
    )
    assert s.areas[0].probability is not None and not s.areas[0].confident


def test_rules_keep_strong_mandates(taxonomy: Taxonomy) -> None:
    engine = Engine(taxonomy, _decisions())
    s = engine.suggest(CourseInput("Firearms Law Update"))
    assert "firearms" not in s.topic_slugs  # the exclusion (a trap) stays whatever was learned
    assert engine.suggest(CourseInput("Patrol Rifle Qualification")).top_area == "skill-development"


def test_calibrated_threshold_needs_enough_agreed_decisions(taxonomy: Taxonomy) -> None:
    few = Engine(taxonomy, _decisions()[:20])
    assert few.learner is not None and few.learner.area_threshold is None  # rules decide
    many = Engine(taxonomy, _decisions())
    t = many.learner.area_threshold
    assert t is not None and 0 < t <= 1
    s = many.suggest(CourseInput("Crash Investigation"))
    assert s.areas[0].confident == (s.areas[0].probability >= t)


def test_too_few_decisions_train_no_model(taxonomy: Taxonomy) -> None:
    assert Engine(taxonomy, _decisions()[:5]).learner is None


def test_similarity_is_honest_about_one_short_shared_word() -> None:
    corpus = [["dui", "crash", "reconstruction"], ["dui", "detection", "sfst"], ["tourniquet"]]
    index = SimilarityIndex(corpus)
    [(score, i)] = index.top([["dui", "legal", "update", "missouri"]], k=1)[0]
    assert score < 30
    assert index.top([["dui", "crash", "reconstruction"]])[0][0][0] == 100
    assert index.top([["ethics"]]) == [[]]


def test_similar_decided_courses(taxonomy: Taxonomy) -> None:
    engine = Engine(taxonomy, [_ex("Stop the Bleed Tourniquet", "skill-development")])
    [(score, ex)] = engine.similar(["Tourniquet Application"], k=1)[0]
    assert ex.title == "Stop the Bleed Tourniquet" and 30 <= score < 100
    assert engine.similar(["Stop the Stalking"], k=1)[0] == [] or (
        engine.similar(["Stop the Stalking"], k=1)[0][0][0] < 40
    )


def test_teach_order_prefers_uncertain_frequent_titles(engine: Engine) -> None:
    courses = [
        CourseInput(t)
        for t in (
            "Report Writing",
            "Blue Courage A",
            "Blue Courage B",
            "Blue Courage C",
            "Zebra Xylophone",
        )
    ]
    order = teach_order(engine, courses, 2)
    assert order[0] in (1, 2, 3)  # uncertain and with neighbours
    assert 0 not in order  # the confident one is not worth a reviewer's time first
    assert uncertainty(engine.suggest(courses[0])) < uncertainty(engine.suggest(courses[4]))


def test_source_folds_keep_each_source_in_one_fold() -> None:
    from mapping import CourseInput
    from mapping.evaluate import GoldRow
    from mapping.experiments import source_folds

    sizes = {"a": 6, "b": 3, "c": 2, "d": 2, "e": 1}
    rows = [
        GoldRow(n, CourseInput(f"{src} {k}"), "technical-studies", frozenset(), None, src)
        for n, (src, k) in enumerate(((s, k) for s, m in sizes.items() for k in range(m)), 2)
    ]
    folds = source_folds(rows, 3)
    assert len(folds) == 3 and sorted(i for f in folds for i in f) == list(range(len(rows)))
    for src in sizes:
        assert sum(any(rows[i].source == src for i in f) for f in folds) == 1
    assert sorted(len(f) for f in folds) == [4, 4, 6]  # balanced: largest sources first
    assert len(source_folds(rows, 0)) == len(sizes)  # 0: leave-one-source-out


def _class_against_rules() -> list[Example]:
    # staff decide every "Crowd Control" course Technical, where the rules say Skill Development
    out = [_ex(f"Crowd Control Module {i}", "technical-studies") for i in range(1, 9)]
    for i in range(1, 4):
        out += [_ex(f"{w} Qualification {i}", "skill-development") for w in ("Rifle", "Shotgun")]
        out += [_ex(f"{w} {i}", "technical-studies") for w in ("Report Writing", "Traffic Stops")]
        out += [_ex(f"{w} {i}", "interpersonal-perspectives") for w in ("Ethics", "Wellness")]
        out += [_ex(f"Case Law Update {i}", "legal-studies")]
    return out


def test_staff_deciding_a_class_against_the_rules_moves_the_class(taxonomy: Taxonomy) -> None:
    course = CourseInput("Crowd Control for Supervisors")
    plain = Engine(taxonomy).suggest(course)
    assert plain.top_area == "skill-development" and plain.areas[0].confident
    engine = Engine(taxonomy, _class_against_rules())
    assert engine.learner is not None and engine.learner.override_threshold is not None
    s = engine.suggest(course)
    assert s.top_area == "technical-studies"
    assert not s.areas[0].confident  # an override is for review, never approved unread
    assert "staff decisions on courses like this chose it" in (s.areas[0].reason or "")
    # the rest of what the rules agree on stays
    assert engine.suggest(CourseInput("Ethics in Policing")).top_area == (
        "interpersonal-perspectives"
    )


def test_no_override_without_a_consistent_class(taxonomy: Taxonomy) -> None:
    # decisions that agree with the rules never calibrate an override
    engine = Engine(taxonomy, _decisions())
    assert engine.learner is not None and engine.learner.override_threshold is None


def test_same_title_decision_decides(taxonomy: Taxonomy) -> None:
    decided = [_ex("Hazmat Awareness (2 hours)", "interpersonal-perspectives", ("de-escalation",))]
    engine = Engine(taxonomy, decided)
    s = engine.suggest(CourseInput("HAZMAT Awareness 2024"))  # hours and year are normalised away
    assert s.top_area == "interpersonal-perspectives" and s.areas[0].confident
    assert s.topic_slugs == ["de-escalation"] and s.topics[0].confident
    assert "same title" in s.areas[0].evidence[0]["text"]
    assert engine.suggest(CourseInput("Hazmat Awareness for Dispatch")).top_area != (
        "interpersonal-perspectives"
    )


def test_same_title_decided_differently_is_not_confident(taxonomy: Taxonomy) -> None:
    decided = [
        _ex("Hazmat Awareness", "interpersonal-perspectives"),
        _ex("Hazmat Awareness", "technical-studies"),
    ]
    s = Engine(taxonomy, decided).suggest(CourseInput("Hazmat Awareness"))
    assert not s.areas[0].confident and "differently" in (s.areas[0].reason or "")


def test_exclusion_keeps_the_model_off_a_blocked_area(taxonomy: Taxonomy) -> None:
    # rules decide traps: a firearms-law title never becomes firearms by the learned layer
    decided = _decisions() + [_ex(f"Firearms Range Day {i}", "skill-development") for i in range(6)]
    s = Engine(taxonomy, decided).suggest(CourseInput("Firearms Law for Officers"))
    assert "firearms" not in s.topic_slugs and s.top_area == "legal-studies"


def _unmatched_decided(area: str) -> list[Example]:
    # decisions on titles where nothing in the rules matched (made-up series names), all in one
    # area, beside decisions the rules agree on
    out = [_ex(f"{w} Seminar", area) for w in ("Quorra", "Tessaly", "Vantor", "Morwen", "Ilsabet")]
    for i in range(1, 5):
        out += [_ex(f"Handgun Qualification {i}", "skill-development", ("firearms",))]
        out += [_ex(f"Crash Investigation {i}", "technical-studies")]
        out += [_ex(f"Ethics {i}", "interpersonal-perspectives")]
        out += [_ex(f"Case Law Update {i}", "legal-studies")]
    return out


def test_where_nothing_matched_decisions_replace_the_fallback(taxonomy: Taxonomy) -> None:
    # the fallback area is a guess without evidence: the decided courses where nothing matched
    # say which area such titles go to, and the learned layer picks it (for review only)
    course = CourseInput("Zebra Xylophone Seminar")
    plain = Engine(taxonomy).suggest(course)
    assert plain.top_area == "technical-studies" and not plain.areas[0].confident
    for area in ("interpersonal-perspectives", "legal-studies"):
        engine = Engine(taxonomy, _unmatched_decided(area))
        assert engine.learner is not None and engine.learner.calibration.empty[area] > 0.5
        s = engine.suggest(course)
        assert s.top_area == area and not s.areas[0].confident
        assert "learned from staff decisions" in (s.areas[0].reason or "")
        assert s.areas[0].probability is not None and s.areas[0].probability > 0.5


def test_rules_accuracy_is_counted_on_the_decisions(taxonomy: Taxonomy) -> None:
    from mapping.calibrate import rules_calibration

    engine = Engine(taxonomy)
    courses = [CourseInput(t) for t in ("DUII Legal Update", "Narcan and Opioid Exposure")]
    plain = engine.rules_only(courses)
    assert [s.top_area for s in plain] == ["legal-studies", "skill-development"]
    # one of the two split titles decided as the rules said, one against them
    accuracy, _empty = rules_calibration(plain, ["legal-studies", "technical-studies"], None)
    assert accuracy["split"] == pytest.approx(0.5)  # 1 right of 2, shrunk towards 1 of 2
    accuracy, _empty = rules_calibration(plain, ["legal-studies", "skill-development"], None)
    # both right: 3 of 4 pooled over the unsure regimes (with one right in two added), split
    # shrunk towards it by two pseudo-decisions; weak has no decision of its own: the pooled one
    assert accuracy["split"] == pytest.approx((2 + 2 * 0.75) / 4)
    assert accuracy["weak"] == pytest.approx(0.75)


def test_words_alone_do_not_overturn_rules_that_were_right(taxonomy: Taxonomy) -> None:
    # rules that picked well on decided split titles keep their pick on a split title even when
    # its words lean elsewhere; a learned view never makes a weak label confident
    decided = _decisions() + [_ex(f"DWI Legal Update {i}", "legal-studies") for i in range(4)]
    decided += [_ex(f"DWI Crash Investigation {i}", "technical-studies") for i in range(6)]
    engine = Engine(taxonomy, decided)
    assert engine.learner is not None and engine.learner.calibration.accuracy["split"] > 0.8
    s = engine.suggest(CourseInput("DWI Legal Update for Crash Units"))
    assert s.top_area == "legal-studies" and not s.areas[0].confident


def test_posterior_respects_blocked_areas() -> None:
    from mapping.learned import Learned, RulesCalibration, posterior

    view = Learned(
        {},
        {},
        {},
        None,
        None,
        words=(50.0, 0.5),
        calibration=RulesCalibration(
            ("skill-development", "legal-studies"),
            {"weak": 0.7},
            {"skill-development": 0.5, "legal-studies": 0.5},
            1.0,
        ),
    )
    scores = {"skill-development": 0, "legal-studies": 40}
    both = posterior(view, "weak", "legal-studies", scores, {"skill-development", "legal-studies"})
    assert both is not None and max(both, key=both.get) == "skill-development"
    assert sum(both.values()) == pytest.approx(1.0)
    only = posterior(view, "weak", "legal-studies", scores, {"legal-studies"})
    assert only == {"legal-studies": 1.0}  # an exclusion blocked Skill: rules decide traps
    assert posterior(view, "split", "legal-studies", scores, set(scores)) is None  # no count
    empty = posterior(view, "empty", "legal-studies", scores, set(scores))
    assert empty is not None and empty["skill-development"] > 0.9
