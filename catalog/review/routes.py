"""POST staff review queue."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from catalog.extensions import db
from catalog.models import Course
from catalog.permissions import roles_required
from catalog.review import bp


@bp.get("/")
@roles_required("staff")
def queue():
    courses = db.session.scalars(
        select(Course)
        .options(joinedload(Course.provider))
        .where(Course.status == "pending")
        .order_by(Course.suggestion_confident, Course.suggestion_score, Course.id)
        .limit(200)
    ).all()
    return render_template("review/queue.html", courses=courses)
