"""API: list courses (staff: all; provider: its own) and record a staff decision."""

from __future__ import annotations

import datetime as dt

from flask import abort, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from catalog.api import bp
from catalog.errors import error_response
from catalog.extensions import db
from catalog.models import COURSE_STATUSES, Course, CourseCategory
from catalog.models.types import format_hours
from catalog.permissions import api_user, roles_required
from catalog.services.courses import course_categories
from catalog.services.errors import Conflict, Invalid
from catalog.services.reviewing import decisions, rules

PER_PAGE = 50
MAX_PER_PAGE = 200


def _hours(value) -> str | None:
    return None if value is None else format_hours(value)


def course_json(course: Course) -> dict:
    """One course as the API shows it: suggestions with evidence and the decided categories."""
    suggestion = course.suggestion or {}
    suggested_slugs = {row.category.slug for row in course.categories if row.source == "suggested"}
    suggestions = [
        {
            "slug": entry["slug"],
            "kind": kind,
            "score": entry.get("score"),
            "confident": bool(entry.get("confident")),
            "hours": entry.get("hours"),
            "suggested": entry["slug"] in suggested_slugs,
            "evidence": entry.get("evidence", []),
        }
        for kind, key in (("area", "areas"), ("topic", "topics"))
        for entry in suggestion.get(key, [])
    ]
    areas, topics = course_categories(course, "decided")
    return {
        "id": course.id,
        "title": course.title,
        "provider": course.provider.slug,
        "provider_code": course.provider_code,
        "hours": _hours(course.hours),
        "delivery": course.delivery,
        "status": course.status,
        "version": course.version,
        "suggestion_score": course.suggestion_score,
        "suggestion_confident": course.suggestion_confident,
        "suggestions": suggestions,
        "areas": [{"slug": slug, "hours": _hours(h)} for slug, h in areas.items()],
        "topics": topics,
        "approved_until": course.approved_until.isoformat() if course.approved_until else None,
        "control_number": course.control_number,
        "decision_note": course.decision_note,
    }


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"'{name}' must be a whole number, got {raw[:20]!r}.")
    return min(max(value, low), high)


@bp.get("/courses")
@roles_required("provider", "staff")
def list_courses():
    """`?status=pending|approved|rejected|withdrawn`, `page`, `per_page`; provider tokens see
    their own provider's courses only."""
    user = api_user()
    status = request.args.get("status")
    if status and status not in COURSE_STATUSES:
        abort(400, f"Unknown status {status[:20]!r}: use one of {', '.join(COURSE_STATUSES)}.")
    page = _int_arg("page", 1, 1, 10**6)
    per_page = _int_arg("per_page", PER_PAGE, 1, MAX_PER_PAGE)
    query = (
        select(Course)
        .options(
            joinedload(Course.provider),
            selectinload(Course.categories).selectinload(CourseCategory.category),
        )
        .order_by(Course.id)
    )
    if status:
        query = query.where(Course.status == status)
    if not user.is_staff:
        query = query.where(Course.provider_id == user.provider_id)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    next_url = None
    if pagination.has_next:
        # only the arguments this list understands: `_external=1` or `endpoint=x` typed into
        # the query must not become keyword arguments of url_for
        args = {k: request.args[k] for k in ("status", "per_page") if request.args.get(k)}
        next_url = url_for("api.list_courses", page=page + 1, _external=True, **args)
    return jsonify(
        {
            "total": pagination.total,
            "page": page,
            "next": next_url,
            "courses": [course_json(c) for c in pagination.items],
        }
    )


def _parse_areas(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise Invalid(
            '\'areas\' must be a list of {"slug", "hours"} objects.',
            [{"field": "areas", "message": "Expected a list."}],
        )
    areas: dict = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("slug"), str):
            raise Invalid(
                f"areas[{i}] must be an object with 'slug' and 'hours'.",
                [{"field": f"areas[{i}]", "message": 'Expected {"slug", "hours"}.'}],
            )
        if item["slug"] in areas:
            raise Invalid(
                f"Area '{item['slug']}' is listed twice.",
                [{"field": f"areas[{i}]", "message": "Duplicate area."}],
            )
        areas[item["slug"]] = rules.parse_hours(item.get("hours"))
    return areas


def _decision_args(body: dict) -> dict:
    """The decision a JSON body asks for, as decisions.decide's keyword arguments (action,
    areas, topics, note, approved_until, control_number); Invalid naming the field otherwise."""
    topics = body.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise Invalid(
            "'topics' must be a list of topic slugs.",
            [{"field": "topics", "message": "Expected a list of strings."}],
        )
    until = body.get("approved_until")
    if until is not None:
        try:
            until = dt.date.fromisoformat(str(until))
        except ValueError:
            raise Invalid(
                "'approved_until' must be a date like 2026-12-31.",
                [{"field": "approved_until", "message": "Expected YYYY-MM-DD."}],
            ) from None
    action = body.get("action")
    areas = _parse_areas(body.get("areas"))
    if action == "override" and not areas:
        raise Invalid(
            'An override needs \'areas\': [{"slug", "hours"}, ...].',
            [{"field": "areas", "message": "Choose at least one area for the hours."}],
        )
    note = body.get("note") or ""
    control = body.get("control_number") or ""
    if not isinstance(note, str) or not isinstance(control, str):
        raise Invalid(
            "'note' and 'control_number' must be strings.",
            [{"field": "note", "message": "Expected a string."}],
        )
    return {
        "action": action if isinstance(action, str) else "",
        "areas": areas,
        "topics": topics,
        "note": note,
        "approved_until": until,
        "control_number": control,
    }


@bp.post("/courses/<int:course_id>/decision")
@roles_required("staff")
def decide(course_id: int):
    """Approve (as suggested), override (areas + topics) or reject (with a note) one course."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # [[[[... nested deeper than the parser's stack: not a decision
        body = None
    if not isinstance(body, dict):
        return error_response(
            400, "Send a JSON object with 'action' and 'version'.", [{"field": "", "message": ""}]
        )
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.categories).selectinload(CourseCategory.category))
    )
    if course is None:
        abort(404, f"There is no course {course_id}.")
    try:
        args = _decision_args(body)
        action = args.pop("action")
        decisions.decide(db.session, course, action, body.get("version"), api_user(), **args)
        db.session.commit()
    except Conflict as exc:
        db.session.rollback()
        return error_response(409, exc.message, [{"field": "version", "message": exc.message}])
    except Invalid as exc:
        db.session.rollback()
        return error_response(422, exc.message, exc.details)
    db.session.refresh(course)
    return jsonify(course_json(course))
