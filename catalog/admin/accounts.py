"""Administration of providers, users and API tokens (admins only); users and tokens go
through catalog.services.accounts, which checks the policy and audits."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from catalog.admin import bp
from catalog.admin.common import form_errors, record
from catalog.admin.forms import (
    ConfirmForm,
    PasswordForm,
    ProviderForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from catalog.extensions import db
from catalog.models import (
    ApiToken,
    Provider,
    User,
)
from catalog.permissions import roles_required
from catalog.services import accounts
from catalog.services.accounts import issue_token, password_problem, token_expiry
from catalog.services.errors import Invalid

# --- providers --------------------------------------------------------------------------------


@bp.get("/providers")
@roles_required("admin")
def providers():
    """Every provider, by name."""
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
    """Create or edit a provider (audited)."""
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
            record(
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
    """Every user by role, and the form to add one."""
    rows = db.session.scalars(
        select(User).options(selectinload(User.provider)).order_by(User.role, User.email)
    ).all()
    form = UserForm(formdata=None)
    form.provider_id.choices = _provider_choices()
    return render_template("admin/users.html", rows=rows, form=form)


@bp.post("/users")
@roles_required("admin")
def create_user():
    """Create a user through the accounts service (policy checked, audited)."""
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
        form_errors(form)
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
    """Show a user; on POST change role, provider and active flag."""
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
            record("user-edit", user, before, _user_snapshot(user))
            db.session.commit()
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    elif request.method == "POST":
        form_errors(form)
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
    """Set a new password for a user and sign their old sessions out."""
    user = _user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, user.email)
        if problem:
            flash(f"The password {problem}.", "error")
        else:
            user.set_password(form.password.data)
            user.rotate_session()
            record("user-password-reset", user, {}, {"email": user.email})
            db.session.commit()
            flash(
                f"New password set for {user.email}; their old sessions are signed out.", "success"
            )
    else:
        form_errors(form)
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/tokens")
@roles_required("admin")
def create_token(user_id: int):
    """Issue an API token (audited); the user page shows it once."""
    user = _user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        form_errors(form)
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
    record("token-create", row, {}, {"user": user.email, "prefix": row.prefix, "name": row.name})
    db.session.commit()
    # Post/redirect/get: the user page shows the token once (then forgets it), so reloading it
    # never creates a second token, and its form is filled from the saved user, not this POST.
    session[NEW_TOKEN_KEY] = {"user_id": user.id, "token": plain}
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke_token(token_id: int):
    """Revoke an API token (after the confirm form), audited."""
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
