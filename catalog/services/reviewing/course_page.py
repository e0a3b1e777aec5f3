"""What the review page of one course shows, read from the database: the jurisdiction's areas and
topics, the suggestion, the provider's proposal, the current decision, an earlier approval to
carry forward, the override form's prefill, what approving as suggested would break, similar
approved courses, the history and the default approval date."""

from __future__ import annotations

from catalog.models import Course
from catalog.services import audit
from catalog.services.courses import course_categories
from catalog.services.reviewing import decisions, rules, similar
from catalog.services.suggesting import categories_by_slug, suggested_labels


def _prefill(submitted, carry, decided, suggested, proposed) -> tuple[dict, list]:
    """The override form's areas and topics: what was just submitted, else an earlier approval,
    else the current decision, else the suggestion (when it gives every area hours), else the
    provider's proposal."""
    if submitted and submitted[0] == "override":
        return submitted[1], submitted[2]
    if carry is not None:
        return carry.areas, carry.topics
    if decided[0]:
        return decided
    if suggested[0] and all(v for v in suggested[0].values()):
        return suggested
    return proposed


def decision_page(session, course: Course, submitted=None) -> dict:
    """The review page's data for `course`; `submitted` is the (action, areas, topics) just
    posted, when the page is shown again after a refusal."""
    categories = categories_by_slug(session, course.jurisdiction)
    by_order = sorted(categories.values(), key=lambda c: c.sort_order)
    suggestion = course.suggestion or {}
    s_areas, s_topics = suggested_labels(suggestion)
    proposed = course_categories(course, "proposed")
    decided = course_categories(course, "decided")
    carry = decisions.carry_forward(session, course)
    prefill = _prefill(submitted, carry, decided, (s_areas, s_topics), proposed)
    approve_problems = []
    if s_areas:
        approve_problems = rules.rule_problems(session, course, s_areas, s_topics, categories)
    return {
        "suggestion": suggestion,
        "suggested_areas": s_areas,
        "suggested_topics": s_topics,
        "approve_problems": approve_problems,
        "proposed_areas": proposed[0],
        "proposed_topics": proposed[1],
        "decided_areas": decided[0],
        "decided_topics": decided[1],
        "area_cats": [c for c in by_order if c.kind == "area"],
        "topic_cats": [c for c in by_order if c.kind == "topic"],
        "categories": categories,
        "prefill_areas": prefill[0],
        "prefill_topics": prefill[1],
        "carry": carry,
        "similar": similar.similar_approved(session, course),
        "history": audit.course_history(session, course.id),
        "default_until": rules.default_approved_until(session, course.jurisdiction_id),
    }
