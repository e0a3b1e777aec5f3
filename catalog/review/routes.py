"""POST staff review: queue, decision page, bulk approve, audit log and dashboard (staff only)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from catalog.extensions import db
from catalog.models import Course, CourseCategory
from catalog.permissions import roles_required
from catalog.review import bp, expired
from catalog.review.decision import (
    decision_context,
    parse_decision,
)
from catalog.review.forms import SCORE_CHOICES, BulkApproveForm, DecisionForm
from catalog.services.errors import Conflict, Invalid, NotFound
from catalog.services.reviewing import bulk, decisions, refresh
from catalog.services.reviewing.queue import BANDS, SORTS, QueueQuery, next_pending_id
from catalog.services.suggesting import categories_by_slug, suggested_labels
from catalog.serving import jurisdiction_code, served

ITEM_RE = re.compile(r"\d{1,10}:\d{1,10}")
MAX_ITEMS = 50000


def _queue_link(**args) -> str:
    return url_for("review.queue", **args)


def _categories():
    try:
        jurisdiction = served()
    except NotFound:  # no taxonomy seeded yet: an empty queue, not an error
        if jurisdiction_code():  # but a wrong CATALOG_JURISDICTION is an error
            raise
        return None, {}
    return jurisdiction, categories_by_slug(db.session, jurisdiction)


def _refresh(jurisdiction, ids: list[int] | None = None) -> None:
    """Re-suggest stale pending courses with what the latest decisions taught the engine
    (services/reviewing/refresh.py) and commit; if another request refreshed or decided the same
    courses meanwhile, theirs stands and this refresh is dropped."""
    if jurisdiction is None:
        return
    try:
        refresh.refresh_pending(db.session, jurisdiction, ids=ids)
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()


@bp.get("/", strict_slashes=False)  # /review, /provider, /admin answer the page, not 308
@roles_required("staff")
def queue():
    """Courses waiting for a decision, filtered and sorted, with counts per filter."""
    jurisdiction, categories = _categories()
    _refresh(jurisdiction)
    q = QueueQuery.from_args(request.args, categories, _queue_link)
    pagination = db.paginate(
        q.select(db.session, jurisdiction), page=q.page, per_page=q.per_page, error_out=False
    )
    facets = q.facets(db.session)
    rows = []
    for course in pagination.items:
        areas, topics = suggested_labels(course.suggestion or {})
        rows.append({"course": course, "areas": areas, "topics": topics})
    bulk_form = BulkApproveForm(
        formdata=None,
        filters=urlencode(q.args()),
        back=request.full_path if request.query_string else request.path,
    )
    return render_template(
        "review/queue.html",
        q=q,
        rows=rows,
        pagination=pagination,
        facets=facets,
        categories=categories,
        sorts=SORTS,
        bands=BANDS,
        bulk_form=bulk_form,
        score_choices=SCORE_CHOICES,
        pending_total=q.pending_count(db.session),
    )


def _load_course(course_id: int) -> Course:
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(
            selectinload(Course.categories).selectinload(CourseCategory.category),
            selectinload(Course.provider),
            selectinload(Course.jurisdiction),
        )
    )
    if course is None:
        abort(404, "There is no course with that number.")
    return course


@bp.get("/<int:course_id>")
@roles_required("staff")
def course(course_id: int):
    """Everything a reviewer needs to decide one course."""
    course = _load_course(course_id)
    if course.status == "pending":
        _refresh(course.jurisdiction, [course.id])
    draft = expired.restore_draft(course_id)
    if draft is not None:
        message = "Your decision was not saved before you signed in again; what you typed is back."
        return expired.render_with_typed(course, draft, message, 200)
    form = DecisionForm(formdata=None, version=course.version)
    return render_template("review/course.html", **decision_context(course, form))


def _after_decision(course: Course, action: str):
    """Say what was decided and open the next course waiting (the queue when none is)."""
    verb = {"approve": "Approved", "override": "Approved", "reject": "Rejected"}[action]
    flash(f"{verb} “{course.title}”.", "success")
    following = next_pending_id(db.session, course.id)
    if following is not None:
        return redirect(url_for("review.course", course_id=following))
    flash("The queue is empty. Well done.", "success")
    return redirect(url_for("review.queue"))


@bp.post("/<int:course_id>")
@roles_required("staff")
def decide(course_id: int):
    """Approve as suggested, override or reject; re-renders with clear messages on a rule break
    (422) or a conflict (409); on success opens the next course waiting."""
    course = _load_course(course_id)
    form = DecisionForm()
    action, areas, topics, problems = parse_decision(form, course)
    if not problems:
        try:
            decisions.decide(
                db.session,
                course,
                action,
                form.version.data,
                current_user,
                areas=areas,
                topics=topics,
                note=form.note.data or "",
                approved_until=form.approved_until.data,
                control_number=form.control_number.data or "",
            )
            db.session.commit()
        except Conflict as exc:
            db.session.rollback()
            course = _load_course(course_id)
            ctx = decision_context(course, DecisionForm(formdata=None, version=course.version))
            return render_template("review/course.html", conflict=exc.message, **ctx), 409
        except Invalid as exc:
            db.session.rollback()
            course = _load_course(course_id)
            problems = exc.details or [{"field": "", "message": exc.message}]
            message = exc.message
        else:
            return _after_decision(course, action)
    else:
        message = " ".join(p["message"] for p in problems)
    ctx = decision_context(course, form, submitted=(action, areas, topics))
    return render_template(
        "review/course.html", problems=problems, problem_message=message, **ctx
    ), 422


def _parse_items(text: str) -> list[tuple[int, int]]:
    parts = (text or "").strip().split(",")
    if len(parts) > MAX_ITEMS or not all(ITEM_RE.fullmatch(p) for p in parts):
        abort(400, "The list of courses to approve is missing or malformed: reload the queue.")
    items = []
    for part in parts:
        cid, _, version = part.partition(":")
        items.append((int(cid), int(version)))
    return list(dict.fromkeys(items))


def _bulk_items(form) -> list[tuple[int, int]]:
    """The courses a bulk approval considers: the posted id:version list, else every pending
    course of the posted queue filters (all pages)."""
    if (form.items.data or "").strip():
        return _parse_items(form.items.data)
    if form.filters.data is None:
        abort(400, "Say which courses to approve (the queue's filters): reload the queue.")
    args = MultiDict(parse_qsl(form.filters.data[:4000]))
    jurisdiction, categories = _categories()
    q = QueueQuery.from_args(args, categories, _queue_link)
    return q.pending_items(db.session, jurisdiction)


def _safe_back(value: str | None) -> str:
    value = value or ""
    if value.startswith("/review") and not value.startswith("//") and "\\" not in value:
        return value
    return url_for("review.queue")


@bp.post("/bulk-approve")
@roles_required("staff")
def bulk_approve():
    """Every pending course of the filtered queue (all pages) or of a posted list: first a
    preview of what would be approved and why each other course is left out; with confirm=1,
    apply the previewed list in one transaction (a course changed meanwhile is left out)."""
    form = BulkApproveForm()
    back = _safe_back(form.back.data)
    if not form.validate_on_submit():
        messages = [e for errors in form.errors.values() for e in errors]
        flash("Bulk approve needs a score between 0 and 100: " + " ".join(messages), "error")
        return redirect(back)
    items = _bulk_items(form)
    min_score = form.min_score.data
    if form.confirm.data != "1":
        plan = bulk.plan_bulk_approve(db.session, items, min_score)
        return render_template(
            "review/bulk_confirm.html",
            plan=plan,
            approve_items=",".join(f"{i.course.id}:{i.course.version}" for i in plan.approve),
            considered=len(items),
            form=form,
            back=back,
            min_score=min_score,
            categories=_categories()[1],
        )
    try:
        result = bulk.bulk_approve(db.session, items, min_score, current_user)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    return render_template(
        "review/bulk_done.html", result=result, back=back, categories=_categories()[1]
    )


# Audit log and dashboard live in their own module to keep this one short.
from catalog.review import audit_views  # noqa: E402,F401
