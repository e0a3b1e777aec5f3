"""The smallest set of courses that closes every gap: an integer program solved by HiGHS.

Pure arithmetic on integers (hundredths of an hour), no database. A problem is a vector of
`needs` (one per requirement row still short) and a matrix of what each candidate course gives
toward each row. The objective is lexicographic: fewest extra hours, then fewest courses, then
fewest courses from providers the user did not prefer. It is one weighted objective whose weights
make each level dominate the next, solved to a zero optimality gap, so the answer is optimal, not
a heuristic's. Before solving, contributions are capped at the need (sound: with 0/1 choices a
course giving more than the need meets the row either way), courses giving nothing are dropped,
and courses with the same capped contribution vector are merged into one integer variable
holding only as many of the cheapest of them as a minimal plan could ever use.

`greedy()` is the baseline the benchmark compares with (largest gap first);
`brute_force()` is the reference the tests check optimality against.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["Objective", "Solution", "brute_force", "greedy", "objective_of", "solve"]

# A course can be used at most once; the MILP never needs more copies of identical courses
# than ceil(need / contribution) on the row where each copy helps least.
MAX_WEIGHT = 2**52


@dataclass(frozen=True)
class Objective:
    """What a plan costs, in the order it is minimised."""

    cents: int
    courses: int
    not_preferred: int

    def key(self) -> tuple[int, int, int]:
        return (self.cents, self.courses, self.not_preferred)


@dataclass(frozen=True)
class Solution:
    """Chosen candidate indices (into the arrays given) and what they cost; `unmet` rows are
    the ones no choice of candidates can close (left out of the optimisation)."""

    chosen: tuple[int, ...]
    objective: Objective
    unmet: tuple[int, ...]


def objective_of(chosen, cost: np.ndarray, preferred: np.ndarray) -> Objective:
    """The objective value of a set of candidate indices."""
    idx = list(chosen)
    return Objective(
        int(cost[idx].sum()) if idx else 0,
        len(idx),
        int((~preferred[idx]).sum()) if idx else 0,
    )


def _prepare(needs, gives, cost, preferred):
    needs = np.asarray(needs, dtype=np.int64)
    gives = np.asarray(gives, dtype=np.int64).reshape(-1, len(needs))
    cost = np.asarray(cost, dtype=np.int64)
    preferred = np.asarray(preferred, dtype=bool)
    return needs, gives, cost, preferred


def unmeetable(needs, gives) -> tuple[int, ...]:
    """Rows that even every candidate together cannot close (covering rows are independent:
    if each row can be met by all candidates, all candidates meet every row at once)."""
    needs = np.asarray(needs, dtype=np.int64)
    gives = np.asarray(gives, dtype=np.int64).reshape(-1, len(needs))
    total = gives.sum(axis=0) if len(gives) else np.zeros(len(needs), dtype=np.int64)
    return tuple(int(r) for r in np.nonzero((needs > 0) & (total < needs))[0])


def solve(needs, gives, cost, preferred, *, time_limit: float | None = None) -> Solution:
    """Optimal plan: minimise (hours, courses, non-preferred courses) with gives @ x >= needs.

    `needs` has one entry per row (0 = met already), `gives` is candidates x rows, `cost` the
    candidates' hours (integers, e.g. hundredths), `preferred` a bool per candidate. Rows that
    cannot be met are reported in `unmet` and the others are still planned.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    needs, gives, cost, preferred = _prepare(needs, gives, cost, preferred)
    unmet = unmeetable(needs, gives)
    rows = [r for r in range(len(needs)) if needs[r] > 0 and r not in unmet]
    if not rows:
        return Solution((), Objective(0, 0, 0), unmet)
    need = needs[rows]
    capped = np.minimum(gives[:, rows], need)
    useful = np.nonzero(capped.any(axis=1))[0]
    capped, ucost, upref = capped[useful], cost[useful], preferred[useful]

    # Merge candidates with the same capped contribution vector: keep the cheapest ones (then
    # preferred), at most as many as a minimal plan could use, as one integer variable per
    # (vector, cost, preferred) group.
    order = np.lexsort((~upref, ucost, *capped.T[::-1]))
    capped, ucost, upref, useful = capped[order], ucost[order], upref[order], useful[order]
    with np.errstate(divide="ignore"):
        copies = np.where(capped > 0, -(-need // np.maximum(capped, 1)), 0).max(axis=1)
    groups: list[list[int]] = []  # member positions (into the sorted arrays), cheapest first
    group_of_vector = 0
    previous = None
    used = 0
    for pos in range(len(useful)):
        vector = capped[pos].tobytes()
        if vector != previous:
            previous, used = vector, 0
            group_of_vector = len(groups)
        if used >= copies[pos]:
            continue
        used += 1
        last = groups[-1] if len(groups) > group_of_vector else None
        if (
            last is not None
            and ucost[last[0]] == ucost[pos]
            and upref[last[0]] == upref[pos]
            and capped[last[0]].tobytes() == vector
        ):
            last.append(pos)
        else:
            groups.append([pos])

    heads = np.array([g[0] for g in groups])
    upper = np.array([len(g) for g in groups], dtype=float)
    a = capped[heads].T.astype(float)
    count_weight = int(upper.sum()) + 1
    hour_weight = count_weight * count_weight
    gcost = ucost[heads]
    if int(gcost.max()) * hour_weight * count_weight >= MAX_WEIGHT:  # pragma: no cover
        raise OverflowError("plan too large to weigh exactly")
    c = gcost * hour_weight + count_weight + (~upref[heads]).astype(np.int64)
    options = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit:
        options["time_limit"] = time_limit
    result = milp(
        c=c.astype(float),
        constraints=LinearConstraint(a, lb=need.astype(float), ub=np.inf),
        integrality=np.ones(len(groups)),
        bounds=Bounds(0, upper),
        options=options,
    )
    if result.x is None:  # pragma: no cover - every row was checked to be meetable
        raise RuntimeError(f"HiGHS found no plan: {result.message}")
    chosen: list[int] = []
    for group, value in zip(groups, np.rint(result.x).astype(int), strict=True):
        chosen.extend(int(useful[p]) for p in group[:value])
    chosen.sort()
    return Solution(tuple(chosen), objective_of(chosen, cost, preferred), unmet)


def greedy(needs, gives, cost, preferred, *, first_rows: int | None = None) -> Solution:
    """Baseline: take the largest remaining gap (among the first `first_rows` rows, the
    requirement categories, while any is open; then the totals) and the course that gives most
    toward it per hour; repeat."""
    needs, gives, cost, preferred = _prepare(needs, gives, cost, preferred)
    unmet = unmeetable(needs, gives)
    left = needs.copy()
    left[list(unmet)] = 0
    taken = np.zeros(len(cost), dtype=bool)
    chosen: list[int] = []
    while (left > 0).any():
        head = left[:first_rows] if first_rows else left
        row = int(np.argmax(head)) if (head > 0).any() else int(np.argmax(left))
        helps = np.minimum(gives[:, row], left[row]).astype(float)
        helps[taken] = 0
        if not helps.any():  # pragma: no cover - meetable rows always have a helper
            break
        ratio = np.where(helps > 0, helps / np.maximum(cost, 1), -1)
        best = np.lexsort((np.arange(len(cost)), cost, -ratio))[0]
        taken[best] = True
        chosen.append(int(best))
        left = np.maximum(left - gives[best], 0)
    chosen.sort()
    return Solution(tuple(chosen), objective_of(chosen, cost, preferred), unmet)


def brute_force(needs, gives, cost, preferred) -> Solution:
    """Every subset, smallest objective first (tests only: 2^n)."""
    needs, gives, cost, preferred = _prepare(needs, gives, cost, preferred)
    unmet = unmeetable(needs, gives)
    target = needs.copy()
    target[list(unmet)] = 0
    best = None
    n = len(cost)
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            got = gives[list(subset)].sum(axis=0) if subset else np.zeros(len(needs))
            if (got >= target).all():
                value = objective_of(subset, cost, preferred)
                if best is None or value.key() < best[1].key():
                    best = (subset, value)
    assert best is not None
    return Solution(tuple(best[0]), best[1], unmet)
