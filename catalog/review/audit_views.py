"""Audit log (page and CSV export) and the staff dashboard."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from catalog.extensions import db
from catalog.models import AuditEntry, Course
from catalog.permissions import roles_required
from catalog.review import bp
from catalog.review.charts import bar_rows, line_chart, percent_bars
from catalog.services import audit_log as audit_log_reading
from catalog.services import dashboard as dash
from catalog.services.cleaning import spreadsheet_cell
from catalog.services.suggesting import categories_by_slug
from catalog.serving import served_or_none

AUDIT_PER_PAGE = 50
CSV_HEADER = [
    "id",
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "course_id",
    "course_title",
    "note",
    "before",
    "after",
    "changes",
]


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return spreadsheet_cell("" if value is None else str(value))


def _category_names() -> dict[str, str]:
    served = served_or_none()
    if served is None:
        return {}
    return {slug: c.name for slug, c in categories_by_slug(db.session, served).items()}


def _audit_filters():
    """(conditions, args, notices) from ?course= (number, code or title words), ?user= and
    ?action=."""
    conds, args, notices = [], {}, []
    course = " ".join((request.args.get("course") or "").split())[:200]
    if course:
        conds.append(audit_log_reading.course_condition(course))
        args["course"] = course
    user = (request.args.get("user") or "").strip()[:254]
    if user:
        conds.append(func.lower(AuditEntry.actor).contains(user.lower(), autoescape=True))
        args["user"] = user
    action = (request.args.get("action") or "").strip()[:40]
    if action:
        conds.append(AuditEntry.action == action)
        args["action"] = action
    return conds, args, notices


@bp.get("/audit")
@roles_required("staff")
def audit_log():
    """Who did what, when, before and after, filterable by course, user and action."""
    conds, args, notices = _audit_filters()
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(
        select(AuditEntry)
        .where(*conds)
        .options(joinedload(AuditEntry.user))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()),
        page=max(page, 1),
        per_page=AUDIT_PER_PAGE,
        error_out=False,
    )
    course_ids = {e.course_id for e in pagination.items if e.course_id}
    titles = dict(
        db.session.execute(select(Course.id, Course.title).where(Course.id.in_(course_ids))).all()
        if course_ids
        else []
    )
    actions = db.session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    names = _category_names()
    changes = {
        e.id: audit_log_reading.describe_changes(e.before, e.after, names) for e in pagination.items
    }
    return render_template(
        "review/audit.html",
        pagination=pagination,
        changes=changes,
        titles=titles,
        args=args,
        notices=notices,
        actions=actions,
    )


def _csv_row(entry: AuditEntry, title: str | None, names: dict) -> list:
    """One audit entry as a CSV row (formula-safe): the entry, its course's title, before and
    after as JSON and the changes read as "label: before → after"."""
    changes = audit_log_reading.describe_changes(entry.before, entry.after, names)
    values = (
        entry.id,
        entry.at.isoformat(sep=" ", timespec="seconds"),
        entry.actor,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.course_id,
        title,
        entry.note,
        json.dumps(entry.before, sort_keys=True),
        json.dumps(entry.after, sort_keys=True),
        "; ".join(f"{c.label}: {c.before} → {c.after}" for c in changes),
    )
    return [safe_cell(v) for v in values]


@bp.get("/audit.csv")
@roles_required("staff")
def audit_csv():
    """The filtered audit log as CSV (every row, streamed), formula-safe."""
    conds, _, _ = _audit_filters()
    query = (
        select(AuditEntry, Course.title)
        .outerjoin(Course, Course.id == AuditEntry.course_id)
        .where(*conds)
        .order_by(AuditEntry.at, AuditEntry.id)
        .execution_options(yield_per=500)
    )
    names = _category_names()

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for entry, title in db.session.execute(query):
            writer.writerow(_csv_row(entry, title, names))
            if buffer.tell() > 16384:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


@bp.get("/dashboard")
@roles_required("staff")
def dashboard():
    """Queue size over time, acceptance of suggestions, approved courses per category."""
    points = dash.queue_over_time(db.session, days=30)
    served = served_or_none()
    accepted, overall = dash.acceptance(db.session, served.id if served is not None else None)
    approved = dash.approved_per_category(db.session)
    counts = dash.status_counts(db.session)
    return render_template(
        "review/dashboard.html",
        queue_chart=line_chart([(p.day, p.pending) for p in points]),
        points=points,
        acceptance=[a for a in accepted if a.suggested or a.decided],
        acceptance_chart=percent_bars(
            [
                (
                    a.name,
                    a.rate,
                    f"{a.agreed} of {a.suggested} kept" if a.suggested else "never suggested",
                )
                for a in accepted
                if a.suggested or a.decided
            ]
        ),
        overall=overall,
        approved_areas=bar_rows(
            [(a.name, a.courses, a.hours) for a in approved if a.kind == "area"]
        ),
        approved_topics=bar_rows(
            [(a.name, a.courses, None) for a in approved if a.kind == "topic"]
        ),
        counts=counts,
    )
