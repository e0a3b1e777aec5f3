"""Administration (admins only): taxonomy with change preview, requirement sets, providers, users
and API tokens. Every change writes an audit entry."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from catalog.admin import bp
from catalog.admin.common import form_errors, jurisdiction_or_404, record
from catalog.admin.forms import (
    AbbreviationForm,
    CategoryForm,
    ConfirmForm,
    KeywordForm,
    NewCategoryForm,
)
from catalog.extensions import db
from catalog.models import (
    Abbreviation,
    Category,
    Jurisdiction,
    Keyword,
)
from catalog.permissions import roles_required
from catalog.services import category_edits, taxonomy_edits
from catalog.services.errors import Invalid


@bp.get("/", strict_slashes=False)  # /review, /provider, /admin answer the page, not 308
@roles_required("admin")
def index():
    """Every jurisdiction's categories, phrases and abbreviations."""
    jurisdictions = db.session.scalars(
        select(Jurisdiction).options(
            selectinload(Jurisdiction.categories).selectinload(Category.keywords),
            selectinload(Jurisdiction.abbreviations),
        )
    ).all()
    return render_template("admin/index.html", jurisdictions=jurisdictions)


# --- categories, keywords, abbreviations --------------------------------------------------------


def _category(category_id: int) -> Category:
    category = db.session.scalar(
        select(Category)
        .where(Category.id == category_id)
        .options(selectinload(Category.keywords), selectinload(Category.jurisdiction))
    )
    if category is None:
        abort(404, "There is no such category.")
    return category


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@roles_required("admin")
def category(category_id: int):
    """Show a category with its phrases and uses; on POST rename it or change its description."""
    category = _category(category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        before = {"name": category.name, "description": category.description}
        category.name = form.name.data.strip()
        category.description = (form.description.data or "").strip()
        record(
            "category-edit",
            category,
            before,
            {"name": category.name, "description": category.description},
        )
        db.session.commit()
        flash(f"Saved {category.name}.", "success")
        return redirect(url_for("admin.category", category_id=category.id))
    if request.method == "POST":
        form_errors(form)
    return render_template(
        "admin/category.html",
        category=category,
        form=form,
        keyword_form=KeywordForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        uses=category_edits.category_uses(db.session, category.jurisdiction, category),
    )


@bp.route("/categories/new", methods=["GET", "POST"])
@roles_required("admin")
def new_category():
    """Add an area or topic to the served jurisdiction, then re-suggest the pending courses."""
    jurisdiction = jurisdiction_or_404()
    form = NewCategoryForm()
    form.default_area.choices = [SelectChoice("", "—")] + [
        SelectChoice(c.slug, c.name) for c in jurisdiction.categories if c.kind == "area"
    ]
    if form.validate_on_submit():
        change = {
            "op": "add-category",
            "slug": form.slug.data.strip(),
            "kind": form.kind.data,
            "name": " ".join(form.name.data.split()),
            "description": (form.description.data or "").strip(),
            "default_area": form.default_area.data or None,
            "live_only": bool(form.live_only.data),
            "sort_order": form.sort_order.data,
        }
        try:
            count = _apply_and_resuggest(jurisdiction, change, jurisdiction_or_404)
        except Invalid as exc:
            db.session.rollback()
            for detail in exc.details or [{"field": "slug", "message": exc.message}]:
                getattr(form, detail["field"], form.slug).errors.append(detail["message"])
        except IntegrityError:  # created by someone else meanwhile (unique slug)
            db.session.rollback()
            form.slug.errors.append(f"The slug {change['slug']} is already used.")
        else:
            created = db.session.scalar(
                select(Category).where(
                    Category.jurisdiction_id == jurisdiction.id, Category.slug == change["slug"]
                )
            )
            flash(
                f"Created {created.kind} {created.name}. Add its phrases so the engine can "
                f"suggest it. Re-suggested {count} pending courses.",
                "success",
            )
            return redirect(url_for("admin.category", category_id=created.id))
    return render_template("admin/new_category.html", form=form, jurisdiction=jurisdiction)


def _apply_and_resuggest(jurisdiction: Jurisdiction, change: dict, reload) -> int:
    """Apply a taxonomy change, re-suggest the pending courses with the changed taxonomy (as
    `reload()` reads it back) and commit; how many courses were re-suggested."""
    taxonomy_edits.apply_change(db.session, jurisdiction, change, current_user)
    count = taxonomy_edits.resuggest_pending(db.session, reload())
    db.session.commit()
    return count


def _preview_or_save(
    change: dict,
    step: str,
    back: str,
    hidden: dict,
    done: str | None = None,
    label: str = "",
    jurisdiction_id: int | None = None,
):
    """Show the preview page (step != save) or apply, re-suggest and commit (step == save).

    A refused change goes back to `back`; a saved one to `done` (default `back`). `label` names
    the preview's confirm button. The change applies to the jurisdiction `jurisdiction_id` (the
    edited category's: the index lists every jurisdiction's), else to the one the site serves."""

    def _target() -> Jurisdiction:
        if jurisdiction_id is None:
            return jurisdiction_or_404()
        return db.session.get(Jurisdiction, jurisdiction_id)

    jurisdiction = _target()
    if step != "save":
        return _preview(jurisdiction, change, back, hidden, label)
    try:
        count = _apply_and_resuggest(jurisdiction, change, _target)
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    except IntegrityError:  # a row saved meanwhile now needs what the change removes, or clashes
        db.session.rollback()
        flash("Someone changed this meanwhile: nothing was saved. Reload and try again.", "error")
        return redirect(back)
    flash(
        f"Saved: {taxonomy_edits.describe(change)}. Re-suggested {count} pending courses.",
        "success",
    )
    return redirect(done or back)


def _preview(jurisdiction: Jurisdiction, change: dict, back: str, hidden: dict, label: str):
    """The preview page of a change (the pending courses it would move, its warnings), or back
    to `back` with the reason when the change is refused."""
    try:
        rows = taxonomy_edits.preview(db.session, jurisdiction, change)
    except Invalid as exc:
        flash(exc.message, "error")
        return redirect(back)
    return render_template(
        "admin/preview.html",
        change=change,
        description=taxonomy_edits.describe(change),
        rows=rows,
        hidden=hidden,
        action_url=request.path,
        back=back,
        categories={c.slug: c for c in jurisdiction.categories},
        confirm_label=label or "Save the change",
        warnings=taxonomy_edits.warnings(db.session, jurisdiction, change),
    )


@bp.post("/categories/<int:category_id>/keywords")
@roles_required("admin")
def add_keyword(category_id: int):
    """Add a phrase to a category: preview its effect on pending suggestions, then save."""
    category = _category(category_id)
    form = KeywordForm()
    back = url_for("admin.category", category_id=category.id)
    if not form.validate_on_submit():
        form_errors(form)
        return redirect(back)
    phrase = " ".join(form.phrase.data.split())
    change = {
        "op": "add-keyword",
        "category": category.slug,
        "weight": form.weight.data,
        "phrase": phrase,
    }
    return _preview_or_save(
        change,
        form.step.data,
        back,
        {"weight": form.weight.data, "phrase": phrase},
        jurisdiction_id=category.jurisdiction_id,
    )


@bp.post("/categories/<int:category_id>/delete")
@roles_required("admin")
def delete_category(category_id: int):
    """Delete an unused category: a preview of the re-suggestion first, then step=save."""
    category = _category(category_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    change = {
        "op": "remove-category",
        "category": category.slug,
        "kind": category.kind,
        "name": category.name,
    }
    back = url_for("admin.category", category_id=category.id)
    return _preview_or_save(
        change,
        form.step.data,
        back,
        {},
        done=url_for("admin.index"),
        label="Delete it",
        jurisdiction_id=category.jurisdiction_id,
    )


@bp.post("/keywords/<int:keyword_id>/delete")
@roles_required("admin")
def delete_keyword(keyword_id: int):
    """Remove a phrase: preview its effect on pending suggestions, then save."""
    keyword = db.session.get(Keyword, keyword_id)
    if keyword is None:
        abort(404, "That phrase no longer exists.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    change = {
        "op": "remove-keyword",
        "category": keyword.category.slug,
        "weight": keyword.weight,
        "phrase": keyword.phrase,
    }
    back = url_for("admin.category", category_id=keyword.category_id)
    return _preview_or_save(
        change, form.step.data, back, {}, jurisdiction_id=keyword.category.jurisdiction_id
    )


@bp.get("/abbreviations")
@roles_required("admin")
def abbreviations():
    """The served jurisdiction's abbreviations and the form to add one."""
    jurisdiction = jurisdiction_or_404()
    rows = db.session.scalars(
        select(Abbreviation)
        .where(Abbreviation.jurisdiction_id == jurisdiction.id)
        .order_by(Abbreviation.abbreviation)
    ).all()
    return render_template(
        "admin/abbreviations.html",
        rows=rows,
        form=AbbreviationForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.post("/abbreviations")
@roles_required("admin")
def add_abbreviation():
    """Add an abbreviation: preview its effect on pending suggestions, then save."""
    form = AbbreviationForm()
    back = url_for("admin.abbreviations")
    if not form.validate_on_submit():
        form_errors(form)
        return redirect(back)
    abbr = form.abbreviation.data.strip()
    expansion = " ".join(form.expansion.data.split())
    change = {"op": "add-abbreviation", "abbreviation": abbr, "expansion": expansion}
    return _preview_or_save(
        change, form.step.data, back, {"abbreviation": abbr, "expansion": expansion}
    )


@bp.post("/abbreviations/<int:abbreviation_id>/delete")
@roles_required("admin")
def delete_abbreviation(abbreviation_id: int):
    """Remove an abbreviation: preview its effect on pending suggestions, then save."""
    row = db.session.get(Abbreviation, abbreviation_id)
    if row is None:
        abort(404, "That abbreviation no longer exists.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    change = {
        "op": "remove-abbreviation",
        "abbreviation": row.abbreviation,
        "expansion": row.expansion,
    }
    return _preview_or_save(change, form.step.data, url_for("admin.abbreviations"), {})
