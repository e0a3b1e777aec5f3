"""The rules every staff decision is checked against, read from the jurisdiction's data: area
hours in quarter hours adding up to the course hours, a topic needs its parent area, delivery
modes a requirement limits a topic to (e.g. Missouri firearms only live and only with Skill
Development hours); and until when an approval holds (the end of the requirement period)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from catalog.models import (
    LIVE_DELIVERY_MODES,
    Category,
    Course,
    Requirement,
)
from catalog.models.types import format_hours
from catalog.services.courses import end_of_year
from catalog.services.requirements import set_covering

QUARTER = Decimal("0.25")


# --- rules -----------------------------------------------------------------------------------


def parse_hours(text) -> Decimal | None:
    """A decimal from form/JSON input, or None when it is not a finite number."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def delivery_modes_for(session, category: Category, today: dt.date) -> tuple[str, ...] | None:
    """Delivery modes a topic is limited to (requirement data first, else live for live_only)."""
    req_set = set_covering(session, category.jurisdiction_id, today)
    if req_set is not None:
        modes = session.scalar(
            select(Requirement.delivery_modes).where(
                Requirement.requirement_set_id == req_set.id,
                Requirement.category_id == category.id,
            )
        )
        if modes:
            return tuple(modes)
    return LIVE_DELIVERY_MODES if category.live_only else None


def rule_problems(
    session,
    course: Course,
    areas: dict[str, Decimal],
    topics: list[str],
    categories: dict[str, Category],
    today: dt.date | None = None,
) -> list[dict]:
    """Every rule of the course's jurisdiction the decision breaks, as [{"field", "message"}]."""
    today = today or dt.date.today()
    problems: list[dict] = []
    if not areas:
        problems.append({"field": "areas", "message": "Choose at least one area for the hours."})
    total = Decimal(0)
    for slug, hours in areas.items():
        category = categories.get(slug)
        if category is None or category.kind != "area":
            problems.append({"field": "areas", "message": f"'{slug}' is not an area."})
            continue
        if hours is None:
            problems.append(
                {"field": f"hours-{slug}", "message": f"{category.name}: hours must be a number."}
            )
            continue
        if hours <= 0 or hours % QUARTER != 0:
            problems.append(
                {
                    "field": f"hours-{slug}",
                    "message": f"{category.name}: hours must be a positive multiple of 0.25 "
                    f"(got {format_hours(hours)}).",
                }
            )
        total += hours
    if areas and not any(p["field"].startswith(("hours-", "areas")) for p in problems):
        if total != course.hours:
            problems.append(
                {
                    "field": "areas",
                    "message": f"The area hours add up to {format_hours(total)}, but the course is "
                    f"{format_hours(course.hours)} hours long: they must add up exactly.",
                }
            )
    for slug in topics:
        category = categories.get(slug)
        if category is None or category.kind != "topic":
            problems.append({"field": "topics", "message": f"'{slug}' is not a topic."})
            continue
        parent = category.parent
        if parent is not None and parent.kind == "area" and not (areas.get(parent.slug) or 0) > 0:
            problems.append(
                {
                    "field": "topics",
                    "message": f"{category.name} counts only as {parent.name}: give "
                    f"{parent.name} some of the hours, or remove {category.name}.",
                }
            )
        modes = delivery_modes_for(session, category, today)
        if modes and course.delivery not in modes:
            problems.append(
                {
                    "field": "topics",
                    "message": f"{category.name} only counts for live training "
                    f"({' or '.join(modes)}); this course is {course.delivery}, so it cannot "
                    f"count as {category.name}"
                    + (f" {parent.name}." if parent is not None else "."),
                }
            )
    return problems


def default_approved_until(session, jurisdiction_id: int, today: dt.date | None = None) -> dt.date:
    """End of the requirement period covering today (a year, a training unit ...), else Dec 31."""
    today = today or dt.date.today()
    req_set = set_covering(session, jurisdiction_id, today)
    return req_set.ends_on if req_set is not None else end_of_year(today)
