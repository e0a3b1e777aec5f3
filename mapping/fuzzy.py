"""Batched rapidfuzz scoring: one `process.cdist` over all queries, reduced per group of choices.

`cdist` needs numpy at run time; without it the same results come from `process.extract` one
query at a time (slower, same numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rapidfuzz import fuzz, process, utils

__all__ = ["best_per_group", "CHUNK"]

CHUNK = 20_000  # rows per cdist call: bounds peak memory at CHUNK x len(choices) bytes
Scorer = Callable[..., float]


def best_per_group(
    queries: Sequence[str],
    choices: Sequence[str],
    groups: dict[str, list[int]],
    cutoff: int,
    scorer: Scorer = fuzz.token_set_ratio,
) -> list[dict[str, tuple[int, int]]]:
    """For each query: group -> (best score, choice index), only where the score >= cutoff."""
    out: list[dict[str, tuple[int, int]]] = [{} for _ in queries]
    if not queries or not choices:
        return out
    try:
        import numpy  # noqa: F401  (cdist needs it)
    except ImportError:  # pragma: no cover - exercised only without numpy
        return _slow(queries, choices, groups, cutoff, scorer)
    for lo in range(0, len(queries), CHUNK):
        block = queries[lo : lo + CHUNK]
        matrix: Any = process.cdist(
            block,
            choices,
            scorer=scorer,
            processor=utils.default_process,
            score_cutoff=cutoff,
            dtype="uint8",
            workers=-1,
        )
        for name, cols in groups.items():
            if not cols:
                continue
            sub = matrix[:, cols]
            best = sub.max(axis=1)
            rows = (best >= max(cutoff, 1)).nonzero()[0].tolist()
            if not rows:
                continue
            arg = sub[rows].argmax(axis=1).tolist()
            scores = best[rows].tolist()
            for r, a, s in zip(rows, arg, scores, strict=True):
                out[lo + r][name] = (int(s), cols[a])
    return out


def _slow(
    queries: Sequence[str],
    choices: Sequence[str],
    groups: dict[str, list[int]],
    cutoff: int,
    scorer: Scorer,
) -> list[dict[str, tuple[int, int]]]:
    owner = {i: name for name, cols in groups.items() for i in cols}
    out: list[dict[str, tuple[int, int]]] = []
    for q in queries:
        row: dict[str, tuple[int, int]] = {}
        for _choice, score, idx in process.extract(
            q,
            choices,
            scorer=scorer,
            processor=utils.default_process,
            score_cutoff=max(cutoff, 1),
            limit=None,
        ):
            name = owner.get(idx)
            if name is not None and int(score) > row.get(name, (-1, 0))[0]:
                row[name] = (int(score), idx)
        out.append(row)
    return out
