"""Inputs and results of the engine, as frozen dataclasses with JSON-able `to_dict()`.

Evidence items are plain dicts (JSON-able as they are), e.g.
{"kind": "phrase", "phrase": "de-escalation", "field": "title", "span": [13, 26], "score": 100,
 "text": "title contains 'De-escalation'"}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "CourseInput",
    "Example",
    "AreaSuggestion",
    "TopicSuggestion",
    "Flag",
    "Suggestion",
    "DELIVERY_MODES",
]

DELIVERY_MODES = ("online", "in-person", "live-virtual", "blended")
Evidence = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CourseInput:
    """What the engine reads about a course; only the title is required."""

    title: str
    description: str | None = None
    objectives: str | None = None
    hours: Decimal | None = None
    delivery: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A staff decision (approved or overridden course) used as evidence for similar titles."""

    title: str
    areas: dict[str, Decimal] = field(default_factory=dict)  # area slug -> hours (or weight)
    topics: list[str] | tuple[str, ...] = ()
    course_id: int | None = None
    decision: str = "approved"


@dataclass(frozen=True, slots=True)
class AreaSuggestion:
    """One area, scored 0-100, with its share of the hours and the evidence behind it."""

    slug: str
    name: str
    score: int
    hours: Decimal | None
    confident: bool
    evidence: tuple[Evidence, ...]
    runner_up: str | None  # best other area
    gap: int  # score minus the runner-up's score (negative when the runner-up is ahead)
    reason: str | None = None  # why it is not confident (one line); None when confident
    probability: float | None = None  # the learned layer's probability, when there is one

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; hours as a decimal string ("1.25") or None."""
        return {
            "slug": self.slug,
            "name": self.name,
            "score": self.score,
            "hours": None if self.hours is None else str(self.hours),
            "confident": self.confident,
            "evidence": [dict(e) for e in self.evidence],
            "runner_up": self.runner_up,
            "gap": self.gap,
            "reason": self.reason,
            "probability": self.probability,
        }


@dataclass(frozen=True, slots=True)
class TopicSuggestion:
    """A suggested topic designation (counted inside the course hours)."""

    slug: str
    name: str
    score: int
    confident: bool
    evidence: tuple[Evidence, ...]
    reason: str | None = None  # why it is not confident (one line); None when confident
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {
            "slug": self.slug,
            "name": self.name,
            "score": self.score,
            "confident": self.confident,
            "evidence": [dict(e) for e in self.evidence],
            "reason": self.reason,
            "probability": self.probability,
        }


@dataclass(frozen=True, slots=True)
class Flag:
    """A rule problem the reviewer must see, e.g. firearms on an online course."""

    code: str
    message: str
    category: str | None = None
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {
            "code": self.code,
            "message": self.message,
            "category": self.category,
            "evidence": [dict(e) for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Ranked areas (all of them, best first), suggested topics and flags for one course."""

    title: str
    areas: tuple[AreaSuggestion, ...]
    topics: tuple[TopicSuggestion, ...]
    flags: tuple[Flag, ...] = ()

    @property
    def top_area(self) -> str | None:
        """Slug of the best area."""
        return self.areas[0].slug if self.areas else None

    @property
    def topic_slugs(self) -> list[str]:
        """Slugs of the suggested topics."""
        return [t.slug for t in self.topics]

    @property
    def confident(self) -> bool:
        """Safe to approve without reading: the top area and every topic are confident."""
        return (
            bool(self.areas)
            and self.areas[0].confident
            and all(t.confident for t in self.topics)
            and not self.flags
        )

    @property
    def reason(self) -> str | None:
        """One line saying why the suggestion is not safe to approve unread (None when it is)."""
        if self.flags:
            return self.flags[0].message
        labels = [*self.areas[:1], *self.topics]
        for label in labels:
            if not label.confident:
                return f"{label.name}: {label.reason or 'not sure'}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict in the shape of the CLI's --json output."""
        return {
            "title": self.title,
            "areas": [a.to_dict() for a in self.areas],
            "topics": [t.to_dict() for t in self.topics],
            "flags": [f.to_dict() for f in self.flags],
            "confident": self.confident,
            "reason": self.reason,
        }
