"""The engine's batched fast paths compute what the plain definitions say, so they change no
suggestion: the fuzzy signal computed only for usable (title, category) pairs against the full
title x choice matrix, the coverage matrix against `_covers`, and batched suggestions (with
their per-batch caches) against one course at a time; the collector pause around a batch."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from mapping import CourseInput, Engine, Taxonomy
from mapping.engine import _covers
from mapping.evaluate import read_gold
from mapping.fuzzy import best_in_groups, best_per_group, covered_groups

DEV_SET = Path(__file__).resolve().parents[3].parent / "shared/dev-set/titles.csv"
SUFFIXES = ["", " Update", " (2 hrs)", " for Supervisors", " and Policy", " - TCOLE #4521"]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :] if rng.random() < 0.5 else word[:i] + word[i] + word[i:]


def _titles(engine: Engine, n: int, seed: int = 7) -> list[str]:
    """Titles built from the taxonomy's keywords and the dev set's titles, with misspelt words
    (the fuzzy signal's cases), combinations and suffixes."""
    rng = random.Random(seed)
    tax = engine.taxonomy
    words = sorted({p for c in tax.categories for p in (*c.strong, *c.weak)})
    if DEV_SET.exists():
        words += [r.course.title for r in read_gold(DEV_SET, tax)]
    out = []
    for _ in range(n):
        title = rng.choice(words)
        if rng.random() < 0.4:
            title += rng.choice([" and ", " / ", ": "]) + rng.choice(words)
        if rng.random() < 0.5:
            title = " ".join(_typo(w, rng) if rng.random() < 0.4 else w for w in title.split())
        out.append(title + rng.choice(SUFFIXES))
    return out


def _full_fuzzy_matches(
    self: Engine, texts: Sequence[str], _evidence: object
) -> dict[str, dict[str, tuple[int, int]]]:
    """The definition: the best choice per category over the whole matrix, for every text."""
    unique = list(dict.fromkeys(t for t in texts if t))
    found = best_per_group(unique, self._choices, self._groups, int(self.setting("fuzzy_cutoff")))
    return dict(zip(unique, found, strict=True))


@pytest.fixture(scope="module")
def learned_engine(taxonomy: Taxonomy) -> Engine:
    if not DEV_SET.exists():
        pytest.skip(f"{DEV_SET} is not available")
    rows = read_gold(DEV_SET, taxonomy)
    engine = Engine(taxonomy, [r.example() for r in rows[::2]])
    assert engine.learner is not None
    return engine


def test_covered_groups_is_covers(engine: Engine) -> None:
    from mapping.normalise import normalise
    from mapping.rules import content

    texts = list(
        dict.fromkeys(content(engine.compiled.prepare(normalise(t))) for t in _titles(engine, 400))
    )
    texts = [t for t in texts if t] + ["zzz qqq", "firearm"]
    got = covered_groups(texts, engine._choices, engine._groups, 80)
    hits = 0
    for text, groups in zip(texts, got, strict=True):
        want = {
            g
            for g, cols in engine._groups.items()
            if any(_covers(text, engine._choices[c]) for c in cols)
        }
        assert groups == want, text
        hits += bool(want)
    assert 0 < hits < len(texts)  # both cases occur
    assert covered_groups([], engine._choices, engine._groups, 80) == []


def test_best_in_groups_is_best_per_group_where_wanted(engine: Engine) -> None:
    rng = random.Random(3)
    texts = [t.lower() for t in _titles(engine, 300)]
    groups = engine._groups
    full = best_per_group(texts, engine._choices, groups, 80)
    wanted = [{g for g in groups if rng.random() < 0.5} for _ in texts]
    got = best_in_groups(texts, engine._choices, groups, 80, wanted)
    for row, want, w in zip(got, full, wanted, strict=True):
        # the same pairs, in the same order (evidence is appended in this order)
        assert list(row.items()) == [(g, v) for g, v in want.items() if g in w]
    assert any(got) and not any(best_in_groups(texts, engine._choices, groups, 80, [set()] * 300))


def _dicts(suggestions: Sequence) -> list[dict]:
    return [s.to_dict() for s in suggestions]


def _courses(engine: Engine, n: int) -> list[CourseInput]:
    rng = random.Random(11)
    return [
        CourseInput(
            t,
            description=rng.choice([None, "Covers de-escalation and firearm safety", "case law"]),
            hours=rng.choice([None, Decimal(1), Decimal("2.5")]),
            delivery=rng.choice([None, "online", "in-person"]),
        )
        for t in _titles(engine, n)
    ]


def test_usable_pairs_only_change_no_suggestion(
    engine: Engine, learned_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    courses = _courses(engine, 600)
    fast = [_dicts(engine.suggest_many(courses)), _dicts(learned_engine.suggest_many(courses))]
    monkeypatch.setattr(Engine, "_fuzzy_matches", _full_fuzzy_matches)
    full = [_dicts(engine.suggest_many(courses)), _dicts(learned_engine.suggest_many(courses))]
    assert fast == full
    fuzzy = sum(1 for d in full[0] for a in d["areas"] for i in a["evidence"] if "similarity" in i)
    assert fuzzy > 20  # the titles do exercise the fuzzy signal


def test_batch_is_one_at_a_time(engine: Engine, learned_engine: Engine) -> None:
    courses = _courses(engine, 300)[:80]
    for eng in (engine, learned_engine):
        assert _dicts(eng.suggest_many(courses)) == _dicts([eng.suggest(c) for c in courses])


def test_collector_paused_during_a_batch_only(engine: Engine) -> None:
    import gc

    from mapping.engine import _collector_paused

    assert gc.isenabled()
    seen = []
    with _collector_paused():
        with _collector_paused():  # nested (or another thread's) batch
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())  # the outer batch still runs
    assert seen == [False, False] and gc.isenabled()
    assert engine.suggest_many([CourseInput("Firearms Qualification")])[0].topics
    assert gc.isenabled()
    with pytest.raises(AttributeError):  # a failing batch resumes it too
        engine.suggest_many([object()])  # type: ignore[list-item]
    assert gc.isenabled()
    gc.disable()
    try:  # paused by the caller: a batch does not turn it on
        engine.suggest_many([CourseInput("Firearms Qualification")])
        assert not gc.isenabled()
    finally:
        gc.enable()


def _top_by_row(index: object, queries: list[list[str]], k: int) -> list[list[tuple[int, int]]]:
    """The definition of SimilarityIndex.top: each row's matches stably sorted by -dice."""
    import numpy as np

    block = [set(q) for q in queries]
    qm = index._binary(block).multiply(index._weight).tocsr()  # type: ignore[attr-defined]
    shared = (qm @ index._matrix.T).tocsr()  # type: ignore[attr-defined]
    out = []
    for r, q in enumerate(block):
        start, end = shared.indptr[r], shared.indptr[r + 1]
        cols, vals = shared.indices[start:end], shared.data[start:end]
        norm = sum(index.weight(w) for w in q)  # type: ignore[attr-defined]
        dice = 2 * vals / (norm + index._norms[cols])  # type: ignore[attr-defined]
        order = np.argsort(-dice, kind="stable")[:k]
        out.append([(round(100 * float(dice[o])), int(cols[o])) for o in order])
    return out


def test_similar_courses_are_the_per_row_definition(learned_engine: Engine) -> None:
    index = learned_engine._similar
    assert index is not None
    queries = learned_engine.keys(_titles(learned_engine, 500)) + [[], ["zzzunknown"]]
    for k in (1, 3):
        got = index.top(queries, k)
        assert got == _top_by_row(index, queries, k)
        assert sum(map(len, got)) > len(queries) // 2 and got[-2] == []


def test_normalise_same_with_cold_warm_and_full_word_cache(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    module = importlib.import_module("mapping.normalise")  # the module, not the function
    titles = _titles(engine, 300) + ["O.C. Spray's Part II (2 hrs) & ICAT", "IN-SERVICE and"]
    monkeypatch.setattr(module, "_WORDS", {})
    cold = [module.normalise(t) for t in titles]
    assert module._WORDS  # filled
    warm = [module.normalise(t) for t in titles]
    monkeypatch.setattr(module, "_WORDS_MAX", 0)
    monkeypatch.setattr(module, "_WORDS", {})
    full = [module.normalise(t) for t in titles]  # nothing kept: every word worked out again
    assert cold == warm == full and not module._WORDS
    assert [t.key for t in cold[-2].tokens] == ["oc", "spray", "icat"]  # dotted, 's, &, hours
    assert cold[-1].tokens == ()  # noise and "and" only
