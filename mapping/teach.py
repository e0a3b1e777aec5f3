"""Teach-me order: which undecided courses staff should decide next so the rest improve fastest.

A course is useful to decide when the engine is unsure of it (uncertainty) and when many other
undecided courses resemble it (frequency: their decision will lean on this one). The usefulness of
course i is u_i * (1 + sum_j sim(i, j) * u_j) over the other courses j, with the honest similarity
of `similarity.py` (0-1) and u the uncertainty. Picking greedily, each pick lowers the uncertainty
of the courses like it (u_j *= 1 - sim(i, j)), so the next pick covers another part of the pool
instead of a near-duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .results import Suggestion
from .similarity import SimilarityIndex

if TYPE_CHECKING:
    from .engine import Engine
    from .results import CourseInput

__all__ = ["rank", "stored_uncertainty", "teach_order", "uncertainty", "usefulness"]


def uncertainty(s: Suggestion) -> float:
    """0 (sure) .. 1 (no idea): from the learned probabilities when there are, else the rules."""
    if not s.areas:
        return 1.0
    top = s.areas[0]
    if top.probability is not None:
        u = 1.0 - top.probability
    elif top.confident:
        u = 0.05
    else:
        u = 0.5 + 0.5 * (1.0 - min(max(top.gap, 0), 100) / 100)
    for t in s.topics:
        if t.probability is not None:
            u = max(u, 1.0 - abs(2 * t.probability - 1))
        elif not t.confident:
            u = max(u, 0.5)
    if s.confident:
        u = min(u, 0.05)
    return u


def _similarities(engine: Engine, titles: Sequence[str]):
    keys = engine.keys(titles)
    index = SimilarityIndex(keys)
    sim = index.pairwise(keys).tolil()
    sim.setdiag(0)
    return sim.tocsr()


def usefulness(engine: Engine, courses: Sequence[CourseInput]) -> list[float]:
    """Usefulness of deciding each course next (see the module docstring); higher first."""
    if not courses:
        return []
    u = np.array([uncertainty(s) for s in engine.suggest_many(courses)])
    sim = _similarities(engine, [c.title for c in courses])
    return (u * (1.0 + sim @ u)).tolist()


def teach_order(engine: Engine, courses: Sequence[CourseInput], k: int) -> list[int]:
    """Indices of the k courses to decide first, most useful first (greedy, see docstring)."""
    if not courses or k <= 0:
        return []
    u = [uncertainty(s) for s in engine.suggest_many(courses)]
    return rank(engine, [c.title for c in courses], u, k)


def stored_uncertainty(score: int | None, confident: bool | None) -> float:
    """Uncertainty from what an app stores per course: the headline score and confident flag."""
    if confident:
        return 0.05
    return 1.0 - 0.5 * min(max(score or 0, 0), 100) / 100


def rank(
    engine: Engine, titles: Sequence[str], uncertainties: Sequence[float], k: int
) -> list[int]:
    """The k most useful of these titles to decide next, given their uncertainties (greedy)."""
    n = len(titles)
    if not n or k <= 0:
        return []
    u = np.array(uncertainties, dtype=float)
    sim = _similarities(engine, titles)
    chosen: list[int] = []
    free = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        value = u * (1.0 + sim @ u)
        value[~free] = -1.0
        i = int(np.argmax(value))
        chosen.append(i)
        free[i] = False
        row = sim.getrow(i).toarray().ravel()
        u = u * (1.0 - row)
        u[i] = 0.0
    return chosen
