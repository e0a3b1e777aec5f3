"""The learned layer: logistic regressions trained on staff decisions, calibrated out of fold.

Features of a course: the words and word pairs of its normalised title (stemmed, generic words
dropped, abbreviations expanded; TF-IDF weighted) plus the rule evidence (each category's rule
score and whether a strong title hit backs it). One multinomial logistic regression predicts the
area, one binary regression per topic (only for topics with at least `_MIN_PER_CLASS` decided
courses on each side) predicts the topic. Because the rule evidence is among the features, the
model learns how far to trust the rules and where staff decide otherwise.

Where the rules are weak, split or found nothing, a title-words model (models.py: no rule
features) and the rules combine by Bayes (learned.posterior): the rules' pick counts with the
accuracy the rules had on decided courses of that regime (counted, calibrate.rules_calibration),
where nothing matched the area distribution of such decided courses counts instead, and the
words' likelihood ratio is tempered by `learn_words_trust`. What this changes is never confident.

Calibration: the decisions are split into folds; each fold is predicted by a model fitted on the
others. Among the labels the rules agree on, the lowest probability above which those out-of-fold
predictions were at least `confident_precision` correct becomes the threshold a label needs to
be `confident` (`Learned.area_threshold` / `topic_threshold`); None when no such threshold
exists (then nothing the model touches is confident).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .calibrate import Gate, override, rules_calibration, threshold
from .learned import RulesCalibration
from .models import PREFIX_MARK, Models, words
from .results import CourseInput, Example
from .scoring import Evidence, Learned, _blocked, build_suggestion, combine

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Learner", "example_area"]

_FOLDS = 5
_CHUNK = 5000


def example_area(example: Example) -> str | None:
    """The decided main area of an example: the one with the most hours (first on a tie)."""
    if not example.areas:
        return None
    best = max(Decimal(str(v)) for v in example.areas.values())
    return next(s for s, v in example.areas.items() if Decimal(str(v)) == best)


class Learner:
    """The fitted learned layer of an Engine (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        models: Models,
        n: int,
        area_threshold: float | None,
        topic_threshold: float | None,
        gate: Gate,
        override_threshold: float | None = None,
        calibration: RulesCalibration | None = None,
    ) -> None:
        self.taxonomy = engine.taxonomy
        self.models = models
        self.n = n
        self.area_threshold = area_threshold
        self.topic_threshold = topic_threshold
        self.gate = gate
        # out of fold the model beat the rules where they were weak / found nothing / on topics
        self.decides_areas = gate.decides("weak")
        self.decides_empty = gate.decides("empty")
        self.decides_topics = gate.decides("topics")
        self.override_threshold = override_threshold
        self.calibration = calibration  # the rules where they are not sure (learned.posterior)
        self._vocab = models.vectorizer.get_feature_names_out()
        self._shown = np.array([not str(v).endswith(PREFIX_MARK) for v in self._vocab], dtype=bool)
        self._coefs: dict[str, np.ndarray] = {}
        self._texts: dict[tuple[str, int], str] = {}

    # -- features ---------------------------------------------------------------------------

    @staticmethod
    def rule_matrix(engine: Engine, evidence: Sequence[dict[str, list[Evidence]]]) -> np.ndarray:
        """Per course: each category's rule score (0-1) and whether a strong title hit backs it;
        an area's score includes what its suggested topics imply for it (racial profiling ->
        Interpersonal), as the rules' ranking does."""
        tax = engine.taxonomy
        cats = tax.categories
        column = {cat.slug: 2 * c for c, cat in enumerate(cats)}
        implies = [
            (2 * c, column[cat.parent or cat.default_area], bool(cat.parent))
            for c, cat in enumerate(cats)
            if cat.kind == "topic" and (cat.parent or cat.default_area) in column
        ]
        threshold = int(tax.setting("topic_threshold")) / 100
        cap = int(tax.setting("default_area_score")) / 100
        out = np.zeros((len(evidence), 2 * len(cats)))
        for r, ev in enumerate(evidence):  # only the categories with evidence: the rest stay 0
            for slug, raw in ev.items():
                c = column.get(slug)
                if c is None or not raw:
                    continue
                items = _blocked(raw)
                out[r, c] = combine(items) / 100
                out[r, c + 1] = float(
                    any(i.get("strong") and i.get("field") == "title" for i in items)
                )
            for t, a, parent in implies:
                score = out[r, t]
                if score < threshold:
                    continue
                implied = score if parent else min(score, cap)
                out[r, a] = 1 - (1 - out[r, a]) * (1 - implied)
                if parent and out[r, t + 1]:
                    out[r, a + 1] = 1.0
        return out

    @classmethod
    def fit(
        cls, engine: Engine, examples: Sequence[Example], keys: Sequence[Sequence[str]]
    ) -> Learner | None:
        """Fit on staff decisions; None when they do not hold two different areas."""
        tax = engine.taxonomy
        courses = [CourseInput(e.title) for e in examples]
        distinct, evidence, _k = engine.rule_pass(courses)
        by_course = dict(zip(distinct, evidence, strict=True))
        ev = [by_course[c] for c in courses]
        rules = cls.rule_matrix(engine, ev)
        docs = [words(k) for k in keys]
        areas = [example_area(e) for e in examples]
        topics = [frozenset(e.topics) for e in examples]
        topic_slugs = [t.slug for t in tax.topics]
        c = float(tax.setting("learn_weight"))
        if len({a for a in areas if a}) < 2:
            return None
        models = Models(
            docs, rules, areas, topics, topic_slugs, c, float(tax.setting("learn_words_weight"))
        )
        plain = [build_suggestion(tax, course, e) for course, e in zip(courses, ev, strict=True)]
        calibration = None
        if models.words_model is not None:
            accuracy, empty = rules_calibration(plain, areas, models.words_model)
            known = tuple(str(a) for a in models.words_model.classes_)
            trust = float(tax.setting("learn_words_trust"))
            calibration = RulesCalibration(known, accuracy, empty, trust)
        area_pairs: list[tuple[float, bool]] = []
        topic_pairs: list[tuple[float, bool]] = []
        override_pairs: list[tuple[float, bool]] = []
        # per regime of the rules (weak or split evidence, nothing matched): right with the rules
        # alone, right with the model deciding (out of fold); the model decides such courses only
        # where it did better (see `Gate`)
        gate = Gate()
        n = len(examples)
        folds = min(_FOLDS, n)
        order = np.random.default_rng(0).permutation(n)
        for f in range(folds):
            test = sorted(order[f::folds].tolist())
            train = sorted(set(range(n)) - set(test))
            sub = Models(
                [docs[i] for i in train],
                rules[train],
                [areas[i] for i in train],
                [topics[i] for i in train],
                topic_slugs,
                c,
            )
            pa, pt = sub.probabilities(sub.matrix([docs[i] for i in test], rules[test])[0])
            for j, i in enumerate(test):
                top = plain[i].areas[0]
                if top.confident and top.slug in pa[j]:
                    area_pairs.append((pa[j][top.slug], top.slug == areas[i]))
                    best = max(pa[j], key=pa[j].get)  # type: ignore[arg-type]
                    if best != top.slug:  # the model disagrees with rules that agree
                        override_pairs.append((pa[j][best], best == areas[i]))
                for t in plain[i].topics:
                    if t.confident and t.slug in pt[j]:
                        topic_pairs.append((pt[j][t.slug], t.slug in topics[i]))
                learned = build_suggestion(
                    tax, courses[i], ev[i], Learned(pa[j], pt[j], {}, None, None)
                )
                gate.add(plain[i], learned, areas[i], topics[i])
        target = float(tax.setting("confident_precision"))
        return cls(
            engine,
            models,
            n,
            threshold(area_pairs, target),
            threshold(topic_pairs, target),
            gate,
            override(override_pairs, float(tax.setting("override_precision"))),
            calibration,
        )

    # -- prediction -------------------------------------------------------------------------

    def predict(
        self,
        engine: Engine,
        keys: Sequence[Sequence[str]],
        evidence: Sequence[dict[str, list[Evidence]]],
    ) -> list[Learned]:
        """The learned view of each course (probabilities, evidence texts, thresholds)."""
        out: list[Learned] = []
        for lo in range(0, len(keys), _CHUNK):  # bounds the feature matrices' memory
            out += self._predict(engine, keys[lo : lo + _CHUNK], evidence[lo : lo + _CHUNK])
        return out

    def _predict(
        self,
        engine: Engine,
        keys: Sequence[Sequence[str]],
        evidence: Sequence[dict[str, list[Evidence]]],
    ) -> list[Learned]:
        if not keys:
            return []
        x, text = self.models.matrix([words(k) for k in keys], self.rule_matrix(engine, evidence))
        areas, topics = self.models.probabilities(x)
        why = self._why(text, areas, topics)
        ratios = self.models.word_ratios(text)
        self._why_words(text, ratios, areas, why)
        args = (
            self.area_threshold,
            self.topic_threshold,
            self.decides_areas,
            self.decides_topics,
            self.decides_empty,
            self.override_threshold,
        )
        cal = self.calibration
        rows = [tuple(r) for r in ratios.tolist()] if cal is not None else [()] * len(areas)
        return [
            Learned(a, t, w, *args, r, cal)
            for a, t, w, r in zip(areas, topics, why, rows, strict=True)
        ]

    def _why_words(
        self,
        text: sparse.csr_matrix,
        ratios: np.ndarray,
        areas: list[dict[str, float]],
        why: list[dict[str, str]],
    ) -> None:
        """Evidence for the area the title words point to most, where `_why` has none for it
        (`_why` explains the top area of the model with rule features)."""
        m = self.models
        if m.words_model is None or m.area_model is None or not len(ratios):
            return
        classes = [str(a) for a in m.words_model.classes_]
        best = ratios.argmax(axis=1).tolist()
        wanted: dict[str, list[int]] = {}
        for r, (k, probs) in enumerate(zip(best, areas, strict=True)):
            slug = classes[k]
            if probs and slug not in why[r]:
                wanted.setdefault(slug, []).append(r)
        for slug, rows in wanted.items():
            for r, j in zip(rows, self._best_ngram(text, self._coef(slug), rows), strict=True):
                why[r][slug] = self._text(slug, j)

    def _why(
        self, text: sparse.csr_matrix, areas: list[dict[str, float]], topics: list[dict[str, float]]
    ) -> list[dict[str, str]]:
        """Per course, for its top area and its likely topics (p >= 0.5): the n-gram of its title
        that pushes the model towards the label most (coefficient x tf-idf, first on a tie)."""
        m = self.models
        out: list[dict[str, str]] = [{} for _ in areas]
        wanted: dict[str, list[int]] = {}  # label -> rows that explain it
        if m.area_model is not None:
            for r, probs in enumerate(areas):
                if probs:
                    wanted.setdefault(max(probs, key=probs.get), []).append(r)  # type: ignore[arg-type]
        for r, probs in enumerate(topics):
            for slug, p in probs.items():
                if p >= 0.5:
                    wanted.setdefault(slug, []).append(r)
        for slug, rows in wanted.items():
            best = self._best_ngram(text, self._coef(slug), rows)
            for r, j in zip(rows, best, strict=True):
                out[r][slug] = self._text(slug, j)
        return out

    def _coef(self, slug: str) -> np.ndarray:
        """The n-gram coefficients pushing towards the label (an area or a topic)."""
        found = self._coefs.get(slug)
        if found is None:
            m = self.models
            if slug in m.topic_models:
                found = m.topic_models[slug].coef_[0]
            else:
                assert m.area_model is not None
                k = list(m.area_model.classes_).index(slug)
                coef = m.area_model.coef_
                found = coef[k] if coef.shape[0] > 1 else coef[0] * (1 if k else -1)
            # word beginnings ("lega~") help the model but read badly as evidence: never shown
            found = np.where(self._shown, found[: m.n_text], 0.0)
            self._coefs[slug] = found
        return found

    @staticmethod
    def _best_ngram(text: sparse.csr_matrix, coef: np.ndarray, rows: list[int]) -> list[int]:
        """Per row, the column of its largest positive coefficient x value (first on a tie), -1
        when none is positive."""
        sub = text[rows]
        lengths = np.diff(sub.indptr)
        best = np.full(len(rows), -1)
        if not sub.nnz:
            return best.tolist()
        push = sub.data * coef[sub.indices]
        owner = np.repeat(np.arange(len(rows)), lengths)
        nonempty = lengths > 0
        top = np.full(len(rows), -np.inf)
        top[nonempty] = np.maximum.reduceat(push, sub.indptr[:-1][nonempty])
        at = np.flatnonzero(push == top[owner])  # positions of each row's maximum, in order
        first_owner, first = np.unique(owner[at], return_index=True)
        cols = sub.indices[at[first]]
        ok = coef[cols] > 0
        best[first_owner[ok]] = cols[ok]
        return best.tolist()

    def _text(self, slug: str, col: int) -> str:
        key = (slug, col)
        found = self._texts.get(key)  # one string per (label, n-gram): shared by the courses
        if found is None:
            m = self.models
            if col >= 0 and slug in m.df:
                name = self.taxonomy.get(slug).name
                count = int(m.df[slug][col])
                found = (
                    f"'{self._vocab[col]}' appears in {count} decided {name} course"
                    f"{'s' if count != 1 else ''} (learned from {self.n} staff decisions)"
                )
            else:
                found = f"learned from {self.n} staff decisions"
            self._texts[key] = found
        return found
