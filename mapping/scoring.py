"""Turn evidence into scores: exclusions, topic -> area implication, ranking, confidence, hours.

Scores combine like independent signals (noisy-OR): 1 - prod(1 - s/100), so one strong hit gives
100, two weak hits (40 each) give 64, a weak hit plus a description mention gives more.

`confident` means "safe to approve without reading". Under the rules alone a label is confident
only when the evidence agrees: a strong, whole-word title hit that is the title's main subject (not
qualified, not fuzzy) and, for an area, no strong evidence for another area. With a learned layer
(`Learned`, fitted on staff decisions), the model decides where the rules are weak, and a label the
rules agree on is confident only when the model's probability clears the threshold at which
out-of-fold staff decisions were `confident_precision` correct. Every label that is not confident
carries a one-line `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .hours import split_hours
from .learned import Learned, posterior, regime, rules_regime, same_reason, same_title
from .results import AreaSuggestion, CourseInput, Flag, Suggestion, TopicSuggestion
from .taxonomy import Category, Taxonomy

__all__ = ["Evidence", "Learned", "build_suggestion", "combine", "regime", "split_hours"]

Evidence = dict[str, Any]
_FAR = 10**9


def combine(items: list[Evidence]) -> int:
    """Noisy-OR of evidence scores (0-100); exclusions score 0 and add nothing."""
    keep = 1.0
    for item in items:
        score = float(item["score"])
        if score > 0.0:  # a score of 0 or below multiplies by 1: nothing to do
            keep *= 1.0 - (score if score < 100.0 else 100.0) / 100.0
    return round(100 * (1.0 - keep))


def _excluded(items: list[Evidence]) -> bool:
    return any(i["kind"] == "exclusion" for i in items)


def _blocked(items: list[Evidence]) -> list[Evidence]:
    """Drop keyword/fuzzy/example evidence when an exclusion fired (identifiers still count)."""
    if not _excluded(items):
        return items
    return [i for i in items if i["kind"] in ("exclusion", "identifier")]


def _strong_title(items: list[Evidence]) -> list[Evidence]:
    return [i for i in items if i.get("strong") and i.get("field") == "title"]


def _words(items: list[Evidence]) -> str:
    shown = []
    for i in items:
        w = i.get("written") or i.get("phrase") or i.get("identifier") or i.get("topic")
        if w and f"'{w}'" not in shown:
            shown.append(f"'{w}'")
    return ", ".join(shown[:2])


def _weak_reason(items: list[Evidence]) -> str:
    """Why a label without a strong title hit is not confident (one line)."""
    qualified = [i for i in items if i.get("qualified_by")]
    if qualified:
        q = qualified[0]
        return f"'{q.get('written', q.get('phrase'))}' qualifies '{q['qualified_by']}' here"
    title = [i for i in items if i.get("field") == "title" and i["kind"] != "exclusion"]
    if title and all(i["kind"] == "fuzzy" for i in title):
        return f"only a fuzzy match ({title[0]['text']})"
    kinds = {i["kind"] for i in items}
    if kinds <= {"example"} and kinds:
        return "only similar decided courses point here"
    if kinds <= {"default"}:
        return "nothing matched: the taxonomy's fallback area"
    if "default-area" in kinds and not title:
        topic = next(i for i in items if i["kind"] == "default-area")
        return f"only the topic {topic['text'].split(chr(39))[1]!r} suggests this area"
    if not title:
        return "no title evidence (description or similar courses only)"
    return f"only weak evidence ({_words(title)})"


@dataclass(frozen=True, slots=True)
class _Context:
    """What scoring reads from a taxonomy for every course, read once per taxonomy."""

    areas: tuple[Category, ...]
    topics: tuple[Category, ...]
    topic_threshold: int
    default_area_score: int
    fallback: Any
    fallback_score: int
    split_min_score: int
    hours_step: Decimal
    tie_break: dict[str, tuple[int, int]]  # area slug -> (tie-break rank, sort order)


def _context(tax: Taxonomy) -> _Context:
    """The taxonomy's `_Context`, built on first use and kept on the (frozen) taxonomy object,
    as functools.cached_property keeps its values."""
    ctx = tax.__dict__.get("_scoring_context")
    if ctx is None:
        prefer = list(tax.setting("tie_break_areas"))
        ctx = _Context(
            tax.areas,
            tax.topics,
            int(tax.setting("topic_threshold")),
            int(tax.setting("default_area_score")),
            tax.setting("fallback_area"),
            int(tax.setting("fallback_score")),
            int(tax.setting("split_min_score")),
            Decimal(str(tax.setting("hours_step"))),
            {
                a.slug: (prefer.index(a.slug) if a.slug in prefer else len(prefer), a.sort_order)
                for a in tax.areas
            },
        )
        tax.__dict__["_scoring_context"] = ctx
    return ctx


_NOTHING = "nothing matched: the taxonomy's fallback area"


class _Facts:
    """One area's evidence read in one pass for its reason: its strong title hits, and `rival`,
    the title evidence strong enough to contest another area (a strong hit, a course or bill
    number, a topic that usually counts in this area)."""

    __slots__ = ("strong_title", "rival")

    def __init__(self, items: list[Evidence]) -> None:
        self.strong_title: list[Evidence] = []
        self.rival: list[Evidence] = []
        for i in items:
            if i.get("field") != "title":
                continue
            strong = i.get("strong")
            if strong:
                self.strong_title.append(i)
            kind = i["kind"]
            if (
                strong
                or kind in ("identifier", "default-area")
                # a strong keyword behind a spelling fix ("ethically" ~ "ethical") still competes
                or (
                    kind == "fuzzy"
                    and i.get("role") == "strong"
                    and "span" in i
                    and not i.get("qualified_by")
                )
            ):
                self.rival.append(i)


def _area_reasons(tax: Taxonomy, ev: dict[str, list[Evidence]]) -> dict[str, str | None]:
    """Per area: None when the rules agree on it, else why not (one line)."""
    out: dict[str, str | None] = {}
    areas = _context(tax).areas
    facts = {a.slug: _Facts(ev.get(a.slug) or ()) for a in areas}
    for a in areas:
        items = ev.get(a.slug)
        if not items:
            out[a.slug] = _NOTHING  # what _weak_reason says of no evidence
            continue
        mine = facts[a.slug]
        if not mine.strong_title:
            out[a.slug] = _weak_reason(items)
            continue
        rivals = [(o, facts[o.slug].rival) for o in areas if o.slug != a.slug]
        rivals = [(o, hits) for o, hits in rivals if hits]
        if rivals:
            parts = [f"{a.name} ({_words(mine.strong_title)})"]
            parts += [f"{o.name} ({_words(hits)})" for o, hits in rivals[:2]]
            out[a.slug] = "two areas have strong evidence: " + ", ".join(parts)
        else:
            out[a.slug] = None
    return out


def _topic_reason(items: list[Evidence]) -> str | None:
    return None if _strong_title(items) else _weak_reason(items)


def build_suggestion(
    tax: Taxonomy,
    course: CourseInput,
    raw: dict[str, list[Evidence]],
    learned: Learned | None = None,
) -> Suggestion:
    """Rank areas, pick topics, raise flags and split hours for one course."""
    ctx = _context(tax)
    # Own lists: the implied-area and qualifier evidence added below must not land in `raw`
    # (the learned layer's fit scores the same evidence twice, plain and cross-validated).
    ev = {slug: list(_blocked(items)) for slug, items in raw.items()}
    threshold = ctx.topic_threshold
    topics: list[TopicSuggestion] = []
    flags: list[Flag] = []
    same = same_title(ev)
    for topic in ctx.topics:
        items = ev.get(topic.slug, [])
        score = combine(items)
        reason = _topic_reason(items) if score >= threshold else None
        if same is not None:  # staff decided this very title: its topics, no others
            mine = [i for i in items if i.get("same_title")]
            if not mine:
                continue
            score, reason = 100, same_reason(mine)
        prob = learned.topics.get(topic.slug) if learned else None
        if prob is not None and score >= threshold and same is None:
            if reason is not None and learned.decides_topics:  # weak rules: keep or drop it
                if prob < 0.5:
                    continue
                items = [*items, _learned_item(learned, topic.slug, prob)]
                reason = f"{reason}; staff decisions make it {prob:.0%} likely"
            elif reason is None and learned.topic_threshold is not None:
                if prob < learned.topic_threshold:
                    reason = _unsure(prob, learned.topic_threshold)
        if score < threshold:
            if topic.parent and any(i.get("qualified_by") for i in items):
                # say so on the area: "'Handgun' qualifies 'Defense' here"
                ev.setdefault(topic.parent, []).extend(
                    {**i, "score": 0} for i in items if i.get("qualified_by")
                )
            continue
        ev[topic.slug] = items
        _imply_area(ctx, ev, topic, score, items)
        if topic.live_only and course.delivery in NOT_LIVE_MODES:
            flags.append(_not_eligible(topic, items, course.delivery))
            continue
        topics.append(
            TopicSuggestion(
                topic.slug,
                topic.name,
                score,
                reason is None,
                tuple(_ordered(items)),
                reason,
                prob,
            )
        )
    areas = _rank_areas(tax, course, ev, learned)
    return Suggestion(course.title, areas, tuple(topics), tuple(flags))


def _unsure(prob: float, needed: float) -> str:
    if needed > 1:
        return (
            f"the rules agree ({prob:.0%}), but staff decisions overruled such agreement: "
            "not safe to approve unread yet"
        )
    return f"the rules agree, but staff decisions make it only {prob:.0%} sure (needs {needed:.0%})"


def _learned_item(learned: Learned, slug: str, prob: float) -> Evidence:
    return {
        "kind": "learned",
        "field": "title",
        "score": round(100 * prob),
        "probability": round(prob, 4),
        "strong": False,
        "text": learned.why.get(slug) or f"learned from staff decisions ({prob:.0%})",
    }


# Live-only topics (Missouri firearms) need hands-on delivery: online and live-virtual do not count.
NOT_LIVE_MODES = frozenset({"online", "live-virtual"})


def _imply_area(
    ctx: _Context,
    ev: dict[str, list[Evidence]],
    topic: Category,
    score: int,
    items: list[Evidence],
) -> None:
    area = topic.parent or topic.default_area
    if area is None or _excluded(ev.get(area, [])):
        return
    implied = score if topic.parent else min(score, ctx.default_area_score)
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
    tax: Taxonomy,
    course: CourseInput,
    ev: dict[str, list[Evidence]],
    learned: Learned | None = None,
) -> tuple[AreaSuggestion, ...]:
    ctx = _context(tax)
    areas = ctx.areas
    scores = {a.slug: combine(ev.get(a.slug, [])) for a in areas}
    fallback = ctx.fallback
    empty = not any(scores.values())
    reasons = _area_reasons(tax, ev)
    if empty and fallback:
        reasons[fallback] = "nothing matched: the taxonomy's fallback area"
    rule_top = _rule_order(tax, ev, scores)[0].slug
    if empty and fallback:
        rule_top = fallback  # what the rules will rank first once the fallback score is added
    probs = learned.areas if learned and learned.areas else {}
    # rules decide traps: an area whose keywords an exclusion blocked is never the model's pick
    allowed = {s: p for s, p in probs.items() if not _excluded(ev.get(s, []))}
    lead: str | None = None  # the area the learned layer puts first, if it decides
    decided = [a.slug for a in areas if any(i.get("same_title") for i in ev.get(a.slug, []))]
    if decided:  # staff decided this very title: that decision leads
        lead = decided[0]
        reasons[lead] = same_reason([i for i in ev[lead] if i.get("same_title")])
        for a in areas:
            if a.slug != lead and reasons[a.slug] is None:
                reasons[a.slug] = f"staff decided the same title as {tax.get(lead).name}"
        allowed = {}
    if allowed:
        mode = rules_regime(reasons[rule_top])
        best = max(allowed, key=allowed.get)  # type: ignore[arg-type]
        override = learned.override_threshold
        post = None if mode == "agree" else posterior(learned, mode, rule_top, scores, set(allowed))
        if post is not None:
            probs = post  # the rules are weak, split or silent: rules and words combined
            best = max(post, key=post.get)  # type: ignore[arg-type]
            if best != rule_top:  # the learned layer decides the ranking (never confident)
                lead = best
                for a in areas:
                    if a.slug in post:
                        p = post[a.slug]
                        ev.setdefault(a.slug, []).append(_learned_item(learned, a.slug, p))
                        scores[a.slug] = combine(ev[a.slug])
                        reasons[a.slug] = f"learned from staff decisions ({p:.0%} sure)"
        elif mode == "agree" and best != rule_top and override is not None:
            if allowed[best] >= override:
                # staff decided courses like this one against the rules, consistently
                lead = best
                p = allowed[best]
                ev.setdefault(best, []).append(_learned_item(learned, best, p))
                scores[best] = combine(ev[best])
                rule_name = tax.get(rule_top).name
                reasons[best] = (
                    f"staff decisions on courses like this chose it ({p:.0%}) over the rules' "
                    f"{rule_name}: check before approving"
                )
                reasons[rule_top] = (
                    f"staff decisions on courses like this chose {tax.get(best).name}"
                )
    if lead is None and probs:  # the rules decide: calibrated probabilities gate `confident`
        for a in areas:
            p = probs.get(a.slug)
            if p is not None and reasons[a.slug] is None and learned.area_threshold is not None:
                if p < learned.area_threshold:
                    reasons[a.slug] = _unsure(p, learned.area_threshold)
    if fallback and not any(scores.values()):
        score = ctx.fallback_score
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
    ranked = _rule_order(tax, ev, scores, lead)
    hours = split_hours(
        course.hours,
        [(a.slug, scores[a.slug]) for a in ranked],
        ctx.split_min_score,
        ctx.hours_step,
    )
    out = []
    for k, area in enumerate(ranked):
        runner = (ranked[1] if k == 0 else ranked[0]) if len(ranked) > 1 else None
        gap = scores[area.slug] - (scores[runner.slug] if runner else 0)
        reason = reasons[area.slug]
        if reason is None and gap <= 0 and area.slug != lead:
            reason = f"tied with {runner.name}" if runner else None
        confident = reason is None
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
                reason,
                probs.get(area.slug),
            )
        )
    return tuple(out)


def _rule_order(
    tax: Taxonomy, ev: dict[str, list[Evidence]], scores: dict[str, int], lead: str | None = None
) -> list[Category]:
    """Areas best first: the learned layer's `lead` if it decides, then score, strong evidence,
    the taxonomy's tie-break areas, the first mention in the title."""
    ctx = _context(tax)
    keys = []
    for k, a in enumerate(ctx.areas):
        strong, position = _strong_and_position(ev.get(a.slug))
        rank, order = ctx.tie_break[a.slug]
        keys.append((a.slug != lead, -scores[a.slug], -strong, rank, position, order, a.slug, k))
    keys.sort()
    return [ctx.areas[key[-1]] for key in keys]


def _strong_and_position(items: list[Evidence] | None) -> tuple[bool, int]:
    """Whether any item is strong, and the first title position (`_Facts.position`)."""
    strong = False
    position = _FAR
    for i in items or ():
        if i.get("strong"):
            strong = True
        if i.get("field") == "title" and "span" in i and i["kind"] != "exclusion":
            if i["span"][0] < position:
                position = i["span"][0]
    return strong, position
