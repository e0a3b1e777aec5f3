"""Batched rapidfuzz scoring: one `process.cdist` over all queries, reduced per group of choices.

`cdist` needs numpy at run time; without it the same results come from `process.extract` one
query at a time (slower, same numbers).

`best_in_groups` computes the same numbers only for the (query, group) pairs a caller can use, and
`covered_groups` says which groups can be of use at all: a fuzzy match counts only when every word
of the matched choice is (nearly) a word of the query, which most (query, group) pairs cannot
satisfy. At 100k generated titles that leaves about a tenth of the full query x choice matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from rapidfuzz import fuzz, process, utils

__all__ = ["best_per_group", "best_in_groups", "covered_groups", "CHUNK"]

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


def best_in_groups(
    queries: Sequence[str],
    choices: Sequence[str],
    groups: dict[str, list[int]],
    cutoff: int,
    wanted: Sequence[Collection[str]],
    scorer: Scorer = fuzz.token_set_ratio,
) -> list[dict[str, tuple[int, int]]]:
    """`best_per_group`, computed only where `wanted[i]` names the group for query i: the same
    (score, first best choice index) for those pairs, in the same group order; nothing for others."""
    out: list[dict[str, tuple[int, int]]] = [{} for _ in queries]
    for name, cols in groups.items():  # groups in order: each row's dict keeps best_per_group's
        rows = [r for r, w in enumerate(wanted) if name in w]
        if not rows or not cols:
            continue
        found = best_per_group(
            [queries[r] for r in rows],
            [choices[c] for c in cols],
            {name: list(range(len(cols)))},
            cutoff,
            scorer,
        )
        for r, row in zip(rows, found, strict=True):
            if name in row:
                score, at = row[name]
                out[r][name] = (score, cols[at])
    return out


def covered_groups(
    texts: Sequence[str], choices: Sequence[str], groups: dict[str, list[int]], cutoff: int
) -> list[set[str]]:
    """Per text, the groups holding a choice every word of which is nearly a word of the text
    (`w == k or fuzz.ratio(w, k) >= cutoff`, as Engine._covers asks of a fuzzy match).

    One `cdist` over the distinct words (texts' x choices'), then sparse products: text -> near
    choice words -> how many of each choice's words are covered -> groups."""
    import numpy as np
    from scipy import sparse

    out: list[set[str]] = [set() for _ in texts]
    if not texts or not choices:
        return out
    qwords: dict[str, int] = {}
    t_rows, t_cols = [], []
    for r, text in enumerate(texts):
        for w in set(text.split()):
            t_rows.append(r)
            t_cols.append(qwords.setdefault(w, len(qwords)))
    cwords: dict[str, int] = {}
    c_rows, c_cols = [], []
    for c, choice in enumerate(choices):
        for k in set(choice.split()):
            c_rows.append(cwords.setdefault(k, len(cwords)))
            c_cols.append(c)
    if not qwords or not cwords:
        return out
    # float64 without a cutoff: the very numbers fuzz.ratio returns, compared as _covers does
    ratio = process.cdist(
        list(qwords), list(cwords), scorer=fuzz.ratio, dtype=np.float64, workers=-1
    )
    near = sparse.csr_matrix(ratio >= cutoff, dtype=np.int32)
    del ratio
    text_words = sparse.csr_matrix(
        (np.ones(len(t_rows), dtype=np.int32), (t_rows, t_cols)), shape=(len(texts), len(qwords))
    )
    choice_words = sparse.csr_matrix(
        (np.ones(len(c_rows), dtype=np.int32), (c_rows, c_cols)),
        shape=(len(cwords), len(choices)),
    )
    needed = np.asarray(choice_words.sum(axis=0)).ravel()  # distinct words per choice
    hit = (text_words @ near).tocsr()
    hit.data[:] = 1  # the text covers this choice word (by one or more of its words)
    count = (hit @ choice_words).tocoo()  # per (text, choice): covered words of the choice
    full = count.data == needed[count.col]
    member = sparse.csr_matrix(
        (
            np.ones(sum(len(cols) for cols in groups.values()), dtype=np.int32),
            (
                [c for cols in groups.values() for c in cols],
                [g for g, cols in enumerate(groups.values()) for _ in cols],
            ),
        ),
        shape=(len(choices), len(groups)),
    )
    covered = sparse.csr_matrix(
        (np.ones(int(full.sum()), dtype=np.int32), (count.row[full], count.col[full])),
        shape=(len(texts), len(choices)),
    )
    names = list(groups)
    by_group = (covered @ member).tocoo()
    for r, g in zip(by_group.row.tolist(), by_group.col.tolist(), strict=True):
        out[r].add(names[g])
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
