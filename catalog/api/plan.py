"""POST /api/v1/plan: status and the smallest plan for officers, as JSON (contracts.md).

Anonymous callers may plan for one officer (rate-limited per address with the sign-in throttle's
table, like wrong passwords); a bearer token or a signed-in session may send a roster (up to
PLAN_MAX_OFFICERS). Bad input is a 422 {"error", "details"}. Nothing of the officers' records is
written or logged: the throttle stores only the caller's address and the time.
"""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, request, url_for
from flask_login import current_user

from catalog.api import bp
from catalog.extensions import db
from catalog.plan.throttle import throttle_anonymous
from catalog.security import late_write_lock
from catalog.services import planning
from catalog.services.errors import Invalid
from catalog.serving import served
from catalog.uploads import upload_slot


def plan_caller():
    """The signed-in user behind a plan request (bearer token, else session), or None."""
    user = g.get("api_user")
    if user is not None:
        return user
    if request.is_json and current_user.is_authenticated:  # JSON only: no cross-site forms
        return current_user
    return None


def _payload() -> dict:
    if not request.is_json:
        raise Invalid(
            "Send the officers as JSON (Content-Type: application/json).",
            [{"field": "body", "message": "JSON required"}],
        )
    try:
        payload = request.get_json(force=True, silent=False)
    except RecursionError as exc:
        raise Invalid("The JSON is nested too deeply.") from exc
    except Exception as exc:  # werkzeug raises BadRequest for unparsable JSON
        raise Invalid(
            "The request body is not valid JSON.", [{"field": "body", "message": "invalid JSON"}]
        ) from exc
    if not isinstance(payload, dict):
        raise Invalid(
            'The body must be an object: {"officers": [...], "options": {...}}.',
            [{"field": "body", "message": "object required"}],
        )
    return payload


@bp.post("/plan")
@late_write_lock
@upload_slot("plan")
def post_plan():
    """Plan for the officers in the body; one officer without sign-in, more with it."""
    config = current_app.config
    user = plan_caller()
    try:
        payload = _payload()
        period = payload.get("period")
        if period is not None and not isinstance(period, str):
            raise Invalid("'period' must be text.", [{"field": "period", "message": "text"}])
        raw = payload.get("officers")
        if user is None and isinstance(raw, list) and len(raw) > 1:
            abort(401, "Planning for more than one officer needs an API token or a sign-in.")
        officers = planning.officers_from_json(
            raw,
            max_officers=config["PLAN_MAX_OFFICERS"] if user is not None else 1,
            max_records=config["PLAN_MAX_RECORDS"],
        )
        options = planning.options_from_json(payload.get("options"))
        if user is None:
            throttle_anonymous()
        jurisdiction = served()
        report = planning.plan_officers(
            db.session,
            jurisdiction,
            officers,
            options,
            period=period or None,
            course_url=lambda cid: url_for("public.course", course_id=cid, _external=True),
        )
    except Invalid as exc:
        db.session.rollback()
        return jsonify({"error": exc.message, "details": exc.details}), 422
    db.session.rollback()  # read only: nothing to keep
    body = report.as_json()
    body["deadline"] = planning.deadline(report.rules)
    for officer in body["officers"]:
        for key in ("total_message",):
            officer.pop(key, None)
    return jsonify(body), 200
