"""Sign in and sign out."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from catalog.auth import bp
from catalog.auth.forms import LoginForm, LogoutForm
from catalog.auth.sessions import failure_keys, is_safe_next, record_failure, too_many_failures
from catalog.extensions import db
from catalog.models import User


def home_for(user) -> str:
    if user.role == "provider":
        return url_for("provider.index")
    if user.role in ("staff", "admin"):
        return url_for("review.queue")
    return url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        keys = failure_keys(request.remote_addr or "unknown", email)
        limit = current_app.config["LOGIN_FAILURE_LIMIT"]
        if too_many_failures(keys, limit):
            abort(429, "Too many failed sign-ins. Wait a minute and try again.")
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None or not user.active or not user.check_password(form.password.data):
            record_failure(keys)
            db.session.commit()
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        target = form.next.data
        return redirect(target if is_safe_next(target) else home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
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
