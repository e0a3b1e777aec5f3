"""Staff decide on a provider's change to an approved course (services/revisions.py): publish it,
or keep the published version with a reason the provider sees."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from catalog.extensions import db
from catalog.models import Course
from catalog.permissions import roles_required
from catalog.review import bp
from catalog.services import revisions
from catalog.services.errors import Conflict, Invalid


@bp.post("/<int:course_id>/revision")
@roles_required("staff")
def revision(course_id: int):
    """Publish (action=accept) or decline (action=reject, with a note) the waiting change.
    CSRF is checked for every POST by the app's CSRFProtect."""
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404, "There is no course with that number.")
    action = request.form.get("action")
    version = request.form.get("version", type=int)
    note = request.form.get("note") or ""
    back = url_for("review.course", course_id=course_id)
    if action not in ("accept", "reject"):
        flash("Choose to publish the change or keep the published version.", "error")
        return redirect(back)
    try:
        if action == "accept":
            revisions.accept(db.session, course, version, current_user, note)
        else:
            revisions.reject(db.session, course, version, current_user, note)
    except (Conflict, Invalid) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if action == "accept":
        flash(f"Published the change to “{course.title}”.", "success")
    else:
        flash(f"Kept the published version of “{course.title}”; the provider sees why.", "success")
    return redirect(url_for("review.queue", status="changes"))
