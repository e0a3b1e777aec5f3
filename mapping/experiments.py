"""How much staff decisions help: `evaluate --learn FRACTION` and `evaluate --cv source`.

`learn`: decide a fraction of the gold rows as examples (stratified by `source`, or in teach-me
order), score the rest with and without those examples, average over seeds. `cv_source`: the
sources are grouped into folds (each source wholly in one), and each fold's rows are scored by an
engine that learned from the other folds' rows.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .engine import Engine
from .evaluate import GoldRow, score
from .results import Suggestion
from .taxonomy import Taxonomy
from .teach import teach_order

__all__ = ["learn", "curve", "cv_source", "source_folds", "stratified", "compare"]

_TEACH_ROUNDS = 3  # teach order picks in rounds, refitting on what was decided so far


def stratified(rows: Sequence[GoldRow], fraction: float, rng: random.Random) -> list[int]:
    """Indices of round(fraction * n) rows, each source contributing its share (random rounding)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r.source].append(i)
    want = round(fraction * len(rows))
    chosen: list[int] = []
    rest: list[tuple[float, list[int]]] = []
    for members in groups.values():
        members = members[:]
        rng.shuffle(members)
        exact = fraction * len(members)
        whole = int(exact)
        chosen += members[:whole]
        if whole < len(members):
            rest.append((exact - whole, members[whole:]))
    # fill up with one more row from sources with the largest remainders (ties at random)
    rng.shuffle(rest)
    rest.sort(key=lambda fr: -fr[0])
    for _frac, members in rest:
        if len(chosen) >= want:
            break
        chosen.append(members[0])
    return sorted(chosen[:want])


def _teach(rows: Sequence[GoldRow], tax: Taxonomy, fraction: float, seed: int) -> list[int]:
    want = round(fraction * len(rows))
    chosen: list[int] = []
    for r in range(_TEACH_ROUNDS):
        engine = Engine(tax, [rows[i].example() for i in chosen])
        pool = [i for i in range(len(rows)) if i not in set(chosen)]
        k = (want - len(chosen)) // (_TEACH_ROUNDS - r)
        picked = teach_order(engine, [rows[i].course for i in pool], k)
        chosen += [pool[j] for j in picked]
    return sorted(chosen)


def compare(without: dict[str, Any], with_: dict[str, Any]) -> dict[str, Any]:
    """with - without for every numeric figure (rounded)."""
    return {
        k: round(with_[k] - without[k], 4)
        for k, v in without.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k in with_ and k != "seconds"
    }


def _mean(reports: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [
        k for k, v in reports[0].items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return {k: round(sum(r[k] for r in reports) / len(reports), 4) for k in keys}


def learn(
    rows: Sequence[GoldRow],
    tax: Taxonomy,
    fraction: float,
    seeds: int = 5,
    order: str = "random",
) -> dict[str, Any]:
    """Figures on the rest with and without the decided fraction, averaged over seeds."""
    if not 0 < fraction < 1:
        raise ValueError("--learn needs a fraction between 0 and 1")
    started = time.perf_counter()
    plain = Engine(tax)
    base = plain.suggest_many([r.course for r in rows])
    without, with_ = [], []
    for seed in range(seeds):
        if order == "teach":
            decided = _teach(rows, tax, fraction, seed)
        else:
            decided = stratified(rows, fraction, random.Random(seed))
        taken = set(decided)
        rest = [i for i in range(len(rows)) if i not in taken]
        engine = Engine(tax, [rows[i].example() for i in decided])
        learned = engine.suggest_many([rows[i].course for i in rest])
        rest_rows = [rows[i] for i in rest]
        without.append(score(rest_rows, [base[i] for i in rest], tax).figures)
        with_.append(score(rest_rows, learned, tax).figures)
        if order == "teach":
            break  # the teach order is deterministic: one run is every seed
    w, lw = _mean(without), _mean(with_)
    examples = round(fraction * len(rows))
    return {
        "fraction": fraction,
        "order": order,
        "seeds": seeds if order != "teach" else 1,
        "examples": examples,
        "without": w,
        "with": lw,
        "gain": compare(w, lw),
        # what the catalog holds once those rows are decided (a decided row is right): compares
        # orders fairly, since teach-me order leaves an easier rest than a random draw
        "catalog_area_top1": round((examples + lw["area_top1"] * lw["n"]) / len(rows), 4),
        "seconds": round(time.perf_counter() - started, 2),
    }


CURVE = (0.05, 0.10, 0.25)


def curve(
    rows: Sequence[GoldRow], tax: Taxonomy, seeds: int = 5, fractions: Sequence[float] = CURVE
) -> dict[str, Any]:
    """Teach-me order against random draws at each fraction: area top-1 and topic precision on
    the rest (with the examples) and of the whole catalog once the fraction is decided."""
    started = time.perf_counter()
    points = []
    for fraction in fractions:
        point: dict[str, Any] = {"fraction": fraction}
        for order in ("random", "teach"):
            r = learn(rows, tax, fraction, seeds, order)
            point[order] = {
                "rest_area_top1": r["with"]["area_top1"],
                "rest_topic_precision": r["with"]["topic_precision"],
                "gain_area_top1": r["gain"]["area_top1"],
                "catalog_area_top1": r["catalog_area_top1"],
                "confident_label_precision": r["with"]["confident_label_precision"],
            }
        points.append(point)
    return {"curve": points, "seconds": round(time.perf_counter() - started, 2)}


def source_folds(rows: Sequence[GoldRow], folds: int) -> list[list[int]]:
    """Row indices per fold, every source wholly inside one fold (largest sources first, each
    into the fold with the fewest rows so far: GroupKFold's balancing); folds <= 0 gives one fold
    per source (leave-one-source-out)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r.source].append(i)
    if folds <= 0 or folds >= len(groups):
        return list(groups.values())
    out: list[list[int]] = [[] for _ in range(folds)]
    for _source, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        min(out, key=len).extend(members)
    return [sorted(f) for f in out if f]


def cv_source(rows: Sequence[GoldRow], tax: Taxonomy, folds: int = 5) -> dict[str, Any]:
    """Grouped cross-validation by source: each fold's rows are scored by an engine that learned
    from the other folds' rows only, so no source learns from itself (`folds` <= 0: one fold per
    source, i.e. leave-one-source-out; slow with many small sources)."""
    started = time.perf_counter()
    parts = source_folds(rows, folds)
    base = Engine(tax).suggest_many([r.course for r in rows])
    learned: list[Suggestion | None] = [None] * len(rows)
    for members in parts:
        inside = set(members)
        engine = Engine(tax, [r.example() for i, r in enumerate(rows) if i not in inside])
        for i, s in zip(
            members, engine.suggest_many([rows[i].course for i in members]), strict=True
        ):
            learned[i] = s
    w = score(rows, base, tax).figures
    lw = score(rows, [s for s in learned if s is not None], tax).figures
    return {
        "cv": "source",
        "folds": len(parts),
        "sources": len({r.source for r in rows}),
        "without": w,
        "with": lw,
        "gain": compare(w, lw),
        "seconds": round(time.perf_counter() - started, 2),
    }
