"""Requirement sets (a jurisdiction's periods and the hours each needs): which one is current,
and saving one from /admin (validated, audited). Read from the database, never from constants.
Functions flush, never commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.models import Jurisdiction, Requirement, RequirementSet, User
from catalog.services import audit, requirement_rules
from catalog.services.errors import Invalid

MAX_MIN_HOURS = 1000
_WITH_REQUIREMENTS = (selectinload(RequirementSet.requirements).selectinload(Requirement.category),)


def set_covering(session, jurisdiction_id: int, day: dt.date) -> RequirementSet | None:
    """The jurisdiction's set whose period contains `day` (the latest starting, if several)."""
    return session.scalar(
        select(RequirementSet)
        .where(
            RequirementSet.jurisdiction_id == jurisdiction_id,
            RequirementSet.starts_on <= day,
            RequirementSet.ends_on >= day,
        )
        .order_by(RequirementSet.starts_on.desc())
        .options(*_WITH_REQUIREMENTS)
        .limit(1)
    )


def current_set(
    session, today: dt.date, jurisdiction_id: int | None = None
) -> RequirementSet | None:
    """The one rule for "the current requirement set" (public finder, planner): the set whose
    period contains today (the latest starting, if several); else the latest one that has
    started; else, before any has started, the first one to come. Only the given
    jurisdiction's sets when `jurisdiction_id` is given."""
    mine = (
        (RequirementSet.jurisdiction_id == jurisdiction_id,) if jurisdiction_id is not None else ()
    )
    sets = select(RequirementSet).where(*mine).options(*_WITH_REQUIREMENTS).limit(1)
    started = RequirementSet.starts_on <= today
    newest_first = (RequirementSet.starts_on.desc(), RequirementSet.id.desc())
    found = session.scalar(
        sets.where(started, RequirementSet.ends_on >= today).order_by(*newest_first)
    )
    if found is None:
        found = session.scalar(sets.where(started).order_by(*newest_first))
    if found is None:
        found = session.scalar(sets.order_by(RequirementSet.starts_on, RequirementSet.id))
    return found


def sets_of(session, jurisdiction: Jurisdiction) -> list[RequirementSet]:
    """Every set of the jurisdiction, newest first, with its requirements."""
    return session.scalars(
        select(RequirementSet)
        .where(RequirementSet.jurisdiction_id == jurisdiction.id)
        .options(*_WITH_REQUIREMENTS)
        .order_by(RequirementSet.starts_on.desc())
    ).all()


def get_set(session, set_id: int) -> RequirementSet | None:
    """One set with its requirements, or None."""
    return session.scalar(
        select(RequirementSet).where(RequirementSet.id == set_id).options(*_WITH_REQUIREMENTS)
    )


def snapshot(req_set: RequirementSet) -> dict:
    """The audited form of a set: name, period, total and the minimum per category slug."""
    return {
        "name": req_set.name,
        "starts_on": req_set.starts_on.isoformat() if req_set.starts_on else None,
        "ends_on": req_set.ends_on.isoformat() if req_set.ends_on else None,
        "total_hours": str(req_set.total_hours) if req_set.total_hours is not None else None,
        "minimums": {r.category.slug: str(r.min_hours) for r in req_set.requirements},
    }


def _minimums(jurisdiction: Jurisdiction, raw: dict[str, str]) -> tuple[dict, list[str]]:
    """Category id -> minimum hours from the texts typed per category slug, and the errors."""
    errors, wanted = [], {}
    for category in jurisdiction.categories:
        text = (raw.get(category.slug) or "").strip()
        if not text:
            continue
        try:
            value = Decimal(text)
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite() or value < 0 or value > MAX_MIN_HOURS:
            errors.append(f"{category.name}: the minimum must be a number of hours.")
            continue
        wanted[category.id] = value
    return wanted, errors


def save_set(
    session,
    jurisdiction: Jurisdiction,
    req_set: RequirementSet | None,
    values: dict,
    minimums: dict[str, str],
    by: User,
) -> RequirementSet:
    """Create (req_set None) or edit a set: `values` holds name, starts_on, ends_on, grace_until,
    total_hours, approved_provider_min_hours, source_url, notes; `minimums` the typed minimum
    per category slug (blank: no minimum). Raises Invalid with one detail per problem: a
    minimum that is not a number of hours, a name already used, minimums that cannot fit in the
    total (requirement_rules)."""
    wanted, errors = _minimums(jurisdiction, minimums)
    name = (values.get("name") or "").strip()
    clash = session.scalar(
        select(RequirementSet.id).where(
            RequirementSet.jurisdiction_id == jurisdiction.id,
            RequirementSet.name == name,
            RequirementSet.id != (req_set.id if req_set else -1),
        )
    )
    if clash:
        errors.append(f"A requirement set called {name} already exists.")
    errors += requirement_rules.minimum_problems(
        {c.id: c for c in jurisdiction.categories},
        wanted,
        values.get("total_hours"),
        values.get("approved_provider_min_hours"),
    )
    if errors:
        raise Invalid(errors[0], [{"field": "minimums", "message": e} for e in errors])
    before = snapshot(req_set) if req_set else {}
    if req_set is None:
        req_set = RequirementSet(jurisdiction=jurisdiction)
        session.add(req_set)
    req_set.name = name
    for key in ("starts_on", "ends_on", "grace_until", "total_hours"):
        setattr(req_set, key, values.get(key))
    req_set.approved_provider_min_hours = values.get("approved_provider_min_hours")
    req_set.source_url = (values.get("source_url") or "").strip()
    req_set.notes = (values.get("notes") or "").strip()
    by_category = {r.category_id: r for r in req_set.requirements}
    by_id = {c.id: c for c in jurisdiction.categories}
    for category_id, value in wanted.items():
        if category_id in by_category:
            by_category[category_id].min_hours = value
        else:
            req_set.requirements.append(Requirement(category=by_id[category_id], min_hours=value))
    req_set.requirements[:] = [r for r in req_set.requirements if r.category.id in wanted]
    session.flush()
    audit.record(
        session,
        action="requirements-edit" if before else "requirements-create",
        entity_type="requirementset",
        entity_id=req_set.id,
        user=by,
        before=before,
        after=snapshot(req_set),
    )
    return req_set
