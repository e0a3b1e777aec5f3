"""Provider pages around its own courses: adding or editing one course (and the live
suggestion as the user types), the CSV of its courses with POST's decisions,
withdrawing a course still waiting for review, its own API tokens, and the catalog format
(templates to download and the JSON shape; public, so a provider can prepare before it has an
account)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.extensions import db
from catalog.models import (
    Course,
    CourseCategory,
    Provider,
)
from catalog.models.types import format_hours
from catalog.permissions import check_provider_access, roles_required
from catalog.provider import bp
from catalog.provider.forms import (
    ActionForm,
    TokenForm,
    course_form,
)
from catalog.provider.presenting import (
    course_suggestion_view,
    highlight,
    suggestion_view,
)
from catalog.public.exports import neutralise
from catalog.services import catalog_templates, provider_courses, provider_tokens, revisions
from catalog.services.accounts import token_expiry
from catalog.services.errors import Invalid, ServiceError
from catalog.services.imports import direct
from catalog.services.suggesting import course_input, get_engine
from catalog.serving import import_context, served

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
    return catalog_templates.categories(db.session, served())


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


# -- one course at a time -----------------------------------------------------------------------


def _course_form_for(course: Course | None):
    ctx = import_context()
    areas = sorted(ctx.areas.values(), key=lambda c: c.sort_order)
    topics = sorted(ctx.topics.values(), key=lambda c: c.sort_order)
    form_class = course_form(areas, topics)
    form = form_class()
    if course is not None and request.method == "GET":
        form.title.data = course.title
        form.provider_code.data = course.provider_code or ""
        form.hours.data = format_hours(course.hours)
        form.delivery.data = course.delivery
        submitted = revisions.submitted_fields(course)  # a waiting change, else the course's
        form.description.data = submitted["description"]
        form.objectives.data = submitted["objectives"]
        form.url.data = submitted["url"]
        proposed = [c for c in course.categories if c.source == "proposed"]
        form.topics.data = [c.category.slug for c in proposed if c.category.kind != "area"]
        for c in proposed:
            if c.category.kind == "area" and c.hours is not None:
                getattr(form, f"area__{c.category.slug}").data = format_hours(c.hours)
    return form, areas


def _typed(form, areas) -> dict:
    """The course form as the text fields direct.save_course reads (area hours "slug:h;...")."""
    return {
        "title": form.title.data or "",
        "provider_code": (form.provider_code.data or "").strip(),
        "hours": (form.hours.data or "").strip(),
        "delivery": form.delivery.data or "",
        "description": (form.description.data or "").strip(),
        "objectives": (form.objectives.data or "").strip(),
        "url": (form.url.data or "").strip(),
        "area_hours": ";".join(
            f"{a.slug}:{getattr(form, f'area__{a.slug}').data.strip()}"
            for a in areas
            if (getattr(form, f"area__{a.slug}").data or "").strip()
        ),
        "topics": ";".join(form.topics.data or []),
    }


def _show_refusal(form, exc: Invalid) -> None:
    """Each problem under the field it names; flashed when no field of the form shows it."""
    for detail in exc.details:
        name = detail.get("field")
        target = getattr(form, name, None) if name != "area_hours" else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, detail["message"]]
        else:
            flash(detail["message"], "error")


SAVED_MESSAGES = {
    "new": "Course saved and sent to POST for review.",
    "changed": "Changes saved; the course goes back to POST for review.",
    "unchanged": "Nothing changed.",
}


def _flash_saved(saved: Course, change: str) -> None:
    """Say what saving did: sent for review, a change waiting beside the published version, or
    nothing changed."""
    message = SAVED_MESSAGES[change]
    if change == "changed" and revisions.waiting(saved):
        message = (
            "Change saved: it waits for POST review, and the approved version stays "
            "on the public list meanwhile."
        )
    elif change == "changed" and saved.status == "approved":
        message = "Saved. The approved version stays published; nothing waits for review."
    flash(message, "success" if change != "unchanged" else "info")


def _course_page(course: Course | None):
    provider = _own_provider()
    form, areas = _course_form_for(course)
    if form.validate_on_submit():
        try:
            saved, change = direct.save_course(
                db.session, provider, course, _typed(form, areas), current_user, import_context()
            )
        except Invalid as exc:
            db.session.rollback()
            _show_refusal(form, exc)
        else:
            db.session.commit()
            _flash_saved(saved, change)
            return redirect(url_for("provider.edit_course", course_id=saved.id))
    suggestion = course_suggestion_view(course) if course is not None else None
    decision = provider_courses.decisions_for(db.session, [course])[course.id] if course else None
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template(
        "provider/course_form.html",
        form=form,
        course=course,
        areas=areas,
        suggestion=suggestion,
        decision=decision,
        action_form=ActionForm(formdata=None),
    ), status


@bp.route("/courses/new", methods=["GET", "POST"])
@roles_required("provider")
def new_course():
    """Add one course from the form."""
    return _course_page(None)


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required("provider")
def edit_course(course_id: int):
    """Edit one of the provider's courses; a changed course goes back to review."""
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.categories).selectinload(CourseCategory.category))
    )
    if course is None:
        abort(404)
    check_provider_access(course.provider_id)
    return _course_page(course)


@bp.get("/suggest")
@roles_required("provider")
def suggest():
    """Live suggestion for the course form: the engine's areas and topics with evidence."""
    title = (request.args.get("title") or "").strip()[:500]
    if len(title) < 3:
        return jsonify({"title": title, "areas": [], "topics": [], "segments": []})
    hours = request.args.get("hours") or None
    try:
        number = Decimal(hours) if hours else None
        # NaN, sNaN, 1e999999: no hours at all rather than a crash in the engine
        hours = (
            str(number)
            if number is not None and number.is_finite() and 0 < number <= 1000
            else None
        )
    except ArithmeticError:
        hours = None
    delivery = request.args.get("delivery") or None
    values = {
        "title": title,
        "hours": hours,
        "delivery": delivery,
        "description": (request.args.get("description") or "")[:5000],
    }
    engine = get_engine(db.session, served())
    result = engine.suggest_many([course_input(values)])[0].to_dict()
    view = suggestion_view(result)
    return jsonify(
        {
            "title": title,
            "areas": view["areas"],
            "topics": view["topics"],
            "flags": result.get("flags", []),
            "segments": [{"text": t, "mark": m} for t, m in highlight(title, result)],
        }
    )
