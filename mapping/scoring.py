"""Turn evidence into scores: exclusions, topic -> area implication, ranking, confidence, hours.

Scores combine like independent signals (noisy-OR): 1 - prod(1 - s/100), so one strong hit gives
100, two weak hits (40 each) give 64, a weak hit plus a description mention gives more.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .results import AreaSuggestion, CourseInput, Flag, Suggestion, TopicSuggestion
from .taxonomy import Category, Taxonomy

__all__ = ["Evidence", "build_suggestion", "combine", "split_hours"]

Evidence = dict[str, Any]
_FAR = 10**9


def combine(items: list[Evidence]) -> int:
    """Noisy-OR of evidence scores (0-100); exclusions score 0 and add nothing."""
    keep = 1.0
    for item in items:
        keep *= 1.0 - min(max(float(item["score"]), 0.0), 100.0) / 100.0
    return round(100 * (1.0 - keep))


def _position(items: list[Evidence]) -> int:
    spans = [
        i["span"][0]
        for i in items
        if i.get("field") == "title" and "span" in i and i["kind"] != "exclusion"
    ]
    return min(spans, default=_FAR)


def _excluded(items: list[Evidence]) -> bool:
    return any(i["kind"] == "exclusion" for i in items)


def _blocked(items: list[Evidence]) -> list[Evidence]:
    """Drop keyword/fuzzy/example evidence when an exclusion fired (identifiers still count)."""
    if not _excluded(items):
        return items
    return [i for i in items if i["kind"] in ("exclusion", "identifier")]


def build_suggestion(
    tax: Taxonomy, course: CourseInput, raw: dict[str, list[Evidence]]
) -> Suggestion:
    """Rank areas, pick topics, raise flags and split hours for one course."""
    ev = {slug: _blocked(items) for slug, items in raw.items()}
    threshold = int(tax.setting("topic_threshold"))
    topics: list[TopicSuggestion] = []
    flags: list[Flag] = []
    for topic in tax.topics:
        items = ev.get(topic.slug, [])
        score = combine(items)
        if score < threshold:
            continue
        _imply_area(tax, ev, topic, score, items)
        confident = any(i.get("strong") for i in items)
        if topic.live_only and course.delivery in NOT_LIVE_MODES:
            flags.append(_not_eligible(topic, items, course.delivery))
            continue
        topics.append(
            TopicSuggestion(topic.slug, topic.name, score, confident, tuple(_ordered(items)))
        )
    return Suggestion(course.title, _rank_areas(tax, course, ev), tuple(topics), tuple(flags))


# Live-only topics (Missouri firearms) need hands-on delivery: online and live-virtual do not count.
NOT_LIVE_MODES = frozenset({"online", "live-virtual"})


def _imply_area(
    tax: Taxonomy, ev: dict[str, list[Evidence]], topic: Category, score: int, items: list[Evidence]
) -> None:
    area = topic.parent or topic.default_area
    if area is None or _excluded(ev.get(area, [])):
        return
    implied = score if topic.parent else min(score, int(tax.setting("default_area_score")))
    first = next((i for i in _ordered(items) if "span" in i and i.get("field") == "title"), None)
    item: Evidence = {
        "kind": "default-area",
        "topic": topic.slug,
        "field": "topic",
        "score": implied,
        "strong": bool(topic.parent) and any(i.get("strong") for i in items),
        "text": (
            f"topic '{topic.name}' belongs to this area"
            if topic.parent
            else f"topic '{topic.name}' usually counts in this area"
        ),
    }
    if first is not None:
        item["field"] = "title"
        item["span"] = list(first["span"])
    ev.setdefault(area, []).append(item)


def _not_eligible(topic: Category, items: list[Evidence], delivery: str) -> Flag:
    note: Evidence = {
        "kind": "not-eligible",
        "field": "delivery",
        "score": 0,
        "strong": False,
        "text": f"{topic.name} must be delivered live, in person; this course is {delivery}",
    }
    return Flag(
        f"{topic.slug}-online-not-eligible",
        f"{topic.name} is not eligible for online delivery (it must be live): "
        "not suggested, check the delivery mode or the content.",
        topic.slug,
        tuple(_ordered(items)) + (note,),
    )


def _ordered(items: list[Evidence]) -> list[Evidence]:
    return sorted(items, key=lambda i: -float(i["score"]))


def _rank_areas(
    tax: Taxonomy, course: CourseInput, ev: dict[str, list[Evidence]]
) -> tuple[AreaSuggestion, ...]:
    areas = tax.areas
    scores = {a.slug: combine(ev.get(a.slug, [])) for a in areas}
    fallback = tax.setting("fallback_area")
    if fallback and not any(scores.values()):
        score = int(tax.setting("fallback_score"))
        ev.setdefault(fallback, []).append(
            {
                "kind": "default",
                "field": None,
                "score": score,
                "strong": False,
                "text": "nothing matched: the taxonomy's fallback area",
            }
        )
        scores[fallback] = score
    strong = {a.slug for a in areas if any(i.get("strong") for i in ev.get(a.slug, []))}
    prefer = list(tax.setting("tie_break_areas"))
    ranked = sorted(
        areas,
        key=lambda a: (
            -scores[a.slug],
            -(a.slug in strong),
            prefer.index(a.slug) if a.slug in prefer else len(prefer),
            _position(ev.get(a.slug, [])),
            a.sort_order,
            a.slug,
        ),
    )
    hours = split_hours(
        course.hours,
        [(a.slug, scores[a.slug]) for a in ranked],
        int(tax.setting("split_min_score")),
        Decimal(str(tax.setting("hours_step"))),
    )
    conf_score = int(tax.setting("confident_score"))
    conf_gap = int(tax.setting("confident_gap"))
    out = []
    for area in ranked:
        others = [a for a in ranked if a.slug != area.slug]
        runner = others[0] if others else None
        gap = scores[area.slug] - (scores[runner.slug] if runner else 0)
        confident = gap >= conf_gap and (
            (area.slug in strong and len(strong) == 1) or scores[area.slug] >= conf_score
        )
        out.append(
            AreaSuggestion(
                area.slug,
                area.name,
                scores[area.slug],
                hours.get(area.slug),
                confident,
                tuple(_ordered(ev.get(area.slug, []))),
                runner.slug if runner else None,
                gap,
            )
        )
    return tuple(out)


def split_hours(
    hours: Decimal | None,
    ranked: list[tuple[str, int]],
    min_score: int,
    step: Decimal = Decimal("0.25"),
) -> dict[str, Decimal | None]:
    """Split hours over the areas scoring >= min_score (by score, in `step` units); sums exactly.

    The best area always gets a share; areas below min_score get 0. None hours give None.
    """
    if hours is None:
        return {slug: None for slug, _ in ranked}
    hours = Decimal(hours)
    out: dict[str, Decimal | None] = {slug: Decimal(0) for slug, _ in ranked}
    if not ranked:
        return out
    sharing = [(s, sc) for s, sc in ranked if sc >= min_score] or [ranked[0]]
    if sharing[0][0] != ranked[0][0]:
        sharing.insert(0, ranked[0])
    units = int((hours / step).to_integral_value(rounding=ROUND_FLOOR)) if hours > 0 else 0
    sharing = sharing[: max(units, 1)]
    total = sum(max(sc, 1) for _, sc in sharing)
    exact = [units * max(sc, 1) / total for _, sc in sharing]
    given = [max(int(x), 1) if units >= len(sharing) else int(x) for x in exact]
    while sum(given) > units:
        i = max(range(len(given)), key=lambda k: (given[k], -k))
        given[i] -= 1
    order = sorted(range(len(exact)), key=lambda k: (-(exact[k] - int(exact[k])), k))
    k = 0
    while sum(given) < units:
        given[order[k % len(order)]] += 1
        k += 1
    for (slug, _), n in zip(sharing, given, strict=True):
        out[slug] = step * n
    first = sharing[0][0]
    out[first] = hours - sum((v for s, v in out.items() if s != first and v), Decimal(0))
    return out
