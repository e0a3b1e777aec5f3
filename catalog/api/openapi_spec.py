"""What the OpenAPI document says about each JSON endpoint: the one place to add a route's spec.

`OPERATIONS` maps a Flask endpoint name to {method: operation}; paths and path parameters come from
the real url_map (catalog.api.openapi), so a route added without an entry here shows up in the
document as "undocumented" and fails tests/integration/test_openapi.py. `SCHEMAS` are the
components. To document a new endpoint: add its operation under its endpoint name, and any schema
it needs to SCHEMAS.
"""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ERROR, description)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _slug_hours() -> dict:
    return {
        "type": "object",
        "required": ["slug", "hours"],
        "properties": {"slug": {"type": "string"}, "hours": {"type": ["string", "null"]}},
    }


UNAUTHORIZED = _error("No token, or the token is unknown or revoked")
FORBIDDEN = _error("The token's user may not do this")
BAD = _error("A parameter that cannot be honoured")

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "details"],
        "properties": {"error": {"type": "string"}, "details": {}},
    },
    "Me": {
        "type": "object",
        "required": ["email", "role", "provider"],
        "properties": {
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["provider", "staff", "admin"]},
            "provider": {"type": ["string", "null"]},
        },
    },
    "ApiCourse": {
        "type": "object",
        "required": ["id", "title", "hours", "delivery", "status", "version", "suggestions"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "provider": {"type": "string"},
            "provider_code": {"type": ["string", "null"]},
            "hours": {"type": ["string", "null"]},
            "delivery": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected", "withdrawn"]},
            "version": {"type": "integer"},
            "suggestion_score": {"type": "integer"},
            "suggestion_confident": {"type": "boolean"},
            "suggestions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "kind", "score", "evidence"],
                    "properties": {
                        "slug": {"type": "string"},
                        "kind": {"type": "string", "enum": ["area", "topic"]},
                        "score": {"type": ["integer", "number", "null"]},
                        "confident": {"type": "boolean"},
                        "hours": {"type": ["string", "null"]},
                        "suggested": {"type": "boolean"},
                        "evidence": {"type": "array"},
                    },
                },
            },
            "areas": {"type": "array", "items": _slug_hours()},
            "topics": {"type": "array", "items": {"type": "string"}},
            "approved_until": {"type": ["string", "null"], "format": "date"},
            "control_number": {"type": ["string", "null"]},
            "decision_note": {"type": ["string", "null"]},
        },
    },
    "CourseList": {
        "type": "object",
        "required": ["courses", "next"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "next": {"type": ["string", "null"]},
            "courses": {"type": "array", "items": _ref("ApiCourse")},
        },
    },
    "Decision": {
        "type": "object",
        "required": ["action", "version"],
        "properties": {
            "action": {"type": "string", "enum": ["approve", "override", "reject"]},
            "version": {"type": "integer"},
            "areas": {"type": "array", "items": _slug_hours()},
            "topics": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
        },
    },
    "CatalogRow": {
        "type": "object",
        "required": ["title", "hours"],
        "properties": {
            "title": {"type": "string"},
            "hours": {"type": ["number", "string"]},
            "provider_code": {"type": "string"},
            "description": {"type": "string"},
            "delivery": {"type": "string"},
            "url": {"type": "string"},
            "objectives": {"type": "string"},
            "area_hours": {"type": "string", "examples": ["legal-studies:1;technical-studies:1"]},
            "topics": {"type": "string"},
        },
    },
    "ImportResult": {
        "type": "object",
        "required": ["catalog_id", "rows", "created", "updated", "unchanged", "errors"],
        "properties": {
            "catalog_id": {"type": ["integer", "null"]},
            "rows": {"type": "integer"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "dry_run": {"type": "boolean"},
            "courses": {"type": "array", "items": {"type": "object"}},
            "error": {"type": "string"},
            "details": {"type": "array"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["row", "field", "message"],
                    "properties": {
                        "row": {"type": ["integer", "null"]},
                        "field": {"type": ["string", "null"]},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    },
    "PlanRequest": {
        "type": "object",
        "required": ["officers"],
        "properties": {
            "period": {"type": "string", "examples": ["CLEE 2026"]},
            "officers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "records": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "title": {"type": "string"},
                                    "hours": {"type": ["number", "string"]},
                                    "date": {"type": "string"},
                                    "provider": {"type": "string"},
                                    "course_id": {"type": ["integer", "string"]},
                                    "control_number": {"type": "string"},
                                    "delivery": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
            "options": {
                "type": "object",
                "properties": {
                    "delivery": {"type": "array", "items": {"type": "string"}},
                    "exclude_providers": {"type": "array", "items": {"type": "string"}},
                    "prefer_providers": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "PlanHours": {
        "type": "object",
        "required": ["category", "hours"],
        "properties": {"category": {"type": "string"}, "hours": {"type": "number"}},
    },
    "PlanResponse": {
        "type": "object",
        "required": ["period", "officers"],
        "properties": {
            "period": {"type": "string", "description": "The requirement set's name"},
            "deadline": {
                "type": "object",
                "properties": {
                    "period": {"type": "string"},
                    "starts_on": {"type": "string", "format": "date"},
                    "ends_on": {"type": "string", "format": "date"},
                    "grace_until": {"type": ["string", "null"], "format": "date"},
                },
            },
            "officers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "id",
                        "compliant",
                        "total",
                        "requirements",
                        "records",
                        "plan",
                        "plan_hours",
                        "unmet",
                    ],
                    "properties": {
                        "id": {"type": "string"},
                        "compliant": {"type": "boolean"},
                        "total": {
                            "type": "object",
                            "required": ["required", "done"],
                            "properties": {
                                "required": {"type": "number"},
                                "done": {"type": "number"},
                            },
                        },
                        "requirements": {
                            "description": "One per requirement of the set (category = its "
                            "slug), plus `approved-provider`",
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["category", "required", "done", "missing"],
                                "properties": {
                                    "category": {"type": "string"},
                                    "required": {"type": "number"},
                                    "done": {"type": "number"},
                                    "missing": {"type": "number"},
                                    "name": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                        "records": {
                            "description": "In request order; `counted` leaves out the total",
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["title", "matched_course_id", "score", "counted"],
                                "properties": {
                                    "title": {"type": "string"},
                                    "matched_course_id": {"type": ["integer", "null"]},
                                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                                    "counted": {"type": "array", "items": _ref("PlanHours")},
                                    "approved": {"type": "boolean"},
                                    "hours": {"type": "number"},
                                    "note": {"type": "string"},
                                },
                            },
                        },
                        "plan": {
                            "description": "Approved, valid courses with the fewest extra "
                            "hours, then the fewest courses; never one already taken",
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["course_id", "title", "hours", "url", "counts_toward"],
                                "properties": {
                                    "course_id": {"type": "integer"},
                                    "title": {"type": "string"},
                                    "hours": {"type": "number"},
                                    "url": {"type": "string"},
                                    "counts_toward": {"type": "array", "items": _ref("PlanHours")},
                                },
                            },
                        },
                        "plan_hours": {"type": "number"},
                        "unmet": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["category", "reason"],
                                "properties": {
                                    "category": {"type": "string"},
                                    "reason": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "ReconcileAnswer": {
        "description": "The manifest, a result batch `{key: {result: [...]}}` or a data extension "
        "`{meta, rows}`: W3C Reconciliation API 0.2 (its JSON schemas check these in the tests)",
        "type": "object",
    },
    "SuggestAnswer": {
        "type": "object",
        "required": ["result"],
        "properties": {
            "result": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
            }
        },
    },
}

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
            "application/json": {"schema": _ref("ReconcileAnswer")},
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
                        "application/json": {"schema": _ref("SuggestAnswer")},
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
            "responses": {"200": _json(_ref("Me"), "The token's user"), "401": UNAUTHORIZED},
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
                "200": _json(_ref("CourseList"), "One page; `next` links the following one"),
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
                "content": {"application/json": {"schema": _ref("Decision")}},
            },
            "responses": {
                "200": _json(_ref("ApiCourse"), "The course as decided"),
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
                                {"type": "array", "items": _ref("CatalogRow")},
                                {
                                    "type": "object",
                                    "required": ["courses"],
                                    "properties": {
                                        "courses": {"type": "array", "items": _ref("CatalogRow")}
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
                "200": _json(_ref("ImportResult"), "Dry run: what would be imported"),
                "201": _json(_ref("ImportResult"), "Imported"),
                "400": BAD,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": _error("Unknown provider"),
                "413": _error("The file is too large"),
                "422": _json(_ref("ImportResult"), "Errors: nothing written"),
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
                "content": {"application/json": {"schema": _ref("PlanRequest")}},
            },
            "responses": {
                "200": _json(_ref("PlanResponse"), "Per officer: requirements, records, plan"),
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
