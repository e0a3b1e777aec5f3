"""The OpenAPI document's component schemas (`#/components/schemas/...`), one entry per shape the
JSON API answers with; catalog/api/openapi_spec.py says which operation uses which.
"""

from __future__ import annotations


def schema_ref(name: str) -> dict:
    """A JSON reference to one of the component schemas below."""
    return {"$ref": f"#/components/schemas/{name}"}


def _slug_hours() -> dict:
    return {
        "type": "object",
        "required": ["slug", "hours"],
        "properties": {"slug": {"type": "string"}, "hours": {"type": ["string", "null"]}},
    }


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
            "courses": {"type": "array", "items": schema_ref("ApiCourse")},
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
                                    "counted": {"type": "array", "items": schema_ref("PlanHours")},
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
                                    "counts_toward": {
                                        "type": "array",
                                        "items": schema_ref("PlanHours"),
                                    },
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
