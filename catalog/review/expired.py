"""A decision posted with an expired or missing security token (the session ended, or was renewed
in another tab) saves nothing but loses nothing: the reviewer gets the page back with what they
typed. Signed out, the typed fields wait in the (signed) session until they sign in again."""

from __future__ import annotations

import json

from flask import render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from catalog.auth.forms import LoginForm
from catalog.errors import csrf_error_response, error_response
from catalog.review import bp
from catalog.review.decision import decision_context, parse_decision
from catalog.review.forms import DecisionForm
from catalog.services.reviewing.decisions import MAX_NOTE

DRAFT_KEY = "review_draft"
DRAFT_FIELDS = ("action", "note", "approved_until", "control_number")
MAX_DRAFT_BYTES = 2500  # the session is a cookie: browsers keep about 4 KB of it
EXPIRED_MESSAGE = (
    "Nothing was saved: this page's security token had expired (your session ended or was "
    "renewed in another tab)."
)


def typed_fields(data) -> MultiDict:
    """The decision fields a reviewer typed, bounded (never the stale token or version)."""
    kept = MultiDict()
    for name in DRAFT_FIELDS:
        value = (data.get(name) or "")[:MAX_NOTE]
        if value:
            kept[name] = value
    for name in data:
        if name.startswith("hours-") and len(name) <= 70 and len(kept) < 30:
            kept[name] = (data.get(name) or "")[:12]
    for topic in data.getlist("topic")[:20]:
        kept.add("topic", topic[:64])
    return kept


def restore_draft(course_id: int) -> MultiDict | None:
    """The typed fields kept for this course when a post failed signed out; read once."""
    draft = session.get(DRAFT_KEY)
    if not isinstance(draft, dict) or draft.get("course_id") != course_id:
        return None
    session.pop(DRAFT_KEY, None)
    fields = draft.get("fields")
    return MultiDict(fields) if isinstance(fields, list) else None


def render_with_typed(course, data: MultiDict, message: str, status: int):
    """The decision page with `data` (typed fields) filled in and `message` above it."""
    form = DecisionForm(formdata=data, meta={"csrf": False})
    form.version.data = course.version
    action, areas, topics, _ = parse_decision(form, course, data, validate=False)
    ctx = decision_context(course, form, submitted=(action, areas, topics))
    return render_template("review/course.html", expired=message, **ctx), status


@bp.errorhandler(CSRFError)
def expired_form(exc: CSRFError):
    """On a decision post: the decision page again (staff still signed in) or the sign-in page
    (signed out), each with the typed note or reason kept; other review posts as elsewhere."""
    course_id = (request.view_args or {}).get("course_id")
    if request.endpoint != "review.decide" or course_id is None:
        return csrf_error_response(exc)
    typed = typed_fields(request.form)
    if current_user.is_authenticated and current_user.is_staff:
        from catalog.review.routes import _load_course

        try:
            course = _load_course(course_id)
        except NotFound as missing:  # raised inside an error handler it would be a 500
            return error_response(404, missing.description)
        message = EXPIRED_MESSAGE + " What you typed is kept below: check it and send it again."
        return render_with_typed(course, typed, message, 400)
    stored = {"course_id": course_id, "fields": list(typed.items(multi=True))}
    fits = len(json.dumps(stored)) <= MAX_DRAFT_BYTES
    if fits:
        session[DRAFT_KEY] = stored
    form = LoginForm(formdata=None)
    form.next.data = url_for("review.course", course_id=course_id)
    return render_template(
        "auth/login.html",
        form=form,
        expired=EXPIRED_MESSAGE
        + (
            " Sign in again: what you typed comes back on the course page."
            if fits
            else " Sign in again; your text is too long to keep here, so copy it first."
        ),
        typed_note=typed.get("note", ""),
    ), 400
