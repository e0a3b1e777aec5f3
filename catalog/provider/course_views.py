"""Provider pages around its own courses: the CSV of its courses with POST's decisions,
withdrawing a course still waiting for review, its own API tokens, and the catalog format
(templates to download and the JSON shape; public, so a provider can prepare before it has an
account)."""

from __future__ import annotations

import csv
import io
import json

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from catalog.extensions import db
from catalog.models import Provider
from catalog.permissions import roles_required
from catalog.provider import bp
from catalog.provider.forms import ActionForm, TokenForm
from catalog.public.exports import neutralise
from catalog.services import catalog_templates, provider_courses, provider_tokens
from catalog.services.accounts import token_expiry
from catalog.services.errors import ServiceError
from catalog.services.suggesting import default_jurisdiction

NEW_TOKEN_KEY = "provider_new_token"


def _own_provider() -> Provider:
    provider = db.session.get(Provider, current_user.provider_id)
    if provider is None:
        abort(404)
    return provider


@bp.get("/courses.csv")
@roles_required("provider")
def courses_csv():
    """Every course of the signed-in provider with POST's decision on it, as CSV."""
    provider = _own_provider()

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(provider_courses.EXPORT_HEADER)
    for row in provider_courses.export_rows(db.session, provider):
        writer.writerow([neutralise(v) for v in row])
    body = "\ufeff" + out.getvalue()
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{provider.slug}-courses.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/courses/<int:course_id>/withdraw")
@roles_required("provider")
def withdraw_course(course_id: int):
    """Take a pending course out of the review queue."""
    provider = _own_provider()
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    version = request.form.get("version", type=int)
    try:
        course = provider_courses.withdraw_course(
            db.session, provider, course_id, current_user, version
        )
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("provider.edit_course", course_id=course_id))
    db.session.commit()
    flash(
        f"“{course.title}” was withdrawn: POST will not review it. "
        "Send it for review again whenever you like.",
        "success",
    )
    return redirect(url_for("provider.edit_course", course_id=course.id))


@bp.post("/courses/<int:course_id>/resubmit")
@roles_required("provider")
def resubmit_course(course_id: int):
    """Send a withdrawn course back to the review queue."""
    provider = _own_provider()
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    try:
        course = provider_courses.resubmit_course(db.session, provider, course_id, current_user)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("provider.edit_course", course_id=course_id))
    db.session.commit()
    flash(f"“{course.title}” was sent to POST for review again.", "success")
    return redirect(url_for("provider.edit_course", course_id=course.id))


@bp.get("/tokens")
@roles_required("provider")
def tokens():
    """The provider user's own API tokens; a token just created is shown once, here."""
    new_token = session.pop(NEW_TOKEN_KEY, None)
    page = render_template(
        "provider/tokens.html",
        tokens=provider_tokens.list_tokens(db.session, current_user),
        form=TokenForm(formdata=None),
        action_form=ActionForm(formdata=None),
        new_token=new_token,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/tokens")
@roles_required("provider")
def create_token():
    """Create a token, then redirect (reloading the page never makes a second one)."""
    form = TokenForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("provider.tokens"))
    try:
        _row, plain = provider_tokens.create_token(
            db.session,
            current_user,
            form.name.data or "",
            token_expiry(current_app.config["API_TOKEN_DAYS"]),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("provider.tokens"))
    db.session.commit()
    session[NEW_TOKEN_KEY] = plain  # shown by the next GET only, then gone
    return redirect(url_for("provider.tokens"))


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("provider")
def revoke_token(token_id: int):
    """Revoke one of the user's own tokens."""
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    try:
        row = provider_tokens.revoke_token(db.session, current_user, token_id)
    except ServiceError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(f"Revoked token {row.prefix}…; programs using it can no longer sign in.", "success")
    return redirect(url_for("provider.tokens"))


def _categories():
    return catalog_templates.categories(db.session, default_jurisdiction(db.session))


@bp.get("/format")
def catalog_format():
    """How a catalog file or API payload is laid out, with templates to download."""
    areas, topics = _categories()
    example = catalog_templates.json_example(areas, topics)
    return render_template(
        "provider/format.html",
        fields=catalog_templates.field_help(areas, topics),
        areas=areas,
        topics=topics,
        deliveries=catalog_templates.DELIVERY_VALUES,
        json_example=json.dumps(example, indent=2),
    )


@bp.get("/template.csv")
def template_csv():
    """A CSV template with the header row and one example course."""
    body = catalog_templates.template_csv(*_categories())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="catalog-template.csv"'},
    )


@bp.get("/template.xlsx")
def template_xlsx():
    """An Excel template: the courses sheet, a sheet explaining each column, the categories."""
    body = catalog_templates.template_xlsx(*_categories())
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="catalog-template.xlsx"'},
    )
