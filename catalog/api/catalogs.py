"""POST /api/v1/catalogs: a provider token sends a JSON catalog or a file; all rows or none.

Answers (contracts.md): 201 {"catalog_id", "rows", "created", "updated", "unchanged", "errors": []};
422 with the same shape and every error as {"row", "field", "message"} (nothing written);
401 without a valid token; 403 for a token whose user is not a provider user. Staff tokens may act
for a provider by adding ?provider=SLUG. `?dry_run=1` validates and suggests without writing
(200, or 422 with the errors) and adds each row's suggestion under "courses".
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from sqlalchemy import select

from catalog.api import bp
from catalog.extensions import db
from catalog.models import Provider
from catalog.permissions import api_user, roles_required
from catalog.security import late_write_lock
from catalog.services.errors import Invalid
from catalog.services.imports.files import courses_from_json, read_table, table_from_objects
from catalog.services.suggesting import suggested_labels
from catalog.serving import import_context, upload_deadline
from catalog.uploads import upload_slot

TRUE = {"1", "true", "yes", "on"}


def _provider_for(user) -> Provider:
    slug = request.args.get("provider")
    if user.role == "provider":
        if slug and slug != user.provider.slug:
            abort(403, "A provider token may only send its own provider's catalog.")
        return user.provider
    if not slug:
        abort(403, "Only provider tokens may send a catalog (staff: add ?provider=SLUG).")
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        abort(404, f"Unknown provider '{slug}'.")
    return provider


def _read_request(max_rows: int, deadline):
    upload = request.files.get("file")
    if upload is not None:
        name = upload.filename or "catalog.csv"
        return read_table(upload.read(), name, max_rows=max_rows, deadline=deadline), (
            upload.filename or ""
        )
    if not request.is_json:
        raise Invalid(
            "Send a JSON catalog (Content-Type: application/json) or a file in the "
            "multipart field 'file'.",
            [{"row": None, "field": "file", "message": "no catalog in the request"}],
        )
    try:
        payload = request.get_json(force=True, silent=False)
    except RecursionError as exc:
        raise Invalid("The JSON is nested too deeply.") from exc
    except Exception as exc:  # werkzeug raises BadRequest for unparsable JSON
        raise Invalid(
            "The request body is not valid JSON.",
            [{"row": None, "field": "file", "message": "invalid JSON"}],
        ) from exc
    return table_from_objects(courses_from_json(payload), max_rows), "api.json"


def _body(report, *, dry_run: bool, errors=None) -> dict:
    body = (
        report.as_json()
        if report is not None
        else {
            "catalog_id": None,
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "errors": [],
        }
    )
    if errors is not None:
        body["errors"] = errors
    if dry_run:
        body["dry_run"] = True
    if dry_run and report is not None:
        body["courses"] = [
            {
                "row": r.row_number,
                "title": r.values.get("title"),
                "change": r.change,
                "suggested_areas": {k: str(v) for k, v in suggested_labels(r.suggestion)[0].items()}
                if r.suggestion
                else {},
                "suggested_topics": suggested_labels(r.suggestion)[1] if r.suggestion else [],
            }
            for r in report.rows
        ]
    return body


def _refusal(exc: Invalid, dry_run: bool) -> dict:
    """The 422 body of a refused import: the usual counts, every problem as {row, field,
    message}, and the canonical `error`/`details` pair."""
    details = [
        {"row": d.get("row"), "field": d.get("field"), "message": d.get("message")}
        for d in exc.details
        if isinstance(d, dict)
    ]
    body = _body(
        getattr(exc, "report", None),
        dry_run=dry_run,
        errors=details or [{"row": None, "field": "file", "message": exc.message}],
    )
    if not dry_run:  # nothing was written, so nothing was created or updated
        body.update(created=0, updated=0, unchanged=0)
    body["error"] = exc.message
    body["details"] = body["errors"]
    return body


@bp.post("/catalogs")
@roles_required("provider", "staff")
@late_write_lock
@upload_slot("catalog")
def post_catalog():
    """Import a catalog (JSON body or file) for the token's provider: all rows or none; dry_run
    validates only."""
    from catalog.services.imports.direct import import_table

    user = api_user()
    provider = _provider_for(user)
    dry_run = request.args.get("dry_run", "").lower() in TRUE
    deadline = upload_deadline()
    try:
        table, filename = _read_request(current_app.config["MAX_CATALOG_ROWS"], deadline)
        report = import_table(
            db.session,
            provider,
            table,
            import_context(deadline),
            dry_run=dry_run,
            user=user,
            source="api",
            filename=filename,
        )
    except Invalid as exc:
        db.session.rollback()
        return jsonify(_refusal(exc, dry_run)), 422
    if dry_run:
        db.session.rollback()
        return jsonify(_body(report, dry_run=True)), 200
    db.session.commit()
    return jsonify(_body(report, dry_run=False)), 201
