"""The learned layer, honest similarity and the teach-me order."""

from __future__ import annotations

from decimal import Decimal

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
