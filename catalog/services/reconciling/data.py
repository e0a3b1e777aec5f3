"""Reconciliation API 0.2 around the queries: manifest, data extension, property proposals,
suggest (entity, type, property) and what a preview shows.

Identifiers: a course is its id ("123"), a category its slug ("de-escalation"), both of the served
jurisdiction. The view renders nothing itself: URLs come from the blueprint.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from rapidfuzz import fuzz, utils
from sqlalchemy import select

from catalog.models import Category, Jurisdiction
from catalog.services.reconciling.courses import course_description
from catalog.services.reconciling.index import course_index
from catalog.services.reconciling.queries import (
    MAX_BATCH,
    QUERY_PROPERTIES,
    TYPES,
    BadRequest,
    TooLarge,
)

__all__ = [
    "EXTEND_PROPERTIES",
    "extend",
    "lookup",
    "manifest",
    "parse_extend",
    "propose_properties",
    "suggest_entities",
    "suggest_properties",
    "suggest_types",
]

BATCH_SIZE = 10
SUGGEST_LIMIT = 10
EXTEND_PROPERTIES = {
    "course": {
        "areas": "Areas (hours in the description)",
        "area_hours": "Area hours (slug:hours;...)",
        "topics": "Mandated topics",
        "hours": "Hours",
        "delivery": "Delivery",
        "provider": "Provider",
        "approved_until": "Approved until",
        "control_number": "Control number",
        "url": "Course page",
    },
    "category": {"kind": "Kind (area or topic)", "name": "Name", "parent": "Counts inside area"},
}


def manifest(urls: dict[str, str], name: str) -> dict:
    """The service manifest; `urls` has root, view, preview, suggest_*, propose and docs."""
    service = urls["root"].rstrip("/")
    return {
        "versions": ["0.2"],
        "name": name,
        "identifierSpace": urls["identifier_space"],
        "schemaSpace": urls["schema_space"],
        **({"documentation": urls["docs"]} if urls.get("docs") else {}),
        "defaultTypes": [{"id": k, "name": v} for k, v in TYPES.items()],
        "view": {"url": urls["view"]},
        "preview": {"url": urls["preview"], "width": 430, "height": 220},
        "suggest": {
            kind: {"service_url": service, "service_path": urls[f"suggest_{kind}"]}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": urls["propose"]},
            "property_settings": [],
        },
        "batchSize": BATCH_SIZE,
    }


def _category(session, jurisdiction: Jurisdiction, slug: str) -> Category | None:
    return session.scalar(
        select(Category).where(Category.jurisdiction_id == jurisdiction.id, Category.slug == slug)
    )


def lookup(session, jurisdiction: Jurisdiction, entity_id: str, *, today=None) -> dict | None:
    """What a preview shows for one identifier: {"kind": "course"|"category", ...} or None."""
    entity_id = (entity_id or "").strip()
    if entity_id.isdigit() and len(entity_id) < 12:
        index = course_index(session, jurisdiction, today=today)
        i = index.by_id.get(int(entity_id))
        return None if i is None else {"kind": "course", **index.courses[i]}
    category = _category(session, jurisdiction, entity_id[:100])
    if category is None:
        return None
    return {
        "kind": "category",
        "slug": category.slug,
        "name": category.name,
        "category_kind": category.kind,
        "description": category.description or "",
        "parent": category.parent.name if category.parent else "",
    }


def parse_extend(raw: str) -> dict:
    """The `extend=` parameter: {"ids": [...], "properties": [{"id"}]}; BadRequest otherwise."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("`extend` is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest('`extend` must be an object {"ids": [...], "properties": [...]}.')
    ids, props = data.get("ids"), data.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest("`extend.ids` must be a list of identifiers (strings).")
    if not isinstance(props, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) for p in props
    ):
        raise BadRequest("`extend.properties` must be a list of {id} objects.")
    if len(ids) > MAX_BATCH * 10 or len(props) > 50:
        raise TooLarge(f"Extend at most {MAX_BATCH * 10} ids and 50 properties per request.")
    return {"ids": ids, "properties": [p["id"] for p in props]}


def _hours(value) -> float | int:
    number = Decimal(value).normalize()
    return int(number) if number == number.to_integral_value() else float(number)


def _course_values(course: dict, prop: str, course_url) -> list[dict]:
    if prop == "areas":
        return [
            {"id": a["slug"], "name": a["name"], "description": f"{_hours(a['hours'])} h"}
            for a in course["areas"]
        ]
    if prop == "area_hours":
        text = ";".join(f"{a['slug']}:{_hours(a['hours'])}" for a in course["areas"])
        return [{"str": text}] if text else []
    if prop == "topics":
        return [{"id": t["slug"], "name": t["name"]} for t in course["topics"]]
    if prop == "hours":
        value = _hours(course["hours"])
        return [{"int": value} if isinstance(value, int) else {"float": value}]
    if prop == "provider":
        return [{"id": course["provider"], "name": course["provider_name"]}]
    if prop == "approved_until":
        until = course["approved_until"]
        return [{"date": f"{until.isoformat()}T00:00:00Z"}] if until else []
    if prop == "url":
        return [{"str": course_url(course["id"])}]
    if prop in ("delivery", "control_number"):
        return [{"str": course[prop]}] if course[prop] else []
    return []


def extend(session, jurisdiction: Jurisdiction, request: dict, course_url, *, today=None) -> dict:
    """Data extension rows `{id: {property: [values]}}` and `meta` for the asked properties."""
    index = course_index(session, jurisdiction, today=today or dt.date.today())
    known = {**EXTEND_PROPERTIES["course"], **EXTEND_PROPERTIES["category"]}
    meta = []
    for prop in request["properties"]:
        entry = {"id": prop, "name": known.get(prop, prop)}
        if prop in ("areas", "topics"):
            entry["type"] = {"id": "category", "name": TYPES["category"]}
        meta.append(entry)
    rows: dict[str, dict] = {}
    for entity_id in request["ids"]:
        values: dict[str, list] = {p: [] for p in request["properties"]}
        i = index.by_id.get(int(entity_id)) if entity_id.isdigit() and len(entity_id) < 12 else None
        if i is not None:
            for prop in request["properties"]:
                values[prop] = _course_values(index.courses[i], prop, course_url)
        else:
            category = _category(session, jurisdiction, entity_id[:100])
            if category is not None:
                found = {
                    "kind": [{"str": category.kind}],
                    "name": [{"str": category.name}],
                    "parent": (
                        [{"id": category.parent.slug, "name": category.parent.name}]
                        if category.parent
                        else []
                    ),
                }
                for prop in request["properties"]:
                    values[prop] = found.get(prop, [])
        rows[entity_id] = values
    return {"meta": meta, "rows": rows}


def propose_properties(kind: str | None, limit: int | None) -> dict:
    """Properties a data extension can fetch for a type (course by default)."""
    kind = kind if kind in EXTEND_PROPERTIES else "course"
    props = [{"id": k, "name": v} for k, v in EXTEND_PROPERTIES[kind].items()]
    if limit is not None and limit > 0:
        props = props[:limit]
    return {"type": kind, "properties": props, **({"limit": limit} if limit else {})}


def _ranked(prefix: str, items: list[tuple[str, str, str]], cursor: int) -> list[dict]:
    """Items (id, name, description) whose name fits the prefix, best first, from `cursor`."""
    wanted = utils.default_process(prefix or "")
    scored = []
    for item_id, name, description in items:
        plain = utils.default_process(name)
        if not wanted:
            score = 0
        elif plain.startswith(wanted) or f" {wanted}" in f" {plain}":
            score = 200 - len(plain) / 1000
        else:
            score = fuzz.partial_ratio(wanted, plain, score_cutoff=80)
            if not score:
                continue
        scored.append((-score, name, item_id, description))
    scored.sort()
    return [
        {"id": i, "name": n, **({"description": d} if d else {})}
        for _, n, i, d in scored[cursor : cursor + SUGGEST_LIMIT]
    ]


def suggest_entities(
    session, jurisdiction: Jurisdiction, prefix: str, kind: str | None, cursor: int, *, today=None
) -> dict:
    """Courses (or, for type=category, categories) whose name fits what was typed so far."""
    prefix = (prefix or "")[:200]
    if kind == "category":
        items = [
            (c.slug, c.name, c.kind)
            for c in session.scalars(
                select(Category)
                .where(Category.jurisdiction_id == jurisdiction.id)
                .order_by(Category.sort_order, Category.id)
            )
        ]
        result = _ranked(prefix, items, cursor)
        notable = {"id": "category", "name": TYPES["category"]}
    else:
        index = course_index(session, jurisdiction, today=today)
        wanted = utils.default_process(prefix)
        items = [
            (str(c["id"]), c["title"], course_description(c))
            for c in index.courses
            if wanted and wanted[:3] in utils.default_process(c["title"])
        ][:5000]
        result = _ranked(prefix, items, cursor)
        notable = {"id": "course", "name": TYPES["course"]}
    for item in result:
        item["notable"] = [notable]
    return {"result": result}


def suggest_types(prefix: str, cursor: int) -> dict:
    """The two types, filtered by prefix."""
    items = [(k, v, "") for k, v in TYPES.items()]
    return {
        "result": _ranked(prefix, items, cursor)
        if prefix
        else [{"id": k, "name": v} for k, v in TYPES.items()][cursor:]
    }


def suggest_properties(prefix: str, cursor: int) -> dict:
    """Query properties (sharpen a match) and extension properties, filtered by prefix."""
    items = {k: v for k, v in QUERY_PROPERTIES.items()}
    for k, v in EXTEND_PROPERTIES["course"].items():
        items.setdefault(k, v)
    listed = [(k, v, "") for k, v in items.items()]
    if not prefix:
        return {
            "result": [{"id": k, "name": v} for k, v, _ in listed][cursor : cursor + SUGGEST_LIMIT]
        }
    by_id = [(k, k.replace("_", " "), v) for k, v in items.items()]
    found = {r["id"]: r for r in _ranked(prefix, by_id, 0) + _ranked(prefix, listed, 0)}
    return {"result": [{"id": i, "name": items[i]} for i in found][cursor : cursor + SUGGEST_LIMIT]}
