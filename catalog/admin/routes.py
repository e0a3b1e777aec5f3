"""Administration (admins only): taxonomy with change preview, requirement sets, providers, users
and API tokens. Every change writes an audit entry."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from catalog.admin import bp
from catalog.admin.forms import (
    AbbreviationForm,
    CategoryForm,
    ConfirmForm,
    KeywordForm,
    NewCategoryForm,
    PasswordForm,
    ProviderForm,
    RequirementSetForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from catalog.extensions import db
from catalog.models import (
    Abbreviation,
    ApiToken,
    Category,
    Jurisdiction,
    Keyword,
    Provider,
    Requirement,
    RequirementSet,
    User,
)
from catalog.permissions import roles_required
from catalog.services import accounts, audit, category_edits, requirement_rules, taxonomy_edits
from catalog.services.accounts import issue_token, password_problem, token_expiry
from catalog.services.errors import Invalid, NotFound
from catalog.serving import served


def _jurisdiction() -> Jurisdiction:
    try:
        return served()
    except NotFound as exc:
        abort(404, exc.message)


def _record(action: str, entity, before=None, after=None, note: str = "") -> None:
    audit.record(
        db.session,
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        user=current_user,
        before=before,
        after=after,
        note=note,
    )


def _form_errors(form) -> None:
    for name, errors in form.errors.items():
        label = getattr(getattr(form, name, None), "label", None)
        for error in errors:
            flash(f"{label.text if label else name}: {error}", "error")


@bp.get("/", strict_slashes=False)  # /review, /provider, /admin answer the page, not 308
@roles_required("admin")
def index():
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
    category = _category(category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        before = {"name": category.name, "description": category.description}
        category.name = form.name.data.strip()
        category.description = (form.description.data or "").strip()
        _record(
            "category-edit",
            category,
            before,
            {"name": category.name, "description": category.description},
        )
        db.session.commit()
        flash(f"Saved {category.name}.", "success")
        return redirect(url_for("admin.category", category_id=category.id))
    if request.method == "POST":
        _form_errors(form)
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
    jurisdiction = _jurisdiction()
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
            count = _apply_and_resuggest(jurisdiction, change, _jurisdiction)
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
            return _jurisdiction()
        return db.session.get(Jurisdiction, jurisdiction_id)

    jurisdiction = _target()
    if step != "save":
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


@bp.post("/categories/<int:category_id>/keywords")
@roles_required("admin")
def add_keyword(category_id: int):
    category = _category(category_id)
    form = KeywordForm()
    back = url_for("admin.category", category_id=category.id)
    if not form.validate_on_submit():
        _form_errors(form)
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
    jurisdiction = _jurisdiction()
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
    form = AbbreviationForm()
    back = url_for("admin.abbreviations")
    if not form.validate_on_submit():
        _form_errors(form)
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


# --- requirement sets -------------------------------------------------------------------------


@bp.get("/requirements")
@roles_required("admin")
def requirement_sets():
    jurisdiction = _jurisdiction()
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
    jurisdiction = _jurisdiction()
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
            _record(
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
        _form_errors(form)
    return render_template(
        "admin/requirement_set.html",
        form=form,
        req_set=req_set,
        categories=categories,
        minimums=minimums,
    )


# --- providers --------------------------------------------------------------------------------


@bp.get("/providers")
@roles_required("admin")
def providers():
    rows = db.session.scalars(select(Provider).order_by(Provider.name)).all()
    return render_template("admin/providers.html", rows=rows)


def _provider_snapshot(p: Provider) -> dict:
    return {
        k: getattr(p, k)
        for k in ("slug", "name", "kind", "licence_number", "approved_provider", "url")
    }


@bp.route("/providers/new", methods=["GET", "POST"], defaults={"provider_id": None})
@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
@roles_required("admin")
def provider(provider_id: int | None):
    row = db.session.get(Provider, provider_id) if provider_id is not None else None
    if provider_id is not None and row is None:
        abort(404, "There is no such provider.")
    form = ProviderForm(obj=row)
    if form.validate_on_submit():
        slug = form.slug.data.strip()
        clash = db.session.scalar(
            select(Provider.id).where(Provider.slug == slug, Provider.id != (row.id if row else -1))
        )
        if clash:
            form.slug.errors.append(f"The slug {slug} is already used.")
        else:
            before = _provider_snapshot(row) if row else {}
            if row is None:
                row = Provider()
                db.session.add(row)
            row.slug = slug
            row.name = form.name.data.strip()
            row.kind = form.kind.data
            row.licence_number = (form.licence_number.data or "").strip()
            row.approved_provider = bool(form.approved_provider.data)
            row.url = (form.url.data or "").strip()
            row.contact_email = (form.contact_email.data or "").strip()
            db.session.flush()
            _record(
                "provider-edit" if before else "provider-create",
                row,
                before,
                _provider_snapshot(row),
            )
            db.session.commit()
            flash(f"Saved provider {row.name}.", "success")
            return redirect(url_for("admin.providers"))
    return render_template("admin/provider.html", form=form, row=row)


# --- users and tokens -------------------------------------------------------------------------


def _provider_choices():
    return [SelectChoice("0", "—")] + [
        SelectChoice(str(p.id), p.name)
        for p in db.session.scalars(select(Provider).order_by(Provider.name))
    ]


def _user_snapshot(u: User) -> dict:
    return {
        "email": u.email,
        "role": u.role,
        "provider_id": u.provider_id,
        "active": u.active,
    }


def _binding_problem(role: str, provider_id: int) -> str | None:
    if role == "provider" and not provider_id:
        return "A provider user must belong to a provider."
    if role != "provider" and provider_id:
        return "Only provider users belong to a provider."
    if provider_id and db.session.get(Provider, provider_id) is None:
        return "Unknown provider."
    return None


@bp.get("/users")
@roles_required("admin")
def users():
    rows = db.session.scalars(
        select(User).options(selectinload(User.provider)).order_by(User.role, User.email)
    ).all()
    form = UserForm(formdata=None)
    form.provider_id.choices = _provider_choices()
    return render_template("admin/users.html", rows=rows, form=form)


@bp.post("/users")
@roles_required("admin")
def create_user():
    form = UserForm()
    form.provider_id.choices = _provider_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                form.email.data,
                form.role.data,
                form.provider_id.data or None,
                form.password.data or "",
                current_user,
            )
        except Invalid as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Created {user.role} user {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    else:
        _form_errors(form)
    return redirect(url_for("admin.users"))


NEW_TOKEN_KEY = "admin_new_token"


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "There is no such user.")
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    user = _user(user_id)
    form = UserEditForm(obj=user)
    form.provider_id.choices = _provider_choices()
    if request.method == "GET":
        form.provider_id.data = user.provider_id or 0
    if form.validate_on_submit():
        problem = _binding_problem(form.role.data, form.provider_id.data)
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            problem = "You cannot remove your own admin role or deactivate yourself."
        if problem:
            flash(problem, "error")
        else:
            before = _user_snapshot(user)
            user.role = form.role.data
            user.provider_id = form.provider_id.data or None
            if user.active and not form.active.data:
                user.rotate_session()  # signs the user out everywhere
            user.active = bool(form.active.data)
            _record("user-edit", user, before, _user_snapshot(user))
            db.session.commit()
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    elif request.method == "POST":
        _form_errors(form)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ).all()
    new_token = None
    if request.method == "GET":
        made = session.pop(NEW_TOKEN_KEY, None) or {}
        new_token = made.get("token") if made.get("user_id") == user.id else None
    page = render_template(
        "admin/user.html",
        user=user,
        form=form,
        password_form=PasswordForm(formdata=None),
        token_form=TokenForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        tokens=tokens,
        new_token=new_token,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int):
    user = _user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, user.email)
        if problem:
            flash(f"The password {problem}.", "error")
        else:
            user.set_password(form.password.data)
            user.rotate_session()
            _record("user-password-reset", user, {}, {"email": user.email})
            db.session.commit()
            flash(
                f"New password set for {user.email}; their old sessions are signed out.", "success"
            )
    else:
        _form_errors(form)
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/tokens")
@roles_required("admin")
def create_token(user_id: int):
    user = _user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("admin.user", user_id=user.id))
    if not user.active:
        flash("The user is deactivated: activate them before giving them a token.", "error")
        return redirect(url_for("admin.user", user_id=user.id))
    row, plain = issue_token(
        db.session,
        user,
        (form.name.data or "api").strip(),
        token_expiry(current_app.config["API_TOKEN_DAYS"]),
    )
    _record("token-create", row, {}, {"user": user.email, "prefix": row.prefix, "name": row.name})
    db.session.commit()
    # Post/redirect/get: the user page shows the token once (then forgets it), so reloading it
    # never creates a second token, and its form is filled from the saved user, not this POST.
    session[NEW_TOKEN_KEY] = {"user_id": user.id, "token": plain}
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None:
        abort(404, "There is no such token.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    if row.revoked_at is None:
        accounts.revoke_token(db.session, current_user, row.id)
        db.session.commit()
        flash(f"Revoked token {row.prefix}…", "success")
    return redirect(url_for("admin.user", user_id=row.user_id))
