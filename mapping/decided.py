"""Decisions staff made on the very same title: they decide its area and topics."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .normalise import Normalised, normalise
from .results import CourseInput, Example
from .taxonomy import Taxonomy

__all__ = ["SameTitle", "normalised_key", "title_key"]

Evidence = dict[str, Any]


def title_key(title: str) -> str:
    """A title as the same-title lookup sees it: normalised tokens and identifiers."""
    return normalised_key(normalise(title))


def normalised_key(norm: Normalised) -> str:
    """`title_key` of a title already normalised."""
    return " ".join([norm.key, *(i for i, _s, _e in norm.identifiers)])


def _main_area(example: Example) -> str | None:
    """The decided area with the most hours (first on a tie)."""
    if not example.areas:
        return None
    top = max(Decimal(str(v)) for v in example.areas.values())
    return next(s for s, v in example.areas.items() if Decimal(str(v)) == top)


class SameTitle:
    """The decided courses by normalised title."""

    def __init__(
        self, taxonomy: Taxonomy, examples: Sequence[Example], keys: Sequence[Sequence[str]]
    ) -> None:
        """`keys`: the decided courses' content keys (Engine.keys)."""
        self.taxonomy = taxonomy
        self.examples = examples
        self.index: dict[str, list[int]] = {}
        for i, e in enumerate(examples):
            self.index.setdefault(title_key(e.title), []).append(i)
        self.decided_keys = {tuple(k) for k in keys}

    def add(
        self,
        courses: Sequence[CourseInput],
        evidence_list: list[dict[str, list[Evidence]]],
        keys: Sequence[Sequence[str]],
        titles: Sequence[str] | None = None,
    ) -> None:
        """Staff decided a course with the same normalised title: that decision decides (its main
        area and its topics), confidently when every such decision agrees. Equal titles have equal
        content keys, so only courses whose keys a decided course shares are looked up, by
        `titles` (their `title_key`s, when the caller has them) or normalised again."""
        for n, (course, ev, k) in enumerate(zip(courses, evidence_list, keys, strict=True)):
            if tuple(k) not in self.decided_keys:
                continue
            key = titles[n] if titles is not None else title_key(course.title or "")
            found = self.index.get(key)
            if not found:
                continue
            decided = [self.examples[i] for i in found]
            verdicts = {(_main_area(e), tuple(sorted(e.topics))) for e in decided}
            ex = decided[-1]  # the latest decision
            area = _main_area(ex)
            agree = len(verdicts) == 1
            for slug in [area, *ex.topics]:
                if slug is None or slug not in self.taxonomy._by_slug:
                    continue
                ev.setdefault(slug, []).append(
                    {
                        "kind": "example",
                        "same_title": True,
                        "agree": agree,
                        "example": ex.title,
                        "course_id": ex.course_id,
                        "decision": ex.decision,
                        "similarity": 100,
                        "field": "title",
                        "score": 100,
                        "strong": False,
                        "text": f"staff {ex.decision} the same title '{ex.title}'"
                        + ("" if agree else f" ({len(verdicts)} different decisions)"),
                    }
                )
