"""Administration of requirement sets (admins only): list, create, edit, audited."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.admin import bp
from catalog.admin.common import form_errors, jurisdiction_or_404, record
from catalog.admin.forms import (
    RequirementSetForm,
)
from catalog.extensions import db
from catalog.models import (
    Requirement,
    RequirementSet,
)
from catalog.permissions import roles_required
from catalog.services import requirement_rules

# --- requirement sets -------------------------------------------------------------------------


@bp.get("/requirements")
@roles_required("admin")
def requirement_sets():
    """The served jurisdiction's requirement sets, newest first."""
    jurisdiction = jurisdiction_or_404()
    sets = db.session.scalars(
        select(RequirementSet)
        .where(RequirementSet.jurisdiction_id == jurisdiction.id)
        .options(selectinload(RequirementSet.requirements).selectinload(Requirement.category))
        .order_by(RequirementSet.starts_on.desc())
    ).all()
    return render_template("admin/requirement_sets.html", sets=sets)


def _set_snapshot(req_set: RequirementSet) -> dict:
    return {
        "name": req_set.name,
        "starts_on": req_set.starts_on.isoformat() if req_set.starts_on else None,
        "ends_on": req_set.ends_on.isoformat() if req_set.ends_on else None,
        "total_hours": str(req_set.total_hours) if req_set.total_hours is not None else None,
        "minimums": {r.category.slug: str(r.min_hours) for r in req_set.requirements},
    }


@bp.route("/requirements/new", methods=["GET", "POST"], defaults={"set_id": None})
@bp.route("/requirements/<int:set_id>", methods=["GET", "POST"])
@roles_required("admin")
def requirement_set(set_id: int | None):
    """Create or edit a requirement set: its period, totals and a minimum per category."""
    jurisdiction = jurisdiction_or_404()
    categories = [c for c in jurisdiction.categories]
    req_set = None
    if set_id is not None:
        req_set = db.session.scalar(
            select(RequirementSet)
            .where(RequirementSet.id == set_id)
            .options(selectinload(RequirementSet.requirements).selectinload(Requirement.category))
        )
        if req_set is None:
            abort(404, "There is no such requirement set.")
    form = RequirementSetForm(obj=req_set)
    minimums = {r.category_id: r.min_hours for r in (req_set.requirements if req_set else [])}
    if form.validate_on_submit():
        errors = []
        wanted: dict[int, Decimal] = {}
        for c in categories:
            raw = (request.form.get(f"min-{c.slug}") or "").strip()
            if not raw:
                continue
            try:
                value = Decimal(raw)
            except ArithmeticError:
                value = None
            if value is None or not value.is_finite() or value < 0 or value > 1000:
                errors.append(f"{c.name}: the minimum must be a number of hours.")
                continue
            wanted[c.id] = value
        clash = db.session.scalar(
            select(RequirementSet.id).where(
                RequirementSet.jurisdiction_id == jurisdiction.id,
                RequirementSet.name == form.name.data.strip(),
                RequirementSet.id != (req_set.id if req_set else -1),
            )
        )
        if clash:
            errors.append(f"A requirement set called {form.name.data.strip()} already exists.")
        errors += requirement_rules.minimum_problems(
            {c.id: c for c in categories},
            wanted,
            form.total_hours.data,
            form.approved_provider_min_hours.data,
        )
        if not errors:
            before = _set_snapshot(req_set) if req_set else {}
            if req_set is None:
                req_set = RequirementSet(jurisdiction=jurisdiction)
                db.session.add(req_set)
            req_set.name = form.name.data.strip()
            req_set.starts_on = form.starts_on.data
            req_set.ends_on = form.ends_on.data
            req_set.grace_until = form.grace_until.data
            req_set.total_hours = form.total_hours.data
            req_set.approved_provider_min_hours = form.approved_provider_min_hours.data
            req_set.source_url = (form.source_url.data or "").strip()
            req_set.notes = (form.notes.data or "").strip()
            by_category = {r.category_id: r for r in req_set.requirements}
            by_id = {c.id: c for c in categories}
            for cid, value in wanted.items():
                if cid in by_category:
                    by_category[cid].min_hours = value
                else:
                    req_set.requirements.append(Requirement(category=by_id[cid], min_hours=value))
            req_set.requirements[:] = [r for r in req_set.requirements if r.category.id in wanted]
            db.session.flush()
            record(
                "requirements-edit" if before else "requirements-create",
                req_set,
                before,
                _set_snapshot(req_set),
            )
            db.session.commit()
            flash(f"Saved {req_set.name}.", "success")
            return redirect(url_for("admin.requirement_sets"))
        for error in errors:
            flash(error, "error")
        minimums = {}
        for c in categories:
            raw = (request.form.get(f"min-{c.slug}") or "").strip()
            if raw:
                minimums[c.id] = raw
    elif request.method == "POST":
        form_errors(form)
    return render_template(
        "admin/requirement_set.html",
        form=form,
        req_set=req_set,
        categories=categories,
        minimums=minimums,
    )
