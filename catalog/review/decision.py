"""What the decision page shows: highlighted title, suggestion, similar approved courses, history,
carry-forward prefill; and reading the submitted decision."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from markupsafe import Markup, escape

from catalog.extensions import db
from catalog.models import Course
from catalog.services.reviewing import course_page, decisions, rules
from catalog.services.suggesting import categories_by_slug, evidence_spans


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
    """Template variables for the decision page: the service's page data, the highlighted
    title, and the form's approval date and control number filled in when empty."""
    page = course_page.decision_page(db.session, course, submitted)
    if form.approved_until.data is None:
        form.approved_until.data = page["default_until"]
    if not form.control_number.data and course.control_number:
        form.control_number.data = course.control_number
    return {
        "course": course,
        "form": form,
        "title_html": highlight_title(course.title, page["suggestion"]),
        **page,
        "submitted_action": submitted[0] if submitted else None,
    }
