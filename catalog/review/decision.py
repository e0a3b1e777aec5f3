"""What the decision page shows: highlighted title, suggestion, similar approved courses, history,
carry-forward prefill; and reading the submitted decision."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from markupsafe import Markup, escape

from catalog.extensions import db
from catalog.models import Course
from catalog.services import audit
from catalog.services.courses import course_categories
from catalog.services.reviewing import decisions, rules, similar
from catalog.services.suggesting import categories_by_slug, evidence_spans, suggested_labels


def highlight_title(title: str, suggestion: dict) -> Markup:
    """The title with every evidence span marked; each segment escaped on its own."""
    out = Markup("")
    pos = 0
    for start, end, labels in evidence_spans(title, suggestion):
        out += escape(title[pos:start])
        out += Markup('<mark title="{}">{}</mark>').format("; ".join(labels), title[start:end])
        pos = end
    out += escape(title[pos:])
    return out


def parse_decision(form, course: Course, data=None, *, validate: bool = True):
    """(action, areas, topics, problems) from the posted form (or `data`, a MultiDict of the same
    fields); problems are form-level errors (none when `validate` is off)."""
    data = request.form if data is None else data
    problems: list[dict] = []
    action = (data.get("action") or "").strip()
    if validate and not form.validate_on_submit():
        for name, errors in form.errors.items():
            for error in errors:
                label = getattr(getattr(form, name, None), "label", None)
                problems.append(
                    {"field": name, "message": f"{label.text if label else name}: {error}"}
                )
    if validate and action not in decisions.ACTIONS:
        problems.append({"field": "action", "message": "Choose approve, override or reject."})
    areas: dict[str, Decimal | None] = {}
    topics: list[str] = []
    if action == "override":
        categories = categories_by_slug(db.session, course.jurisdiction)
        for slug, category in categories.items():
            if category.kind != "area":
                continue
            raw = (data.get(f"hours-{slug}") or "").strip()
            if not raw:
                continue
            value = rules.parse_hours(raw)
            if value is not None and value == 0:
                continue
            areas[slug] = value
        topics = [t for t in data.getlist("topic") if t]
    return action, areas, topics, problems


def decision_context(course: Course, form, submitted=None) -> dict:
    """Template variables for the decision page."""
    categories = categories_by_slug(db.session, course.jurisdiction)
    area_cats = sorted(
        (c for c in categories.values() if c.kind == "area"), key=lambda c: c.sort_order
    )
    topic_cats = sorted(
        (c for c in categories.values() if c.kind == "topic"), key=lambda c: c.sort_order
    )
    suggestion = course.suggestion or {}
    s_areas, s_topics = suggested_labels(suggestion)
    proposed_areas, proposed_topics = course_categories(course, "proposed")
    decided_areas, decided_topics = course_categories(course, "decided")
    carry = decisions.carry_forward(db.session, course)
    # Prefill the override form: what was just submitted, else an earlier approval, else the
    # current decision, else the suggestion, else the provider's proposal.
    if submitted and submitted[0] == "override":
        prefill_areas, prefill_topics = submitted[1], submitted[2]
    elif carry is not None:
        prefill_areas, prefill_topics = carry.areas, carry.topics
    elif decided_areas:
        prefill_areas, prefill_topics = decided_areas, decided_topics
    elif s_areas and all(v for v in s_areas.values()):
        prefill_areas, prefill_topics = s_areas, s_topics
    else:
        prefill_areas, prefill_topics = proposed_areas, proposed_topics
    approve_problems = []
    if s_areas:
        approve_problems = rules.rule_problems(db.session, course, s_areas, s_topics, categories)
    history = audit.course_history(db.session, course.id)
    default_until = rules.default_approved_until(db.session, course.jurisdiction_id)
    if form.approved_until.data is None:
        form.approved_until.data = default_until
    if not form.control_number.data and course.control_number:
        form.control_number.data = course.control_number
    return {
        "course": course,
        "form": form,
        "title_html": highlight_title(course.title, suggestion),
        "suggestion": suggestion,
        "suggested_areas": s_areas,
        "suggested_topics": s_topics,
        "approve_problems": approve_problems,
        "proposed_areas": proposed_areas,
        "proposed_topics": proposed_topics,
        "decided_areas": decided_areas,
        "decided_topics": decided_topics,
        "area_cats": area_cats,
        "topic_cats": topic_cats,
        "categories": categories,
        "prefill_areas": prefill_areas,
        "prefill_topics": prefill_topics,
        "carry": carry,
        "similar": similar.similar_approved(db.session, course),
        "history": history,
        "default_until": default_until,
        "submitted_action": submitted[0] if submitted else None,
    }
