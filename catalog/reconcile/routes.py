"""Reconciliation endpoints: thin views over catalog.services.reconciling (queries) and its
`data` module (the rest of the protocol).

`GET /reconcile` is the manifest (JSONP with `callback=`); `queries=` (GET or form-encoded POST)
reconciles a batch, `extend=` fetches property values. Nothing here reads or writes the session.
"""

from __future__ import annotations

import json
import re

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for

from catalog.errors import error_response
from catalog.extensions import db
from catalog.reconcile import bp
from catalog.reconcile.limits import limiter
from catalog.services import reconciling
from catalog.services.reconciling import data as reconcile_data
from catalog.serving import served, site_root
from catalog.templating import current_site

CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,63}$")
PREVIEW_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors *",  # shown inside OpenRefine (any origin, often http://127.0.0.1:3333)
    ]
)


def _limited(cost: int) -> Response | None:
    """A 429 with Retry-After when this address spent its budget, else None."""
    per_minute = int(current_app.config.get("RECONCILE_RATE_PER_MINUTE", 3000))
    wait = limiter.take(request.remote_addr or "unknown", cost, per_minute)
    if not wait:
        return None
    response = error_response(
        429,
        f"Too many reconciliation queries from this address: wait {wait} s and try again.",
        details=[f"At most {per_minute} queries a minute per address."],
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.before_request
def _limits():
    """Refuse oversized bodies (413) and callers over their budget (429) before any work."""
    max_body = int(current_app.config.get("RECONCILE_MAX_BODY", 256 * 1024))
    if (request.content_length or 0) > max_body:
        return error_response(
            413,
            f"The request is too large: at most {max_body // 1024} KB.",
            details=[f"Send at most {reconciling.MAX_BATCH} queries per batch."],
        )
    return _limited(1)


@bp.after_request
def _cors(response: Response) -> Response:
    """Any origin may call the service (OpenRefine runs on the user's machine); no credentials."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers.pop("Set-Cookie", None)
    return response


def _json(data, status: int = 200) -> Response:
    """JSON, or JSONP when a valid `callback` is given on a GET."""
    callback = request.args.get("callback", "")
    if request.method == "GET" and callback:
        if not CALLBACK.match(callback):
            return error_response(400, "`callback` must be a JavaScript identifier.")
        body = f"/**/{callback}({json.dumps(data)});"
        return Response(body, status, mimetype="application/javascript")
    response = jsonify(data)
    response.status_code = status
    return response


def _param(name: str) -> str | None:
    value = request.form.get(name) if request.method == "POST" else None
    return value if value is not None else request.args.get(name)


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name, "")
    return min(int(raw), maximum) if raw.isdigit() and len(raw) < 7 else default


@bp.route("/reconcile", methods=["GET", "POST"])
def service():
    """Manifest, a batch of queries (`queries=`) or a data extension (`extend=`)."""
    queries, extend = _param("queries"), _param("extend")
    jurisdiction = served()
    if queries is not None:
        batch = reconciling.parse_batch(queries)
        refused = _limited(max(0, len(batch) - 1))
        if refused is not None:
            return refused
        max_age = float(current_app.config.get("RECONCILE_INDEX_MAX_AGE", 5))
        return _json(reconciling.reconcile(db.session, jurisdiction, batch, max_age=max_age))
    if extend is not None:
        wanted = reconcile_data.parse_extend(extend)
        refused = _limited(max(0, len(wanted["ids"]) // 10))
        if refused is not None:
            return refused
        result = reconcile_data.extend(
            db.session,
            jurisdiction,
            wanted,
            lambda cid: url_for("public.course", course_id=cid, _external=True),
        )
        return _json(result)
    root = url_for("reconcile.service", _external=True)
    urls = {
        "root": site_root(),
        "identifier_space": url_for("public.courses", _external=True) + "/",
        "schema_space": root + "/types/",
        "docs": url_for("api.docs", _external=True) + "#reconciliation",
        "view": root + "/view/{{id}}",
        "preview": url_for("reconcile.preview", _external=True) + "?id={{id}}",
        "suggest_entity": url_for("reconcile.suggest_entity"),
        "suggest_type": url_for("reconcile.suggest_type"),
        "suggest_property": url_for("reconcile.suggest_property"),
        "propose": url_for("reconcile.propose_properties"),
    }
    site = current_site()
    name = f"{site.short_name} approved courses and {site.ce_name} categories"
    return _json(reconcile_data.manifest(urls, name))


@bp.get("/reconcile/preview")
def preview():
    """A small HTML card for one course or category, made to be shown in OpenRefine's frame."""
    jurisdiction = served()
    entity = reconcile_data.lookup(db.session, jurisdiction, request.args.get("id", ""))
    status = 200 if entity else 404
    response = Response(render_template("reconcile/preview.html", entity=entity), status)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


@bp.get("/reconcile/view/<path:entity_id>")
def view(entity_id: str):
    """The human page of an identifier: the course page, or the list of a category's courses."""
    jurisdiction = served()
    entity = reconcile_data.lookup(db.session, jurisdiction, entity_id)
    if entity is None:
        return error_response(404, "No approved course or category has this identifier.")
    if entity["kind"] == "course":
        return redirect(url_for("public.course", course_id=entity["id"]))
    facet = "area" if entity["category_kind"] == "area" else "topic"
    return redirect(url_for("public.courses", **{facet: entity["slug"]}))


@bp.get("/reconcile/suggest/entity")
def suggest_entity():
    """Courses (or `type=category` categories) whose name starts like `prefix`."""
    jurisdiction = served()
    result = reconcile_data.suggest_entities(
        db.session,
        jurisdiction,
        request.args.get("prefix", ""),
        request.args.get("type"),
        _int_arg("cursor", 0, 10_000),
    )
    return _json(result)


@bp.get("/reconcile/suggest/type")
def suggest_type():
    """The service's types."""
    return _json(
        reconcile_data.suggest_types(request.args.get("prefix", ""), _int_arg("cursor", 0, 100))
    )


@bp.get("/reconcile/suggest/property")
def suggest_property():
    """Properties to match on or to fetch."""
    return _json(
        reconcile_data.suggest_properties(
            request.args.get("prefix", ""), _int_arg("cursor", 0, 100)
        )
    )


@bp.get("/reconcile/propose_properties")
def propose_properties():
    """Properties a data extension can fetch for `type`."""
    limit = _int_arg("limit", 0, 100)
    return _json(reconcile_data.propose_properties(request.args.get("type"), limit or None))
