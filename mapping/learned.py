"""What staff decisions tell the scoring about one course: the learned layer's view (learn.py),
the rules' regimes it may decide, and same-title decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Learned", "regime", "same_reason", "same_title"]


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
