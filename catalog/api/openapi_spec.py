"""What the OpenAPI document says about each JSON endpoint: the one place to add a route's spec.

`OPERATIONS` maps a Flask endpoint name to {method: operation}; paths and path parameters come from
the real url_map (catalog.api.openapi), so a route added without an entry here shows up in the
document as "undocumented" and fails tests/integration/test_openapi.py. `SCHEMAS` are the
components (catalog/api/openapi_schemas.py). To document a new endpoint: add its operation under its endpoint name, and any schema
it needs to SCHEMAS there.
"""

from __future__ import annotations

from catalog.api.openapi_schemas import schema_ref

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ERROR, description)


UNAUTHORIZED = _error("No token, or the token is unknown or revoked")
FORBIDDEN = _error("The token's user may not do this")
BAD = _error("A parameter that cannot be honoured")

_RECONCILE_PARAMS = [
    {
        "name": "queries",
        "in": "query",
        "description": 'A batch: {"q0": {"query", "type", "limit", "properties": [{"pid", "v"}]}}',
        "schema": {"type": "string"},
    },
    {
        "name": "extend",
        "in": "query",
        "description": 'Data extension: {"ids": [...], "properties": [{"id"}]}',
        "schema": {"type": "string"},
    },
    {
        "name": "callback",
        "in": "query",
        "description": "JSONP: a JavaScript function name",
        "schema": {"type": "string"},
    },
]
_RECONCILE_RESPONSES = {
    "200": {
        "description": "Manifest (no queries), results, or extension rows; JSONP with callback",
        "content": {
            "application/json": {"schema": schema_ref("ReconcileAnswer")},
            "application/javascript": {"schema": {"type": "string"}},
        },
    },
    "400": _error("`queries` or `extend` is not what the protocol describes"),
    "413": _error("Over 50 queries, a query over 500 characters or a body over 256 KB"),
    "429": _error("Over the address's query budget (Retry-After says when to come back)"),
}


def _suggest(summary: str, with_type: bool = False) -> dict:
    params = [
        {"name": "prefix", "in": "query", "schema": {"type": "string"}},
        {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "callback", "in": "query", "schema": {"type": "string"}},
    ]
    if with_type:
        params.append(
            {
                "name": "type",
                "in": "query",
                "schema": {"type": "string", "enum": ["course", "category"]},
            }
        )
    return {
        "get": {
            "tags": ["reconciliation"],
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {
                    "description": "Suggestions, best first",
                    "content": {
                        "application/json": {"schema": schema_ref("SuggestAnswer")},
                        "application/javascript": {"schema": {"type": "string"}},
                    },
                },
                "400": BAD,
            },
        }
    }


BEARER = [{"bearer": []}]

OPERATIONS: dict[str, dict] = {
    "api.me": {
        "get": {
            "tags": ["api"],
            "summary": "Who the token belongs to",
            "security": BEARER,
            "responses": {"200": _json(schema_ref("Me"), "The token's user"), "401": UNAUTHORIZED},
        }
    },
    "api.list_courses": {
        "get": {
            "tags": ["api"],
            "summary": "Courses with suggestions and decisions (staff: all; provider: its own)",
            "security": BEARER,
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {
                        "type": "string",
                        "enum": ["pending", "approved", "rejected", "withdrawn"],
                    },
                },
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            ],
            "responses": {
                "200": _json(schema_ref("CourseList"), "One page; `next` links the following one"),
                "400": BAD,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
            },
        }
    },
    "api.decide": {
        "post": {
            "tags": ["api"],
            "summary": "Approve, override or reject a course (staff)",
            "security": BEARER,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("Decision")}},
            },
            "responses": {
                "200": _json(schema_ref("ApiCourse"), "The course as decided"),
                "400": BAD,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": _error("No such course"),
                "409": _error("`version` is stale: nothing changed"),
                "422": _error("The decision breaks a rule"),
            },
        }
    },
    "api.post_catalog": {
        "post": {
            "tags": ["api"],
            "summary": "Import a catalog, all rows or none (provider; staff with ?provider=)",
            "security": BEARER,
            "parameters": [
                {
                    "name": "dry_run",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["1", "0"]},
                },
                {"name": "provider", "in": "query", "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"type": "array", "items": schema_ref("CatalogRow")},
                                {
                                    "type": "object",
                                    "required": ["courses"],
                                    "properties": {
                                        "courses": {
                                            "type": "array",
                                            "items": schema_ref("CatalogRow"),
                                        }
                                    },
                                },
                            ]
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
            },
            "responses": {
                "200": _json(schema_ref("ImportResult"), "Dry run: what would be imported"),
                "201": _json(schema_ref("ImportResult"), "Imported"),
                "400": BAD,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": _error("Unknown provider"),
                "413": _error("The file is too large"),
                "422": _json(schema_ref("ImportResult"), "Errors: nothing written"),
            },
        }
    },
    "api.post_plan": {
        "post": {
            "tags": ["api"],
            "summary": "Compliance status and the smallest plan (one officer without sign-in)",
            "security": [{}, *BEARER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("PlanRequest")}},
            },
            "responses": {
                "200": _json(
                    schema_ref("PlanResponse"), "Per officer: requirements, records, plan"
                ),
                "400": BAD,
                "401": _error("More than one officer needs a token or a sign-in"),
                "413": _error("The request is too large"),
                "422": _error("Bad input: unknown period or delivery value, wrong shape"),
                "429": _error("Too many anonymous plans from this address"),
            },
        }
    },
    "api.openapi": {
        "get": {
            "tags": ["api"],
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
    "api.docs": {
        "get": {
            "tags": ["api"],
            "summary": "This document as a readable page",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {}}}}},
        }
    },
    "reconcile.service": {
        "get": {
            "tags": ["reconciliation"],
            "summary": "Manifest, or a batch of queries (`queries`), or data extension (`extend`)",
            "parameters": _RECONCILE_PARAMS,
            "responses": _RECONCILE_RESPONSES,
        },
        "post": {
            "tags": ["reconciliation"],
            "summary": "The same, form-encoded (as OpenRefine sends it; no CSRF token needed)",
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "queries": {"type": "string"},
                                "extend": {"type": "string"},
                            },
                        }
                    }
                }
            },
            "responses": _RECONCILE_RESPONSES,
        },
    },
    "reconcile.preview": {
        "get": {
            "tags": ["reconciliation"],
            "summary": "HTML card of a course or category, for OpenRefine's frame",
            "parameters": [{"name": "id", "in": "query", "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The card", "content": {"text/html": {"schema": {}}}},
                "404": {"description": "Unknown id", "content": {"text/html": {"schema": {}}}},
            },
        }
    },
    "reconcile.view": {
        "get": {
            "tags": ["reconciliation"],
            "summary": "Redirect to the course page or the category's course list",
            "responses": {
                "302": {"description": "To the human page"},
                "404": _error("Unknown id"),
            },
        }
    },
    "reconcile.suggest_entity": _suggest("Courses (or type=category categories) by prefix", True),
    "reconcile.suggest_type": _suggest("Types by prefix"),
    "reconcile.suggest_property": _suggest("Properties by prefix"),
    "reconcile.propose_properties": {
        "get": {
            "tags": ["reconciliation"],
            "summary": "Properties a data extension can fetch for a type",
            "parameters": [
                {"name": "type", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "callback", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "{type, properties: [{id, name}], limit}",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "application/javascript": {"schema": {"type": "string"}},
                    },
                },
                "400": BAD,
            },
        }
    },
}
