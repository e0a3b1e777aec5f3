"""What the decision page shows: highlighted title, suggestion, similar approved courses, history,
carry-forward prefill; and reading the submitted decision."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.extensions import db
from catalog.models import AuditEntry, Course, CourseCategory
from catalog.services.courses import course_categories
from catalog.services.reviewing import decisions
from catalog.services.suggesting import categories_by_slug, similar_decided, suggested_labels

SIMILAR_LIMIT = 5
SIMILAR_CUTOFF = 35  # honest similarity (0-100): about a third of the weighted words shared


def highlight_title(title: str, suggestion: dict) -> Markup:
    """The title with every evidence span marked; each segment escaped on its own."""
    spans: list[tuple[int, int, str]] = []
    if suggestion and suggestion.get("title") == title:
        for entry in suggestion.get("areas", []) + suggestion.get("topics", []):
            for ev in entry.get("evidence", []):
                span = ev.get("span")
                if ev.get("field", "title") != "title" or not span or len(span) != 2:
                    continue
                start, end = span
                if (
                    isinstance(start, int)
                    and isinstance(end, int)
                    and 0 <= start < end <= len(title)
                ):
                    spans.append((start, end, str(ev.get("text") or entry.get("name") or "")))
    spans.sort()
    merged: list[list] = []
    for start, end, label in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if label and label not in merged[-1][2]:
                merged[-1][2].append(label)
        else:
            merged.append([start, end, [label] if label else []])
    out = Markup("")
    pos = 0
    for start, end, labels in merged:
        out += escape(title[pos:start])
        out += Markup('<mark title="{}">{}</mark>').format("; ".join(labels), title[start:end])
        pos = end
    out += escape(title[pos:])
    return out


def similar_approved(course: Course, limit: int = SIMILAR_LIMIT) -> list[dict]:
    """The approved courses whose titles are closest to this one (honest similarity: rare words
    weigh more, one shared short word is no match), with their decisions."""
    matches = similar_decided(
        db.session,
        course.jurisdiction,
        course.title,
        exclude_id=course.id,
        limit=limit,
        cutoff=SIMILAR_CUTOFF,
    )
    if not matches:
        return []
    ids = [key for _, key in matches]
    loaded = {
        c.id: c
        for c in db.session.scalars(
            select(Course)
            .where(Course.id.in_(ids))
            .options(
                selectinload(Course.categories).selectinload(CourseCategory.category),
                selectinload(Course.provider),
            )
        )
    }
    result = []
    for score, key in matches:
        other = loaded.get(key)
        if other is None:
            continue
        areas, topics = course_categories(other, "decided")
        result.append({"course": other, "score": round(score), "areas": areas, "topics": topics})
    return result


def next_pending_id(after_id: int) -> int | None:
    """The next course a reviewer should open: engine-unsure first, like the queue."""
    return db.session.scalar(
        select(Course.id)
        .where(Course.status == "pending", Course.id != after_id)
        .order_by(Course.suggestion_confident, Course.suggestion_score, Course.id)
        .limit(1)
    )


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
            value = decisions.parse_hours(raw)
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
        approve_problems = decisions.rule_problems(
            db.session, course, s_areas, s_topics, categories
        )
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.course_id == course.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(50)
    ).all()
    default_until = decisions.default_approved_until(db.session, course.jurisdiction_id)
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
        "similar": similar_approved(course),
        "history": history,
        "default_until": default_until,
        "submitted_action": submitted[0] if submitted else None,
    }
