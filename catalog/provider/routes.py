"""Provider pages: dashboard, catalog upload -> column mapping -> preview -> confirm, course form.

Every route checks the role server-side and every object lookup checks the provider (404 for
another provider's ids). Staff may open a catalog preview read-only.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import (
    COURSE_STATUSES,
    CatalogRow,
    CatalogSubmission,
    Course,
    Provider,
)
from catalog.permissions import check_provider_access, roles_required
from catalog.provider import bp
from catalog.provider.forms import (
    ActionForm,
    ProposalForm,
    UploadForm,
    column_map_form,
)
from catalog.provider.presenting import (
    bar_chart,
    highlight,
    suggestion_view,
)
from catalog.security import late_write_lock
from catalog.services import provider_courses
from catalog.services.errors import Invalid
from catalog.services.imports import submissions
from catalog.services.imports.columns import FIELD_LABELS, FIELDS
from catalog.services.imports.files import read_table
from catalog.serving import import_context, upload_deadline
from catalog.uploads import upload_slot

PER_PAGE = 100
COURSES_PER_PAGE = 50
ROW_FILTERS = {
    "all": "All rows",
    "errors": "Rows with errors",
    "new": "New",
    "changed": "Changed",
    "unchanged": "Unchanged",
    "dropped": "Dropped",
}


def _own_provider() -> Provider:
    provider = db.session.get(Provider, current_user.provider_id)
    if provider is None:
        abort(404)
    return provider


def _catalog(catalog_id: int) -> CatalogSubmission:
    catalog = db.session.get(CatalogSubmission, catalog_id)
    if catalog is None:
        abort(404)
    check_provider_access(catalog.provider_id)
    return catalog


def _draft(catalog_id: int) -> CatalogSubmission:
    catalog = _catalog(catalog_id)
    if current_user.role != "provider":
        abort(403, "Only the provider can change its catalog.")
    if catalog.status != "draft":
        flash("This catalog was already imported; upload the file again to change it.", "warning")
        return None
    return catalog


@bp.get("/", strict_slashes=False)  # /review, /provider, /admin answer the page, not 308
@roles_required("provider")
def index():
    """The provider's start page: recent uploads, course counts by status, its courses."""
    provider = _own_provider()
    catalogs = db.session.scalars(
        select(CatalogSubmission)
        .where(CatalogSubmission.provider_id == provider.id)
        .order_by(CatalogSubmission.created_at.desc(), CatalogSubmission.id.desc())
        .limit(20)
    ).all()
    counts = dict(
        db.session.execute(
            select(Course.status, func.count(Course.id))
            .where(Course.provider_id == provider.id)
            .group_by(Course.status)
        ).all()
    )
    status = request.args.get("status", "")
    query = select(Course).where(Course.provider_id == provider.id)
    if status in COURSE_STATUSES:
        query = query.where(Course.status == status)
    page = db.paginate(
        query.order_by(Course.title, Course.id),
        per_page=COURSES_PER_PAGE,
        max_per_page=COURSES_PER_PAGE,
        error_out=False,
    )
    chart = bar_chart([(s.title(), counts.get(s, 0), s) for s in COURSE_STATUSES])
    return render_template(
        "provider/index.html",
        decisions=provider_courses.decisions_for(db.session, page.items),
        provider=provider,
        catalogs=catalogs,
        page=page,
        counts=counts,
        chart=chart,
        status=status,
        statuses=COURSE_STATUSES,
    )


# -- upload -> columns -> preview -> confirm ----------------------------------------------------


@bp.route("/catalogs/new", methods=["GET", "POST"])
@roles_required("provider")
@late_write_lock
@upload_slot("catalog")
def upload():
    """Upload a catalog file; it becomes a draft to check before anything is imported."""
    provider = _own_provider()
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        deadline = upload_deadline()
        try:
            table = read_table(
                upload.read(),
                upload.filename or "catalog",
                max_rows=current_app.config["MAX_CATALOG_ROWS"],
                deadline=deadline,
            )
            catalog = submissions.create_submission(
                db.session,
                provider,
                current_user,
                table,
                import_context(deadline),
                filename=upload.filename or "",
            )
        except Invalid as exc:
            db.session.rollback()
            form.file.errors.append(exc.message)
            return render_template("provider/upload.html", form=form, provider=provider), 422
        db.session.commit()
        if submissions.needs_mapping(catalog):
            flash(
                "We could not tell which columns hold the title and the hours. "
                "Please choose them below.",
                "warning",
            )
            return redirect(url_for("provider.columns", catalog_id=catalog.id))
        return redirect(url_for("provider.preview", catalog_id=catalog.id))
    status = 422 if form.is_submitted() else 200
    return render_template("provider/upload.html", form=form, provider=provider), status


@bp.route("/catalogs/<int:catalog_id>/columns", methods=["GET", "POST"])
@roles_required("provider")
@late_write_lock
def columns(catalog_id: int):
    """Choose which columns hold which field when the headers did not say."""
    catalog = _draft(catalog_id)
    if catalog is None:
        return redirect(url_for("provider.preview", catalog_id=catalog_id))
    form = column_map_form(catalog.headers, catalog.column_map or {})()
    sample = db.session.scalars(
        select(CatalogRow.raw)
        .where(CatalogRow.catalog_id == catalog.id)
        .order_by(CatalogRow.row_number)
        .limit(3)
    ).all()
    if form.validate_on_submit():
        chosen = {}
        for name in FIELDS:
            value = getattr(form, name).data
            if value not in ("", None):
                chosen[name] = int(value)
        try:
            submissions.apply_column_map(db.session, catalog, chosen, import_context())
        except Invalid as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            return redirect(url_for("provider.preview", catalog_id=catalog.id))
    return render_template(
        "provider/columns.html",
        catalog=catalog,
        form=form,
        sample=sample,
        fields=FIELDS,
        labels=FIELD_LABELS,
    )


def _existing_courses(rows) -> dict[int, Course]:
    """The courses the page's rows would change, by id."""
    ids = [r.course_id for r in rows if r.course_id]
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(ids)))}


def _counts_chart(counts: dict, missing_count: int):
    """The preview's bar chart of the draft's rows by kind, and the courses it misses."""
    return bar_chart(
        [
            ("New", counts["new"], "new"),
            ("Changed", counts["changed"], "changed"),
            ("Unchanged", counts["unchanged"], "unchanged"),
            ("With errors", counts["errors"], "errors"),
            ("Dropped", counts["dropped"], "dropped"),
            ("Missing from file", missing_count, "missing"),
        ]
    )


@bp.get("/catalogs/<int:catalog_id>")
@roles_required("provider", "staff")
def preview(catalog_id: int):
    """A draft's rows (new, changed, unchanged, with errors, dropped), the courses it misses, and
    the confirm form."""
    catalog = _catalog(catalog_id)
    if catalog.status == "draft" and submissions.needs_mapping(catalog):
        if current_user.role == "provider":
            return redirect(url_for("provider.columns", catalog_id=catalog.id))
    show = request.args.get("show", "all")
    show = show if show in ROW_FILTERS else "all"
    counts = submissions.row_counts(db.session, catalog.id)
    page = db.paginate(
        submissions.rows_query(catalog.id, show),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    existing = _existing_courses(page.items)
    missing_count, missing = submissions.missing_from_file(db.session, catalog)
    chart = _counts_chart(counts, missing_count)
    rows = [
        (r, suggestion_view(r.suggestion), highlight(r.data.get("title") or "", r.suggestion))
        for r in page.items
    ]
    return render_template(
        "provider/preview.html",
        catalog=catalog,
        page=page,
        rows=rows,
        counts=counts,
        show=show,
        filters=ROW_FILTERS,
        chart=chart,
        existing=existing,
        missing=missing,
        missing_count=missing_count,
        can_edit=current_user.role == "provider" and catalog.status == "draft",
        action_form=ActionForm(),
        blocking=counts["errors"],
        proposal_form=ProposalForm(),
    )


@bp.post("/catalogs/<int:catalog_id>/rows")
@roles_required("provider")
def drop_rows(catalog_id: int):
    """Drop or restore rows of a draft (the chosen ones, or every row with errors)."""
    catalog = _draft(catalog_id)
    form = ActionForm()
    if catalog is not None and form.validate_on_submit():
        action = request.form.get("action")
        if action == "drop-errors":
            ids = db.session.scalars(
                select(CatalogRow.id).where(
                    CatalogRow.catalog_id == catalog.id,
                    CatalogRow.error_count > 0,
                    CatalogRow.dropped.is_(False),
                )
            ).all()
        else:
            ids = [int(x) for x in request.form.getlist("row") if x.isdigit()]
        n = submissions.set_dropped(db.session, catalog, ids, action != "restore", import_context())
        db.session.commit()
        flash(f"{n} row(s) {'restored' if action == 'restore' else 'dropped'}.", "success")
    return redirect(
        url_for("provider.preview", catalog_id=catalog_id, show=request.form.get("show", "all"))
    )


@bp.post("/catalogs/<int:catalog_id>/rows/<int:row_id>/proposal")
@roles_required("provider")
def proposal(catalog_id: int, row_id: int):
    """Save the provider's proposed area hours and topics for one row."""
    catalog = _draft(catalog_id)
    form = ProposalForm()
    if catalog is not None and form.validate_on_submit():
        row = db.session.get(CatalogRow, row_id)
        if row is None or row.catalog_id != catalog.id:
            abort(404)
        submissions.set_proposal(
            db.session,
            catalog,
            row,
            form.area_hours.data or "",
            form.topics.data or "",
            import_context(),
        )
        db.session.commit()
        flash(f"Row {row.row_number}: your proposed categories were saved.", "success")
    elif catalog is not None:
        flash(
            "The proposal was not saved: "
            + "; ".join(e for errs in form.errors.values() for e in errs),
            "error",
        )
    return redirect(
        url_for(
            "provider.preview",
            catalog_id=catalog_id,
            show=request.form.get("show", "all"),
            page=request.form.get("page"),
        )
    )


@bp.post("/catalogs/<int:catalog_id>/confirm")
@roles_required("provider")
def confirm(catalog_id: int):
    """Import a draft's kept rows in one transaction (refused while a kept row has errors)."""
    catalog = _catalog(catalog_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    if catalog.status != "draft":
        flash("This catalog was already imported; nothing changed.", "info")
        return redirect(url_for("provider.preview", catalog_id=catalog.id))
    try:
        summary = submissions.confirm_submission(
            db.session, catalog, current_user, import_context()
        )
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("provider.preview", catalog_id=catalog_id, show="errors"))
    db.session.commit()
    kept = summary.get("kept_published", 0)
    flash(
        f"Imported: {summary['created']} new, {summary['updated']} changed (sent to review), "
        f"{summary['unchanged']} unchanged."
        + (
            f" {kept} approved course(s) stay published while POST reviews the change."
            if kept
            else ""
        ),
        "success",
    )
    return redirect(url_for("provider.preview", catalog_id=catalog.id))


@bp.post("/catalogs/<int:catalog_id>/discard")
@roles_required("provider")
def discard(catalog_id: int):
    """Discard a draft: nothing of it is imported."""
    catalog = _draft(catalog_id)
    if catalog is not None and ActionForm().validate_on_submit():
        submissions.discard(db.session, catalog, current_user)
        db.session.commit()
        flash("The upload was discarded; nothing was imported.", "info")
    return redirect(url_for("provider.index"))
