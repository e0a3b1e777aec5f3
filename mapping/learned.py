"""What staff decisions tell the scoring about one course: the learned layer's view (learn.py),
the rules' regimes it may decide, and same-title decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Learned",
    "RulesCalibration",
    "posterior",
    "regime",
    "rules_regime",
    "same_reason",
    "same_title",
]


@dataclass(frozen=True, slots=True)
class Learned:
    """What the learned layer says about one course: probabilities and their evidence."""

    areas: dict[str, float]  # area slug -> probability (sums to 1 over the modelled areas)
    topics: dict[str, float]  # topic slug -> probability, for the topics it models
    why: dict[str, str]  # slug -> evidence text ("'tourniquet' appears in 12 approved ...")
    area_threshold: float | None  # calibrated: confident needs p >= this (None: not calibrated
    topic_threshold: float | None  # yet, the rules' agreement decides; above 1: never)
    decides_areas: bool = True  # may rank areas where the rules are weak or split
    decides_topics: bool = True  # may drop topics the rules suggest weakly
    # may pick the area where nothing in the title matched (the rules' fallback is no evidence)
    decides_empty: bool = True
    # calibrated: the model's area overrides an area the rules agree on when its probability is at
    # least this (out of fold such overrides were right often enough); None: never
    override_threshold: float | None = None
    # where the rules are not sure of the area (see `posterior`): the title-words model's
    # likelihood ratio per area (its probability over the decided areas' frequency), the rules'
    # accuracy per regime as counted on the decided courses, where nothing matched the area
    # distribution of such decided courses, and the weight of the words against the rules
    words: tuple[float, ...] = ()  # the words' likelihood ratio per area of `calibration.areas`
    calibration: RulesCalibration | None = None  # one per fit, shared by every course


@dataclass(frozen=True, slots=True)
class RulesCalibration:
    """What the decided courses say about the rules where they are not sure (see `posterior`)."""

    areas: tuple[str, ...]  # the areas the title-words model knows, in its order
    accuracy: dict[str, float]  # regime -> how often the rules' pick was right (weak, split)
    empty: dict[str, float]  # area -> share of the decided courses where nothing matched
    weight: float  # exponent of the words' likelihood ratio (learn_words_trust)


def regime(reason: str | None) -> str:
    """How sure the rules are of their top area: 'agree' (confident), 'empty' (nothing in the title
    matched: the fallback area) or 'weak' (weak, fuzzy-only or split evidence)."""
    if reason is None:
        return "agree"
    if reason.startswith("nothing matched"):
        return "empty"
    return "weak"


def same_title(ev: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """The same-title decision evidence (see Engine._same_title_evidence), None without one."""
    found = [i for items in ev.values() for i in items if i.get("same_title")]
    return found or None


def same_reason(items: list[dict[str, Any]]) -> str | None:
    """None (confident) when every decision of the same title agrees, else why not."""
    if all(i.get("agree") for i in items):
        return None
    return f"staff decided the same title differently before ({items[0]['text']})"


def rules_regime(reason: str | None) -> str:
    """`regime`, with split evidence ("two areas have strong evidence") apart from weak evidence:
    the rules' tie-break is right on split titles about as often as a weak hit, but the rival
    area is then the likely alternative."""
    mode = regime(reason)
    if mode == "weak" and reason is not None and reason.startswith("two areas"):
        return "split"
    return mode


_RIVAL_FLOOR = 5  # score added to every other area: an area without evidence keeps some chance


def posterior(
    learned: Learned, mode: str, rule_top: str, scores: dict[str, int], allowed: set[str]
) -> dict[str, float] | None:
    """Where the rules are weak, split or silent: P(area | rules, title words), None when the
    learned layer has no view of this regime.

    Bayes with two experts: P(a | rules, words) ~ P(a | rules) * (P(a | words) / P(a))^weight.
    P(a | rules) is the rules' pick with the accuracy the rules had on decided courses of this
    regime (counted, no model involved), the rest shared by rule score; where nothing matched,
    the area distribution of such decided courses. Areas an exclusion blocked (`allowed` lacks
    them) get nothing: rules decide traps."""
    cal = learned.calibration
    if cal is None or not learned.words:
        return None
    if mode == "empty":
        prior = dict(cal.empty)
    else:
        acc = cal.accuracy.get(mode)
        if acc is None:
            return None
        others = {a: scores.get(a, 0) + _RIVAL_FLOOR for a in cal.areas if a != rule_top}
        total = sum(others.values()) or 1.0
        prior = {a: (1.0 - acc) * v / total for a, v in others.items()}
        prior[rule_top] = acc
    ratio = dict(zip(cal.areas, learned.words, strict=True))
    post = {
        a: q * ratio.get(a, 1.0) ** cal.weight for a, q in prior.items() if a in allowed and q > 0
    }
    total = sum(post.values())
    if total <= 0:
        return None
    return {a: p / total for a, p in post.items()}
