"""Out-of-fold calibration of the learned layer: when its probabilities make a label confident,
when it may decide a regime of the rules, and when it may override an area the rules agree on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .learned import regime, rules_regime
from .results import Suggestion

__all__ = ["Gate", "override", "rules_calibration", "threshold"]

_MIN_PAIRS = 20  # agreed labels among the decisions needed before the model calibrates them
_NEVER = 1.01
_MARGIN = 2  # out-of-fold courses the model must win by before it decides where rules are weak
_MIN_OVERRIDES = 3  # staff contradicting the rules on a class: at least this many decisions
_SHRINK = 2.0  # pseudo-decisions a regime's rule accuracy is shrunk with (rules_calibration)


def threshold(pairs: list[tuple[float, bool]], target: float) -> float | None:
    """Lowest probability above which the pairs (p, correct) are at least `target` correct.

    None when there are fewer than `_MIN_PAIRS` pairs (too few decisions to calibrate: the rules'
    agreement decides alone); above 1 when no threshold reaches the target (nothing is confident).
    """
    if len(pairs) < _MIN_PAIRS:
        return None
    pairs = sorted(pairs, key=lambda pc: -pc[0])
    best = _NEVER
    right = 0
    for k, (p, ok) in enumerate(pairs, start=1):
        right += ok
        nxt = pairs[k][0] if k < len(pairs) else None
        if nxt is not None and nxt == p:
            continue  # a threshold cannot split equal probabilities
        if right / k >= target:
            best = p
    return best


class Gate:
    """Out-of-fold tally per regime of the rules: how many decided courses the rules alone got
    right, and how many the learned layer deciding got right. The model decides a regime only
    where it did better; where nothing matched the rules have no evidence (the fallback area), so
    a tie goes to the model."""

    def __init__(self) -> None:
        self.rules: dict[str, int] = {"weak": 0, "empty": 0, "topics": 0}
        self.model: dict[str, int] = {"weak": 0, "empty": 0, "topics": 0}

    def add(
        self, plain: Suggestion, learned: Suggestion, area: str | None, topics: frozenset[str]
    ) -> None:
        top = plain.areas[0]
        mode = regime(top.reason)
        if mode != "agree":
            self.rules[mode] += top.slug == area
            self.model[mode] += learned.top_area == area
        if any(not t.confident for t in plain.topics):
            self.rules["topics"] += set(plain.topic_slugs) == topics
            self.model["topics"] += set(learned.topic_slugs) == topics

    def decides(self, mode: str) -> bool:
        if mode == "empty":
            return self.model[mode] >= self.rules[mode] and self.model[mode] > 0
        # a clear margin: one or two lucky out-of-fold courses do not hand the model a regime
        return self.model[mode] >= self.rules[mode] + _MARGIN


def override(pairs: list[tuple[float, bool]], target: float) -> float | None:
    """Lowest probability above which the model's out-of-fold disagreements with rules that agreed
    were at least `target` right, over at least `_MIN_OVERRIDES` right ones; None otherwise (the
    rules keep every area they agree on)."""
    best = None
    right = 0
    for k, (p, ok) in enumerate(sorted(pairs, key=lambda pc: -pc[0]), start=1):
        right += ok
        if right >= _MIN_OVERRIDES and right / k >= target:
            best = p
    return best


def rules_calibration(
    plain: Sequence[Suggestion], areas: Sequence[str | None], words: Any
) -> tuple[dict[str, float], dict[str, float]]:
    """How often the rules alone were right on decided courses where they were not sure, per
    regime (`rules_regime`), and the area distribution of decided courses where nothing matched.

    Counted, not fitted: the rules do not learn, so their accuracy on the decisions is an honest
    estimate. Few decisions per regime are shrunk towards the accuracy over all unsure regimes
    (`_SHRINK` pseudo-decisions), and that one towards one right in two; the empty regime is
    shrunk towards the decided areas' frequencies."""
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    empty: list[str] = []
    for s, area in zip(plain, areas, strict=True):
        if area is None:
            continue
        top = s.areas[0]
        mode = rules_regime(top.reason)
        if mode == "empty":
            empty.append(area)
        elif mode != "agree":
            seen[mode] = seen.get(mode, 0) + 1
            right[mode] = right.get(mode, 0) + (top.slug == area)
    pooled = (sum(right.values()) + 1) / (sum(seen.values()) + 2)
    accuracy = {
        m: (right.get(m, 0) + _SHRINK * pooled) / (seen.get(m, 0) + _SHRINK)
        for m in ("weak", "split")
    }
    classes = [str(a) for a in words.classes_] if words is not None else []
    decided = [a for a in areas if a is not None]
    freq = {a: (decided.count(a) + 1) / (len(decided) + len(classes)) for a in classes}
    prior = {a: (empty.count(a) + _SHRINK * freq[a]) / (len(empty) + _SHRINK) for a in classes}
    return accuracy, prior
