"""Sign in and sign out."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from catalog.auth import bp
from catalog.auth.forms import LoginForm, LogoutForm
from catalog.auth.sessions import is_known_device, is_safe_next, remember_device
from catalog.extensions import db
from catalog.models import User
from catalog.services import signin


def home_for(user) -> str:
    """Where a user lands after signing in: their role's start page."""
    if user.role == "provider":
        return url_for("provider.index")
    if user.role in ("staff", "admin"):
        return url_for("review.queue")
    return url_for("public.index")


# Session keys that survive sign-in (catalog/review/expired.py DRAFT_KEY).
KEPT_ACROSS_SIGN_IN = ("review_draft",)


def _refuse_when_throttled(address: str, email: str) -> None:
    """429 when this address, account or pair has failed too often lately (the configured
    limits; a device that signed in before counts apart)."""
    limits = signin.Limits(
        pair=current_app.config["LOGIN_FAILURE_LIMIT"],
        address=current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"],
        account=current_app.config["LOGIN_ACCOUNT_FAILURE_LIMIT"],
    )
    refused = signin.blocked(
        db.session, address, email, limits, known_device=is_known_device(email)
    )
    if refused:
        db.session.rollback()
        wait = "an hour" if refused == "account" else "a minute"
        abort(429, f"Too many failed sign-ins. Wait {wait} and try again.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password (throttled per address and account)."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = request.remote_addr or "unknown"
        _refuse_when_throttled(address, email)
        user = signin.authenticate(
            db.session,
            email,
            form.password.data,
            current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
        )
        if user is None:
            signin.record_failure(db.session, address, email)
            db.session.commit()
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", form=form), 401
        target = form.next.data
        # A fresh session (and so a fresh CSRF token) for the signed-in user: nothing from
        # before sign-in, fixed by someone else, survives it -- except the text a reviewer typed
        # before the session expired, which only ever refills that reviewer's own form fields.
        kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
        session.clear()
        session.update(kept)
        login_user(user)
        response = redirect(target if is_safe_next(target) else home_for(user))
        remember_device(response, email)
        # Commit last: reading the user after a commit would open a new (on SQLite, write-locked)
        # transaction that lasts until the request ends.
        db.session.commit()
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out and rotate the session nonce, so copies of the old cookie stop working."""
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400, "Sign out needs the form's security token.")
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        user.rotate_session()
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("public.index"))
