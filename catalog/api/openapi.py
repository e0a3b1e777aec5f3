"""GET /api/v1/openapi.json (OpenAPI 3.1) and /api/v1/docs (the same, readable).

The paths come from the app's url_map (every route under /api/ and /reconcile), the words from
openapi_spec.OPERATIONS by endpoint name: the document cannot list a route that does not exist,
and a route without a spec appears marked `x-undocumented` (tests/integration/test_openapi.py
fails on it).
"""

from __future__ import annotations

import copy
import re

from flask import current_app, jsonify, render_template

from catalog.api import bp
from catalog.api.openapi_schemas import SCHEMAS
from catalog.api.openapi_spec import OPERATIONS
from catalog.serving import site_root

PREFIXES = ("/api/", "/reconcile")
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}


def documented_rules(app) -> list:
    """The app's routes the document describes, in path order."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    """A Flask rule as an OpenAPI path and its path parameters ("<int:id>" -> "{id}")."""
    params = []
    for converter, name in _CONVERTER.findall(rule):
        schema = dict(_TYPES.get(converter, {"type": "string"}))
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), params


def build_document(app, server_url: str) -> dict:
    """The OpenAPI 3.1 document of the JSON API, from the url_map and OPERATIONS."""
    paths: dict[str, dict] = {}
    for rule in documented_rules(app):
        path, path_params = openapi_path(rule.rule)
        known = OPERATIONS.get(rule.endpoint, {})
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = copy.deepcopy(known.get(method.lower()))
            if operation is None:
                operation = {
                    "summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                    "x-undocumented": True,
                    "responses": {"default": {"description": "Not described yet"}},
                }
            operation["operationId"] = f"{rule.endpoint}.{method.lower()}"
            if path_params:
                operation["parameters"] = path_params + operation.get("parameters", [])
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "POST Course Catalog API",
            "version": "1",
            "description": "JSON API v1 (bearer tokens from `flask --app catalog create-token`, "
            "errors as {error, details}), the compliance planner, and the W3C Reconciliation "
            "API 0.2 service for OpenRefine.",
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "api", "description": "JSON API v1"},
            {"name": "reconciliation", "description": "W3C Reconciliation API 0.2"},
        ],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _document() -> dict:
    return build_document(current_app, site_root().rstrip("/"))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the JSON API (public)."""
    response = jsonify(_document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
def docs():
    """The document as a readable page: every operation, its parameters and answers."""
    document = _document()
    operations = [
        (path, method, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]
    return render_template("api/docs.html", document=document, operations=operations)
