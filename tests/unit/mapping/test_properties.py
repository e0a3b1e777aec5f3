"""Property tests: any Unicode input gives a stable result and hours that add up."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping import CourseInput, Engine, normalise

titles = st.text(max_size=120)
hours = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=400).map(lambda q: Decimal(q) / 4),
    st.decimals(min_value=0, max_value=100, places=2),
)
delivery = st.sampled_from([None, "online", "in-person", "live-virtual", "blended"])
fast = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fast
@given(titles)
def test_normalise_never_fails_and_spans_are_in_range(title: str) -> None:
    norm = normalise(title)
    for t in norm.tokens:
        assert 0 <= t.start < t.end <= len(title)
    for _ident, s, e in norm.identifiers:
        assert 0 <= s < e <= len(title)


@fast
@given(titles, hours, delivery, st.one_of(st.none(), st.text(max_size=200)))
def test_any_course_gets_a_stable_result(
    engine: Engine, title: str, h: Decimal | None, d: str | None, desc: str | None
) -> None:
    course = CourseInput(title, description=desc, hours=h, delivery=d)
    first = engine.suggest(course).to_dict()
    assert first == engine.suggest(course).to_dict()
    assert len(first["areas"]) == 4
    assert all(0 <= a["score"] <= 100 for a in first["areas"])
    assert all(0 <= t["score"] <= 100 for t in first["topics"])
    if h is None:
        assert all(a["hours"] is None for a in first["areas"])
    else:
        assert sum(Decimal(a["hours"]) for a in first["areas"]) == h
        assert all(Decimal(a["hours"]) >= 0 for a in first["areas"])
    for item in (e for a in first["areas"] for e in a["evidence"]):
        if item.get("field") == "title" and "span" in item:
            s, e = item["span"]
            assert 0 <= s <= e <= len(title)


@fast
@given(st.lists(titles, max_size=8))
def test_batch_equals_single(engine: Engine, batch: list[str]) -> None:
    courses = [CourseInput(t) for t in batch]
    assert [s.to_dict() for s in engine.suggest_many(courses)] == [
        engine.suggest(c).to_dict() for c in courses
    ]
