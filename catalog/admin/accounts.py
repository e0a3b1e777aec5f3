"""Administration of providers, users and API tokens (admins only); users and tokens go
through catalog.services.accounts, which checks the policy and audits."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from catalog.admin import bp
from catalog.admin.common import committing, field_errors, form_errors
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
from catalog.services.accounts import token_expiry

# The provider form's fields the accounts service saves.
PROVIDER_VALUES = (*accounts.PROVIDER_FIELDS, "contact_email")

# --- providers --------------------------------------------------------------------------------


@bp.get("/providers")
@roles_required("admin")
def providers():
    """Every provider, by name."""
    rows = db.session.scalars(select(Provider).order_by(Provider.name)).all()
    return render_template("admin/providers.html", rows=rows)


@bp.route("/providers/new", methods=["GET", "POST"], defaults={"provider_id": None})
@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
@roles_required("admin")
def provider(provider_id: int | None):
    """Create or edit a provider through the accounts service (audited)."""
    row = db.session.get(Provider, provider_id) if provider_id is not None else None
    if provider_id is not None and row is None:
        abort(404, "There is no such provider.")
    form = ProviderForm(obj=row)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in PROVIDER_VALUES}
        with committing() as outcome:
            row = accounts.save_provider(db.session, row, values, current_user)
        if outcome.ok:
            flash(f"Saved provider {row.name}.", "success")
            return redirect(url_for("admin.providers"))
        field_errors(form, outcome.refused)
    return render_template("admin/provider.html", form=form, row=row)


# --- users and tokens -------------------------------------------------------------------------


def _provider_choices():
    return [SelectChoice("0", "—")] + [
        SelectChoice(str(p.id), p.name)
        for p in db.session.scalars(select(Provider).order_by(Provider.name))
    ]


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
        with committing() as outcome:
            user = accounts.create_user(
                db.session,
                form.email.data,
                form.role.data,
                form.provider_id.data or None,
                form.password.data or "",
                current_user,
            )
        if outcome.ok:
            flash(f"Created {user.role} user {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
        flash(outcome.refused.message, "error")
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
    """Show a user; on POST change role, provider and active flag (accounts service, audited)."""
    user = _user(user_id)
    form = UserEditForm(obj=user)
    form.provider_id.choices = _provider_choices()
    if request.method == "GET":
        form.provider_id.data = user.provider_id or 0
    if form.validate_on_submit():
        with committing() as outcome:
            accounts.update_user(
                db.session,
                user,
                form.role.data,
                form.provider_id.data,
                form.active.data,
                current_user,
            )
        if outcome.ok:
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
        flash(outcome.refused.message, "error")
    elif request.method == "POST":
        form_errors(form)
    return _user_page(user, form)


def _user_page(user: User, form: UserEditForm):
    """The user page: the edit form, the password and token forms, the user's tokens and (on
    the GET right after one was made, once) the new token; never cached."""
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
    """Set a new password for a user and sign their old sessions out (accounts service)."""
    user = _user(user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        form_errors(form)
        return redirect(url_for("admin.user", user_id=user.id))
    with committing() as outcome:
        accounts.reset_password(db.session, user, form.password.data, current_user)
    if outcome.ok:
        flash(f"New password set for {user.email}; their old sessions are signed out.", "success")
    else:
        flash(outcome.refused.message, "error")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/tokens")
@roles_required("admin")
def create_token(user_id: int):
    """Issue an API token through the accounts service (audited); the user page shows it once."""
    user = _user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        form_errors(form)
        return redirect(url_for("admin.user", user_id=user.id))
    expires_at = token_expiry(current_app.config["API_TOKEN_DAYS"])
    with committing() as outcome:
        _row, plain = accounts.create_token(
            db.session, user, form.name.data, expires_at, current_user
        )
    if not outcome.ok:
        flash(outcome.refused.message, "error")
        return redirect(url_for("admin.user", user_id=user.id))
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
