"""Administration of requirement sets (admins only): list, create, edit, audited."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from catalog.admin import bp
from catalog.admin.common import committing, form_errors, jurisdiction_or_404
from catalog.admin.forms import (
    RequirementSetForm,
)
from catalog.extensions import db
from catalog.permissions import roles_required
from catalog.services import requirements

# --- requirement sets -------------------------------------------------------------------------


@bp.get("/requirements")
@roles_required("admin")
def requirement_sets():
    """The served jurisdiction's requirement sets, newest first."""
    sets = requirements.sets_of(db.session, jurisdiction_or_404())
    return render_template("admin/requirement_sets.html", sets=sets)


# The set's own fields on the form, saved as typed (the minimums come as min-<category slug>).
SET_FIELDS = (
    "name",
    "starts_on",
    "ends_on",
    "grace_until",
    "total_hours",
    "approved_provider_min_hours",
    "source_url",
    "notes",
)


@bp.route("/requirements/new", methods=["GET", "POST"], defaults={"set_id": None})
@bp.route("/requirements/<int:set_id>", methods=["GET", "POST"])
@roles_required("admin")
def requirement_set(set_id: int | None):
    """Create or edit a requirement set: its period, totals and a minimum per category
    (requirements.save_set validates, saves and audits)."""
    jurisdiction = jurisdiction_or_404()
    req_set = requirements.get_set(db.session, set_id) if set_id is not None else None
    if set_id is not None and (req_set is None or req_set.jurisdiction_id != jurisdiction.id):
        abort(404, "There is no such requirement set.")
    form = RequirementSetForm(obj=req_set)
    minimums = {r.category_id: r.min_hours for r in (req_set.requirements if req_set else [])}
    if form.validate_on_submit():
        typed = {c.slug: request.form.get(f"min-{c.slug}") or "" for c in jurisdiction.categories}
        values = {name: getattr(form, name).data for name in SET_FIELDS}
        with committing() as outcome:
            req_set = requirements.save_set(
                db.session, jurisdiction, req_set, values, typed, current_user
            )
        if outcome.ok:
            flash(f"Saved {req_set.name}.", "success")
            return redirect(url_for("admin.requirement_sets"))
        for detail in outcome.refused.details:
            flash(detail["message"], "error")
        # The form shows what was typed, not what is stored.
        minimums = {c.id: typed[c.slug].strip() for c in jurisdiction.categories}
        minimums = {cid: text for cid, text in minimums.items() if text}
    elif request.method == "POST":
        form_errors(form)
    return render_template(
        "admin/requirement_set.html",
        form=form,
        req_set=req_set,
        categories=list(jurisdiction.categories),
        minimums=minimums,
    )
