"""Honest title similarity: rare words weigh more, one shared short word is not a match.

The score of two titles is a weighted Dice coefficient over their content words (stemmed, generic
words dropped, abbreviations expanded): 2 * weight(shared) / (weight(A) + weight(B)), where a
word's weight is its inverse document frequency in the corpus, halved for words of three letters
or fewer. Two titles that share one short word out of five get 10-30, not the 86-100 that
token-set ratios give; identical content gives 100.

`SimilarityIndex(corpus_keys)` holds the corpus as a sparse matrix and answers many queries at once
(one sparse product per block of queries).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from .normalise import STOPWORDS

__all__ = ["SimilarityIndex", "content_keys"]

_BLOCK = 1024  # queries per sparse product: bounds memory at BLOCK x corpus size


def content_keys(keys: Iterable[str]) -> list[str]:
    """The words similarity compares: stemmed keys without generic words or bare numbers."""
    return list(dict.fromkeys(k for k in keys if k not in STOPWORDS and not k.isdigit()))


class SimilarityIndex:
    """Weighted-Dice similarity of query titles against a fixed corpus of titles."""

    def __init__(self, corpus: Sequence[Sequence[str]], extra: Iterable[Sequence[str]] = ()):
        """`corpus`: content keys per title; `extra` titles only add to the word statistics."""
        self.size = len(corpus)
        docs = [set(c) for c in corpus]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d)
        n = len(docs)
        for d in extra:
            df.update(set(d))
            n += 1
        n = max(n, 1)
        self._vocab = {w: i for i, w in enumerate(sorted(df))}
        self._weight = np.zeros(len(self._vocab))
        for w, i in self._vocab.items():
            idf = math.log((n + 1) / (df[w] + 1)) + 1.0
            self._weight[i] = idf * (0.5 if len(w) <= 3 else 1.0)
        # `weight` as plain floats, for the per-query norms
        self._weights = dict(zip(self._vocab, self._weight.tolist(), strict=True))
        self._rarest = float(self._weight.max(initial=1.0))
        self._matrix = self._binary(docs)  # corpus x vocab, 0/1
        self._norms = np.asarray(self._matrix @ self._weight).ravel()

    def weight(self, word: str) -> float:
        """A word's weight (unknown words weigh as much as the rarest known ones)."""
        i = self._vocab.get(word)
        return float(self._weight[i]) if i is not None else float(self._weight.max(initial=1.0))

    def _binary(self, docs: Sequence[set[str]]) -> sparse.csr_matrix:
        rows, cols = [], []
        for r, d in enumerate(docs):
            for w in d:
                i = self._vocab.get(w)
                if i is not None:
                    rows.append(r)
                    cols.append(i)
        data = np.ones(len(rows))
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(docs), len(self._vocab)))

    def _norm(self, doc: set[str]) -> float:
        weights = self._weights
        rarest = self._rarest
        return sum(weights.get(w, rarest) for w in doc)

    def top(self, queries: Sequence[Sequence[str]], k: int = 1) -> list[list[tuple[int, int]]]:
        """Per query, up to k (score 0-100, corpus index) pairs, best first; score > 0 only.
        Ties keep the order of the corpus matches as the sparse product stores them."""
        out: list[list[tuple[int, int]]] = []
        if not self.size:
            return [[] for _ in queries]
        for lo in range(0, len(queries), _BLOCK):
            block = [set(q) for q in queries[lo : lo + _BLOCK]]
            qm = self._binary(block).multiply(self._weight).tocsr()
            shared = (qm @ self._matrix.T).tocsr()  # weight of the shared words
            qnorm = np.array([self._norm(q) for q in block])
            out += self._best(shared, qnorm, k)
        return out

    def _best(
        self, shared: sparse.csr_matrix, qnorm: np.ndarray, k: int
    ) -> list[list[tuple[int, int]]]:
        """The k best of each row of `shared`, all rows at once: entries sorted by row, then
        dice descending, then storage position (a stable sort of each row by -dice)."""
        n = shared.shape[0]
        lengths = np.diff(shared.indptr)
        rows = np.repeat(np.arange(n), lengths)
        cols = shared.indices
        dice = 2 * shared.data / (qnorm[rows] + self._norms[cols])
        if k == 1:  # each row's maximum, first in storage order
            nonempty = lengths > 0
            top = np.full(n, -np.inf)
            top[nonempty] = np.maximum.reduceat(dice, shared.indptr[:-1][nonempty])
            at = np.flatnonzero(dice == top[rows])
            first_rows, first = np.unique(rows[at], return_index=True)
            keep = at[first]
            out1: list[list[tuple[int, int]]] = [[] for _ in range(n)]
            found = zip(first_rows.tolist(), dice[keep].tolist(), cols[keep].tolist(), strict=True)
            for r, d, c in found:
                out1[r].append((round(100 * d), c))
            return out1
        order = np.lexsort((np.arange(len(dice)), -dice, rows))
        rank = np.arange(len(dice)) - np.repeat(shared.indptr[:-1], lengths)
        keep = order[rank < k]  # sorted entries whose place within their row is below k
        out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        found = zip(rows[keep].tolist(), dice[keep].tolist(), cols[keep].tolist(), strict=True)
        for r, d, c in found:
            out[r].append((round(100 * d), c))
        return out

    def pairwise(self, queries: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Sparse matrix of similarities (0-1) of each query to each corpus title."""
        block = [set(q) for q in queries]
        qm = self._binary(block).multiply(self._weight).tocsr()
        shared = (qm @ self._matrix.T).tocoo()
        qnorm = np.array([self._norm(q) for q in block])
        data = 2 * shared.data / (qnorm[shared.row] + self._norms[shared.col])
        return sparse.csr_matrix((data, (shared.row, shared.col)), shape=shared.shape)
