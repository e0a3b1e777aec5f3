"""One fit of the learned layer's models (learn.py): vectorisers, area, title-words and topic models.

The area model and the topic models read the title n-grams (TF-IDF) and the rule evidence; the
title-words model reads only the title (n-grams and word beginnings), so that where the rules are
weak it is a second expert beside them (learned.posterior), not an echo of their evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

__all__ = ["PREFIX_MARK", "Models", "grams", "words"]

MIN_PER_CLASS = 3  # decided courses needed on each side before a topic gets a model


def grams(keys: Sequence[str]) -> list[str]:
    return [*keys, *(f"{a} {b}" for a, b in zip(keys, keys[1:], strict=False))]


def _identity(doc: list[str]) -> list[str]:
    return doc


_PREFIX = 4  # word beginnings the models also read: "legally" shares "lega" with "legal"


def words(keys: Sequence[str]) -> list[str]:
    """What the models read of a title: its n-grams and the beginnings of its longer words (a
    cheap stand-in for character n-grams, which cost ~20 s per 100k titles). Beginnings end in
    PREFIX_MARK; they are never shown as evidence."""
    return [*grams(keys), *(f"{k[:_PREFIX]}{PREFIX_MARK}" for k in keys if len(k) > _PREFIX)]


PREFIX_MARK = "~"


class Models:
    """One fit: vectoriser, area model and topic models."""

    def __init__(
        self,
        docs: list[list[str]],
        rules: np.ndarray,
        areas: list[str | None],
        topics: list[frozenset[str]],
        topic_slugs: Sequence[str],
        c: float,
        words_c: float | None = None,
    ) -> None:
        self.vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        text = self.vectorizer.fit_transform(docs)
        self.n_text = text.shape[1]
        x = sparse.hstack([text, sparse.csr_matrix(rules)]).tocsr()
        labelled = [i for i, a in enumerate(areas) if a is not None]
        self.area_model: LogisticRegression | None = None
        if len({areas[i] for i in labelled}) >= 2:
            self.area_model = LogisticRegression(C=c, max_iter=2000)
            self.area_model.fit(x[labelled], [areas[i] for i in labelled])
        # the title-words model: the same title columns, no rule features. Where the rules are
        # weak it is the second expert beside them (learned.posterior), so it must not echo them
        self.words_model: LogisticRegression | None = None
        self.words_prior = np.ones(0)
        if words_c is not None and self.area_model is not None:
            y = [areas[i] for i in labelled]
            self.words_model = LogisticRegression(C=words_c, max_iter=2000).fit(text[labelled], y)
            counts = np.array([y.count(a) for a in self.words_model.classes_], dtype=float)
            self.words_prior = (counts + 1) / (counts.sum() + len(counts))  # Laplace
        self.topic_models: dict[str, LogisticRegression] = {}
        n = len(docs)
        for slug in topic_slugs:
            y = np.array([slug in t for t in topics])
            if y.sum() >= MIN_PER_CLASS and n - y.sum() >= MIN_PER_CLASS:
                model = LogisticRegression(C=c, max_iter=2000)
                model.fit(x, y)
                self.topic_models[slug] = model
        # every topic model as one matrix (classes_ are [False, True]: coef_ points to True)
        self.topic_slugs = list(self.topic_models)
        self.topic_weights = np.zeros((x.shape[1], len(self.topic_slugs)))
        self.topic_bias = np.zeros(len(self.topic_slugs))
        for k, model in enumerate(self.topic_models.values()):
            self.topic_weights[:, k] = model.coef_[0]
            self.topic_bias[k] = model.intercept_[0]
        present = (text > 0).astype(np.float64).tocsc()
        self.df: dict[str, np.ndarray] = {}  # label -> how many decided courses have each n-gram
        for label in {a for a in areas if a} | set(self.topic_models):
            rows = [i for i in range(n) if areas[i] == label or label in topics[i]]
            self.df[label] = np.asarray(present[rows].sum(axis=0)).ravel()

    def matrix(
        self, docs: list[list[str]], rules: np.ndarray
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """The features (title columns, then rule columns) and the title columns alone."""
        text = self.vectorizer.transform(docs)
        return sparse.hstack([text, sparse.csr_matrix(rules)]).tocsr(), text

    def word_ratios(self, text: sparse.csr_matrix) -> np.ndarray:
        """Per course and area (words_model.classes_), P(area | title words) / P(area)."""
        if self.words_model is None:
            return np.zeros((text.shape[0], 0))
        return self.words_model.predict_proba(text) / self.words_prior

    def probabilities(
        self, x: sparse.csr_matrix
    ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
        n = x.shape[0]
        areas: list[dict[str, float]] = [{} for _ in range(n)]
        if self.area_model is not None:
            classes = list(self.area_model.classes_)
            areas = [
                dict(zip(classes, row, strict=True))
                for row in self.area_model.predict_proba(x).tolist()
            ]
        if not self.topic_models:
            return areas, [{} for _ in range(n)]
        # every topic model at once: one sparse product, then the logistic function, as
        # LogisticRegression.predict_proba computes it per binary model (the same numbers)
        p = expit(np.asarray(x @ self.topic_weights) + self.topic_bias)
        topics = [dict(zip(self.topic_slugs, row, strict=True)) for row in p.tolist()]
        return areas, topics
